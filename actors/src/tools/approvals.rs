//! Commands waiting for an owner's word. When `exec` meets a command its allowlist does not
//! cover and `tools.exec.ask` says to ask, the command is parked here under a short id and
//! the model tells the chat; an owner answers `/approve <id> allow-once|allow-always|deny`
//! (handled by the router before any model sees the message). `allow-always` adds the
//! command's program to the agent's allowlist until the gateway restarts (add it to
//! `tools.exec.safeBins` to keep it).
//!
//! dingclaw does not hold the turn open while it waits (OpenClaw does): the answer to the
//! approval is the command's output, posted in the chat by the gateway.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::process::Launch;

/// How long an approval request stays open.
pub const APPROVAL_TTL: Duration = Duration::from_secs(10 * 60);

/// A command waiting for approval.
#[derive(Clone, Debug)]
pub struct PendingApproval {
    /// The short id owners answer with (`/approve <id> ...`).
    pub id: String,
    /// The command, as it would run.
    pub launch: Launch,
    /// The program `allow-always` adds to the allowlist (a simple command's first word).
    pub program: Option<String>,
    /// The session that asked, so the answer goes back to the same chat.
    pub session_key: String,
    /// When it was asked, for expiry.
    pub asked: Instant,
}

/// An owner's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Run it this once.
    AllowOnce,
    /// Run it, and allow this program for the agent from now on.
    AllowAlways,
    /// Do not run it.
    Deny,
}

impl Decision {
    /// Reads an owner's answer (`allow-once`, `allow-always`, `deny` and their short forms).
    pub fn parse(s: &str) -> Option<Decision> {
        match s.trim().to_ascii_lowercase().as_str() {
            "allow-once" | "once" | "allow" | "yes" | "y" => Some(Decision::AllowOnce),
            "allow-always" | "always" => Some(Decision::AllowAlways),
            "deny" | "no" | "n" => Some(Decision::Deny),
            _ => None,
        }
    }
}

/// Open requests, and programs approved for good (per agent).
#[derive(Default)]
pub struct Approvals {
    pending: DashMap<String, PendingApproval>,
    always: DashMap<String, BTreeSet<String>>,
}

impl Approvals {
    /// Parks a command; returns its id.
    pub fn request(&self, launch: Launch, program: Option<String>, session_key: &str) -> String {
        self.pending.retain(|_, p| p.asked.elapsed() < APPROVAL_TTL);
        let id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        self.pending.insert(
            id.clone(),
            PendingApproval {
                id: id.clone(),
                launch,
                program,
                session_key: session_key.to_owned(),
                asked: Instant::now(),
            },
        );
        id
    }

    /// Takes an open request (a request older than `APPROVAL_TTL` is gone).
    pub fn take(&self, id: &str) -> Option<PendingApproval> {
        self.pending
            .remove(id.trim())
            .map(|(_, p)| p)
            .filter(|p| p.asked.elapsed() < APPROVAL_TTL)
    }

    /// Requests still open.
    pub fn open(&self) -> Vec<PendingApproval> {
        self.pending
            .iter()
            .filter(|p| p.asked.elapsed() < APPROVAL_TTL)
            .map(|p| p.clone())
            .collect()
    }

    /// Allows `program` for `agent` from now on (until the gateway restarts).
    pub fn allow_always(&self, agent: &str, program: &str) {
        self.always
            .entry(agent.to_owned())
            .or_default()
            .insert(program.to_owned());
    }

    /// Did an owner allow `program` for `agent` for good?
    pub fn is_always(&self, agent: &str, program: &str) -> bool {
        self.always.get(agent).is_some_and(|s| s.contains(program))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_taken_once_and_decisions_parse() {
        let a = Approvals::default();
        let launch = Launch {
            agent: "a".into(),
            command: "ls".into(),
            argv: vec!["ls".into()],
            workdir: "/tmp".into(),
            env: Vec::new(),
            timeout: Duration::from_secs(1),
        };
        let id = a.request(launch, Some("ls".into()), "k");
        assert_eq!(a.open().len(), 1);
        assert!(a.take(&id).is_some());
        assert!(a.take(&id).is_none());
        a.allow_always("a", "ls");
        assert!(a.is_always("a", "ls") && !a.is_always("b", "ls"));
        assert_eq!(Decision::parse("Allow-Once"), Some(Decision::AllowOnce));
        assert_eq!(Decision::parse("always"), Some(Decision::AllowAlways));
        assert_eq!(Decision::parse("deny"), Some(Decision::Deny));
        assert_eq!(Decision::parse("maybe"), None);
    }
}
