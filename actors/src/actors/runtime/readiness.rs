//! Whether a started runtime is ready: `Runtime::start` returns as soon as the actors run,
//! before DingTalk has said yes or no to any account, so an embedder (and `/ready`) waits
//! for every enabled account to be connected, or failing for a reason it can state.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::Runtime;

/// One account's part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountReadiness {
    /// The account's id in the config.
    pub account: String,
    /// Its Stream connection is up.
    pub connected: bool,
    /// Why it is not connected (DingTalk's refusal, the network), once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every enabled account's part; `settled` when waiting longer would not tell more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// Every account is connected or has DingTalk's answer (a refusal); nothing is still trying for
    /// the first time.
    pub settled: bool,
    /// Each enabled account, by id.
    pub accounts: Vec<AccountReadiness>,
}

impl Readiness {
    /// Every account connected.
    pub fn all_connected(&self) -> bool {
        self.accounts.iter().all(|a| a.connected)
    }
}

impl Runtime {
    /// Waits (at most `timeout`) until every enabled account is connected or has failed with
    /// its reason, and says which; after `timeout` it answers with what is known then.
    pub async fn ready(&self, timeout: Duration) -> Readiness {
        let start = Instant::now();
        loop {
            let expected = self.config().channels.dingtalk.active_accounts().count();
            let states = self.account_states().await;
            let settled = states.len() >= expected && states.iter().all(|s| s.stream.settled());
            if settled || start.elapsed() >= timeout {
                return Readiness {
                    settled,
                    accounts: states
                        .into_iter()
                        .map(|s| AccountReadiness {
                            connected: matches!(
                                s.stream.status,
                                crate::dingtalk::StreamStatus::Connected
                            ),
                            error: s.stream.last_error.filter(|_| {
                                !matches!(s.stream.status, crate::dingtalk::StreamStatus::Connected)
                            }),
                            account: s.stream.account,
                        })
                        .collect(),
                };
            }
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
