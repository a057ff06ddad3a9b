//! Which session a message belongs to: the session key.
//!
//! The rules are the DingTalk connector's (docs/dingtalk-protocol.md 7.2.1) with two
//! deliberate differences, both documented in the README:
//! - the flags mean what their names promise: `sharedMemoryAcrossConversations` gives one
//!   session per account (`...:shared:<account>`), and `separateSessionByConversation: false`
//!   gives one session per sender across that account's DMs *and* groups (`...:sender:<id>`);
//! - DingTalk ids keep their case. OpenClaw lowercases them, which can merge two groups whose
//!   case-sensitive ids differ only in case (docs/openclaw-routing.md 3.7).
//!
//! Agent and account ids are normalised (lower case) as OpenClaw does.

use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::config::{ConversationScope, DmScope, GroupScope, GroupSessionScope};

use super::{ChatType, Inbound};

/// A session key such as `agent:ding-bot1:dingtalk-connector:group:cidXyZ==`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey(Arc<str>);

impl SessionKey {
    /// A key as it is (already built and normalised).
    pub fn new(key: impl Into<Arc<str>>) -> Self {
        Self(key.into())
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The agent id, the second segment of `agent:<id>:...`.
    pub fn agent_id(&self) -> Option<&str> {
        self.0.strip_prefix("agent:")?.split(':').next()
    }
}

impl fmt::Display for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionKey({})", self.0)
    }
}

impl Serialize for SessionKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Everything that shapes a session key besides the message itself, already resolved from the
/// account's flags, the binding's overrides and the `session` section.
#[derive(Clone, Copy, Debug)]
pub struct KeyScope<'a> {
    /// The DingTalk connector's group and sharing flags (`docs/dingtalk-protocol.md` 7.2.1).
    pub conversation: ConversationScope,
    /// `session.dmScope`, or the binding's.
    pub dm_scope: DmScope,
    /// `session.groupScope`, or the binding's.
    pub group_scope: GroupScope,
    /// `main`, or `global` under `session.scope: "global"`.
    pub main_key: &'a str,
    /// Canonical name to ids (`session.identityLinks`), in config order.
    pub identity_links: &'a [(String, Vec<String>)],
}

/// Derives the session key of a message answered by `agent` (a normalised agent id). The
/// message's channel must be lower-case and its account id normalised.
pub fn session_key(agent: &str, input: &Inbound<'_>, scope: &KeyScope<'_>) -> SessionKey {
    let ch = if input.channel.is_empty() {
        "unknown"
    } else {
        input.channel
    };
    let sender = input.sender_id.trim();
    let main = || SessionKey::new(format!("agent:{agent}:{}", scope.main_key));

    if scope.conversation.shared_memory_across_conversations {
        return SessionKey::new(format!("agent:{agent}:{ch}:shared:{}", input.account));
    }
    if !scope.conversation.separate_session_by_conversation {
        if sender.is_empty() {
            return main();
        }
        return SessionKey::new(format!("agent:{agent}:{ch}:sender:{sender}"));
    }
    match input.chat {
        ChatType::Direct => {
            let linked = match scope.dm_scope {
                DmScope::Main => None,
                _ => linked_identity(scope.identity_links, ch, sender),
            };
            let peer = linked.as_deref().unwrap_or(sender);
            if peer.is_empty() {
                return main();
            }
            match scope.dm_scope {
                DmScope::Main => main(),
                DmScope::PerPeer => SessionKey::new(format!("agent:{agent}:direct:{peer}")),
                DmScope::PerChannelPeer => {
                    SessionKey::new(format!("agent:{agent}:{ch}:direct:{peer}"))
                }
                DmScope::PerAccountChannelPeer => SessionKey::new(format!(
                    "agent:{agent}:{ch}:{}:direct:{peer}",
                    input.account
                )),
            }
        }
        ChatType::Group => {
            if scope.group_scope == GroupScope::Main {
                return main();
            }
            let cid = input.conversation_id.trim();
            // The connector falls back to the sender when a group id is missing.
            let group = match (cid.is_empty(), sender.is_empty()) {
                (false, _) => cid,
                (true, false) => sender,
                (true, true) => "unknown",
            };
            match scope.conversation.group_session_scope {
                GroupSessionScope::Group => {
                    SessionKey::new(format!("agent:{agent}:{ch}:group:{group}"))
                }
                GroupSessionScope::GroupSender => {
                    SessionKey::new(format!("agent:{agent}:{ch}:group:{group}:{sender}"))
                }
            }
        }
    }
}

/// The canonical name `session.identityLinks` gives this peer, lower-cased as OpenClaw does
/// (docs/openclaw-routing.md 3.3): a listed id matches the bare peer id or
/// `<channel>:<peer>`, compared case-insensitively.
fn linked_identity(links: &[(String, Vec<String>)], channel: &str, peer: &str) -> Option<String> {
    if links.is_empty() || peer.is_empty() {
        return None;
    }
    let bare = peer.to_lowercase();
    let scoped = format!("{channel}:{peer}").to_lowercase();
    links
        .iter()
        .find(|(_, ids)| {
            ids.iter().any(|id| {
                let id = id.trim().to_lowercase();
                !id.is_empty() && (id == bare || id == scoped)
            })
        })
        .map(|(canonical, _)| canonical.to_lowercase())
}
