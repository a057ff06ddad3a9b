//! Routing rules as plain functions: which agent answers a message and which session it
//! belongs to. No actors and no I/O, so the rules can be tested with tables and benchmarked
//! alone.
//!
//! - `bindings`: OpenClaw's tiered binding precedence, as an index.
//! - `session_key`: the session key from the account's scope flags and `session` settings.
//! - `policy`: who may talk to a bot at all.

mod bindings;
mod policy;
mod session_key;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Serialize;

pub use bindings::{AgentMatch, BindingIndex, MatchedBy};
pub use policy::{Refusal, admit, mention_ok};
pub use session_key::{KeyScope, SessionKey, session_key};

use crate::config::{
    Config, ConversationScope, DmScope, PeerKind, SessionConfig, is_dingtalk_channel,
    normalize_account_id,
};

/// Direct message or group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatType {
    /// A private chat with the bot.
    Direct,
    /// A group chat.
    Group,
}

impl ChatType {
    /// `direct` or `group`, as in session keys.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatType::Direct => "direct",
            ChatType::Group => "group",
        }
    }
}

/// What routing needs to know about a message.
#[derive(Clone, Copy, Debug)]
pub struct Inbound<'a> {
    /// Channel id, e.g. `dingtalk-connector`.
    pub channel: &'a str,
    /// Account id as configured (normalised here).
    pub account: &'a str,
    /// A private chat or a group.
    pub chat: ChatType,
    /// DingTalk `conversationId` (case-sensitive).
    pub conversation_id: &'a str,
    /// `senderStaffId`, else `senderId` (case-sensitive).
    pub sender_id: &'a str,
}

/// The routing decision for one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    /// The agent that answers.
    pub agent_id: String,
    /// How it was chosen.
    pub matched_by: MatchedBy,
    /// The session the message belongs to.
    pub session_key: SessionKey,
    /// Position of the deciding binding in `bindings`; `None` for the default agent.
    #[serde(skip)]
    pub binding_index: Option<usize>,
}

/// The routing rules of one config, prepared for fast decisions.
#[derive(Debug)]
pub struct Routes {
    index: BindingIndex,
    default_agent: String,
    session: SessionConfig,
    scopes: HashMap<String, ConversationScope>,
}

/// The DM scope a channel uses when `session.dmScope` is unset. The DingTalk connector
/// defaults to `per-channel-peer`; OpenClaw core's `main`, which the other two plugins get,
/// would put every user's DMs in one session, so dingclaw keeps `per-channel-peer` for them
/// too (a load warning says so; `session.dmScope: "main"` restores it).
pub fn default_dm_scope(channel: &str) -> DmScope {
    if is_dingtalk_channel(channel) {
        DmScope::PerChannelPeer
    } else {
        DmScope::Main
    }
}

impl Routes {
    /// The rules of `config`: its bindings, scopes and default agent.
    pub fn new(config: &Config) -> Self {
        Self {
            index: BindingIndex::new(&config.bindings),
            default_agent: config.agents.default_agent.clone(),
            session: config.session.clone(),
            scopes: config
                .channels
                .dingtalk
                .accounts
                .values()
                .map(|a| (a.id.clone(), a.scope))
                .collect(),
        }
    }

    /// The agent and session for a message.
    pub fn route(&self, inbound: &Inbound<'_>) -> Route {
        let channel = lower(inbound.channel.trim());
        let account = normalize_account_id(inbound.account);
        let (peer_kind, peer_id) = match inbound.chat {
            ChatType::Direct => (PeerKind::Direct, inbound.sender_id.trim()),
            ChatType::Group => (PeerKind::Group, inbound.conversation_id.trim()),
        };
        let m = self.index.resolve(&channel, &account, peer_kind, peer_id);
        let agent_id = m
            .binding
            .map(|b| b.agent_id.as_str())
            .unwrap_or(&self.default_agent);
        let scope = KeyScope {
            conversation: self.scopes.get(&account).copied().unwrap_or_default(),
            dm_scope: m
                .binding
                .and_then(|b| b.dm_scope)
                .or(self.session.dm_scope)
                .unwrap_or_else(|| default_dm_scope(&channel)),
            group_scope: m
                .binding
                .and_then(|b| b.group_scope)
                .unwrap_or(self.session.group_scope),
            main_key: self.session.main_key(),
            identity_links: &self.session.identity_links,
        };
        let input = Inbound {
            channel: &channel,
            account: &account,
            chat: inbound.chat,
            conversation_id: inbound.conversation_id,
            sender_id: inbound.sender_id,
        };
        Route {
            agent_id: agent_id.to_owned(),
            matched_by: m.matched_by,
            session_key: session_key(agent_id, &input, &scope),
            binding_index: m.binding.map(|b| b.index),
        }
    }
}

fn lower(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_uppercase) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}
