//! `dmPolicy: "pairing"` (OpenClaw's pairing): a stranger who writes to the bot privately
//! gets a code instead of an answer; an operator approves or denies the code
//! (`dingclaw pairing approve <code>`, the operator API); approved people are remembered in
//! the store and talk to the bot from then on. Kept in memory for the router's quick check,
//! written through to the store, read back at start.

use dashmap::DashMap;
use serde::{Deserialize, Serialize};

use crate::store::WriteOp;

use super::Runtime;
use super::proactive::Target;

/// Where a pairing request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PairingStatus {
    /// Waiting for an owner.
    Pending,
    /// The sender may talk to the bot.
    Approved,
    /// Refused; the sender is told once.
    Denied,
}

/// One person's pairing with one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingRecord {
    /// The account (bot) the sender wrote to.
    pub account: String,
    /// The sender's id (`senderStaffId`, else `senderId`).
    pub sender: String,
    /// Their display name, for the owner.
    pub name: String,
    /// The code the sender was given, which an owner approves.
    pub code: String,
    /// Where it stands.
    pub status: PairingStatus,
    /// When it was asked (ms since the epoch).
    pub requested_ms: i64,
    /// When an owner decided (ms since the epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_ms: Option<i64>,
}

/// Every pairing, by `<account>/<sender>`.
#[derive(Debug, Default)]
pub struct Pairings(DashMap<String, PairingRecord>);

fn key(account: &str, sender: &str) -> String {
    format!("{account}/{sender}")
}

/// Eight characters people can read out: no 0/O or 1/I.
fn new_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(8)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

impl Pairings {
    /// Fills from the store's records (JSON); a row that does not parse is skipped.
    pub fn load(&self, rows: &[String]) {
        for row in rows {
            match serde_json::from_str::<PairingRecord>(row) {
                Ok(r) => {
                    self.0.insert(key(&r.account, &r.sender), r);
                }
                Err(e) => tracing::warn!(error = %e, "a pairing record could not be read"),
            }
        }
    }

    /// Where `sender`'s request to `account` stands, if they made one.
    pub fn status(&self, account: &str, sender: &str) -> Option<PairingStatus> {
        self.0.get(&key(account, sender)).map(|r| r.status)
    }

    /// Every request, oldest first.
    pub fn list(&self) -> Vec<PairingRecord> {
        let mut all: Vec<PairingRecord> = self.0.iter().map(|r| r.value().clone()).collect();
        all.sort_by_key(|r| r.requested_ms);
        all
    }
}

impl Runtime {
    /// The record for a stranger's message: the pending request (made now, with a new code,
    /// if there was none), or how an operator decided.
    pub fn pairing_request(&self, account: &str, sender: &str, name: &str) -> PairingRecord {
        let k = key(account, sender);
        if let Some(r) = self.pairings.0.get(&k) {
            return r.clone();
        }
        let record = PairingRecord {
            account: account.to_owned(),
            sender: sender.to_owned(),
            name: name.to_owned(),
            code: new_code(),
            status: PairingStatus::Pending,
            requested_ms: self.clock.now_ms(),
            decided_ms: None,
        };
        self.pairings.0.insert(k, record.clone());
        self.write_pairing(&record);
        tracing::info!(account, sender, code = %record.code, "pairing requested");
        record
    }

    /// Approves or denies a pending (or earlier decided) code; the approved person is told.
    pub fn pairing_decide(&self, code: &str, approve: bool) -> Option<PairingRecord> {
        let code = code.trim().to_ascii_uppercase();
        let mut entry = self.pairings.0.iter_mut().find(|r| r.code == code)?;
        entry.status = if approve {
            PairingStatus::Approved
        } else {
            PairingStatus::Denied
        };
        entry.decided_ms = Some(self.clock.now_ms());
        let record = entry.clone();
        drop(entry);
        self.write_pairing(&record);
        tracing::info!(account = %record.account, sender = %record.sender, approve, "pairing decided");
        if approve && let Some(rt) = self.me() {
            let (account, sender) = (record.account.clone(), record.sender.clone());
            actix_rt::spawn(async move {
                let text = "✅ 管理员已批准，现在可以和我对话了。You are approved: go ahead and say hello.";
                if let Err(e) = rt
                    .send_to(
                        &account,
                        &Target::User(sender),
                        crate::dingtalk::OutboundMessage::Text(text.to_owned()),
                        false,
                    )
                    .await
                {
                    tracing::warn!(error = %e, "could not tell an approved person");
                }
            });
        }
        Some(record)
    }

    fn write_pairing(&self, record: &PairingRecord) {
        let json = serde_json::to_string(record).unwrap_or_default();
        self.store.write_now(vec![WriteOp::Pairing {
            key: key(&record.account, &record.sender),
            json,
        }]);
    }
}

/// What a stranger is told.
pub fn pairing_reply(record: &PairingRecord) -> String {
    match record.status {
        PairingStatus::Denied => {
            "抱歉，您暂无权限与此机器人对话。Sorry, you are not allowed to chat with this bot."
                .to_owned()
        }
        _ => format!(
            "🔐 使用此机器人需要管理员批准。请把配对码 {code} 发给管理员。\nThis bot needs its operator's approval: send them the pairing code {code} (dingclaw pairing approve {code}).",
            code = record.code
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_records_load() {
        let code = new_code();
        assert_eq!(code.len(), 8);
        assert!(
            code.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        assert!(!code.contains(['0', 'O', '1', 'I']));
        let p = Pairings::default();
        let r = PairingRecord {
            account: "bot1".into(),
            sender: "alice".into(),
            name: "Alice".into(),
            code,
            status: PairingStatus::Approved,
            requested_ms: 1,
            decided_ms: Some(2),
        };
        p.load(&[serde_json::to_string(&r).unwrap(), "{bad".into()]);
        assert_eq!(p.status("bot1", "alice"), Some(PairingStatus::Approved));
        assert_eq!(p.status("bot2", "alice"), None);
        assert_eq!(p.list(), vec![r]);
    }
}
