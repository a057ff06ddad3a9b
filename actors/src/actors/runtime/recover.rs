//! The inbound journal at start and while running: what an earlier process accepted and did
//! not answer is answered now, in arrival order, before any account connects (so a new
//! message of the same conversation cannot overtake it); each account's duplicate filter
//! learns the msgIds already journaled, so DingTalk's redeliveries of them are dropped; and
//! done rows are pruned once no redelivery can come.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::config::DingTalkAccount;
use crate::dingtalk::api::now_ms;
use crate::dingtalk::{BotMessage, BotMessageReceived};
use crate::store::{JournalEntry, WriteOp};

use super::super::router::Inbound;
use super::Runtime;

/// Done rows are kept at least this long: DingTalk redelivers within about a minute
/// (docs/dingtalk-protocol.md 2.6); an account's `dedupTtlMs` can ask for longer.
const KEEP_DONE: Duration = Duration::from_secs(15 * 60);

/// How often done rows past `KEEP_DONE` are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// How long done rows are kept for this config.
fn keep_done(accounts: &[Arc<DingTalkAccount>]) -> Duration {
    accounts
        .iter()
        .map(|a| a.stream.dedup_ttl)
        .fold(KEEP_DONE, Duration::max)
}

/// Answers the open journal rows, then starts the accounts with their duplicate filters
/// seeded, then prunes the journal now and then.
pub(super) async fn recover_and_start(rt: Arc<Runtime>, accounts: Vec<Arc<DingTalkAccount>>) {
    let keep = keep_done(&accounts);
    // Approved people must be known before the first message is admitted.
    match rt.store.pairings().await {
        Ok(rows) => rt.pairings.load(&rows),
        Err(e) => tracing::error!(error = %e, "could not read the pairing records"),
    }
    let mut seen: HashMap<String, Vec<(String, Duration)>> = HashMap::new();
    let clustered = rt.cluster().is_some();
    if rt.config().runtime.journal {
        // In a cluster, open rows belong to sessions; the ClusterActor's sweep replays them.
        if !clustered {
            redo_open(&rt).await;
        }
        let now = now_ms();
        match rt.store.inbound_ids(now - keep.as_millis() as i64).await {
            Ok(ids) => {
                for id in ids {
                    let age = Duration::from_millis((now - id.received_ms).max(0) as u64);
                    seen.entry(id.account).or_default().push((id.msg_id, age));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "could not read the inbound journal; redeliveries of earlier messages may be answered again")
            }
        }
        let weak = Arc::downgrade(&rt);
        actix_rt::spawn(prune(weak, keep));
    }
    for account in accounts {
        let seen = seen.remove(&account.id).unwrap_or_default();
        rt.start_account(account, seen);
    }
    if clustered {
        rt.start_cluster();
    }
}

/// Hands every open journal row to the router, in arrival order.
async fn redo_open(rt: &Arc<Runtime>) {
    let open = match rt.store.open_inbound().await {
        Ok(open) => open,
        Err(e) => {
            tracing::error!(error = %e, "could not read the inbound journal; messages a crash interrupted will not be answered");
            return;
        }
    };
    if open.is_empty() {
        return;
    }
    let Some(router) = rt.router() else {
        return;
    };
    tracing::info!(
        messages = open.len(),
        "answering messages an earlier run accepted and did not answer"
    );
    crate::telemetry::journal_recovered(open.len() as u64);
    rt.counters
        .recovered
        .fetch_add(open.len() as u64, std::sync::atomic::Ordering::Relaxed);
    let config = rt.config();
    for row in open {
        match received(&row) {
            Some(msg) => {
                // An account removed since still answers under the connector's channel id.
                let channel = config
                    .account(&row.account)
                    .map_or(crate::config::DINGTALK_CHANNEL, |a| a.channel());
                router.do_send(Inbound::from_dingtalk(&msg, channel))
            }
            None => {
                tracing::warn!(account = %row.account, msg_id = %row.msg_id, "a journaled message cannot be read; marking it done");
                rt.store.write_now(vec![WriteOp::InboundDone {
                    account: row.account,
                    msg_id: row.msg_id,
                }]);
            }
        }
    }
}

/// A journal row as the message it was when it arrived (its ACK long sent).
pub(crate) fn received(row: &JournalEntry) -> Option<BotMessageReceived> {
    let message = BotMessage::parse(&row.payload).ok()?;
    Some(BotMessageReceived {
        account: Arc::from(row.account.as_str()),
        delivery_id: format!("journal-{}", row.seq),
        message: Arc::new(message),
        raw: Arc::clone(&row.payload),
        received_at: Instant::now(),
        ack: None,
    })
}

async fn prune(rt: Weak<Runtime>, keep: Duration) {
    loop {
        actix_rt::time::sleep(PRUNE_EVERY).await;
        let Some(rt) = rt.upgrade() else {
            return;
        };
        rt.store.write(vec![WriteOp::PruneInbound {
            done_before_ms: now_ms() - keep.as_millis() as i64,
        }]);
    }
}
