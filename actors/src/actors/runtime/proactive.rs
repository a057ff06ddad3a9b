//! Messages sent without being asked: by the agent's `message` tool, by an operator
//! (`dingclaw message send`, `POST /api/messages`). A target is `user:<staffId>` or
//! `group:<conversationId>` (a bare `cid…` is a group, anything else a user); the send goes
//! through the robot OpenAPI (`oToMessages/batchSend`, `groupMessages/send`), since there is
//! no sessionWebhook to answer through.

use std::sync::Arc;

use crate::actors::router::ReplyTo;
use crate::dingtalk::{DingTalkError, OutboundMessage, ReplyTarget};
use crate::routing::ChatType;

use super::Runtime;

/// Where a proactive message goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A private chat with this staff id.
    User(String),
    /// A group, by its conversation id.
    Group(String),
}

/// Why a proactive message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum ProactiveError {
    /// The target is neither `user:<staffId>` nor `group:<conversationId>`.
    #[error("\"{0}\" is not a target: write user:<staffId> or group:<conversationId>")]
    BadTarget(String),
    /// No account of that id runs here.
    #[error("there is no DingTalk account \"{0}\" on this gateway")]
    NoAccount(String),
    /// The account has never talked with the target: a stranger in a group must not make the
    /// bot write to anyone in the company.
    #[error(
        "account {account} has never talked with {target}; the bot sends only to people and groups it knows"
    )]
    Unknown {
        /// The account that would send.
        account: String,
        /// The target it does not know.
        target: String,
    },
    /// Nothing to send.
    #[error("the message is empty")]
    Empty,
    /// DingTalk refused or could not be reached.
    #[error(transparent)]
    Send(#[from] DingTalkError),
}

impl Target {
    /// Reads `user:<staffId>` or `group:<conversationId>`.
    pub fn parse(text: &str) -> Result<Target, ProactiveError> {
        let t = text.trim();
        let target = if let Some(id) = t.strip_prefix("user:") {
            Target::User(id.trim().to_owned())
        } else if let Some(id) = t.strip_prefix("group:") {
            Target::Group(id.trim().to_owned())
        } else if crate::config::is_conversation_id(t) {
            Target::Group(t.to_owned())
        } else {
            Target::User(t.to_owned())
        };
        match &target {
            Target::User(id) | Target::Group(id) if id.is_empty() || id.contains(':') => {
                Err(ProactiveError::BadTarget(t.to_owned()))
            }
            _ => Ok(target),
        }
    }

    fn reply_target(&self) -> ReplyTarget {
        let (chat, conversation_id, staff) = match self {
            Target::User(id) => (ChatType::Direct, String::new(), Some(id.clone())),
            Target::Group(id) => (ChatType::Group, id.clone(), None),
        };
        ReplyTarget {
            chat,
            conversation_id,
            sender_staff_id: staff,
            session_webhook: String::new(),
            webhook_expires_at_ms: None,
            mentions: Vec::new(),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::User(id) => write!(f, "user:{id}"),
            Target::Group(id) => write!(f, "group:{id}"),
        }
    }
}

impl Runtime {
    /// Sends `message` from `account` to `target`. `known_only`: refuse a person or group
    /// the account has no session with (what the agent's tool may do); operators may send
    /// anywhere the app may.
    pub async fn send_to(
        &self,
        account: &str,
        target: &Target,
        message: OutboundMessage,
        known_only: bool,
    ) -> Result<(), ProactiveError> {
        if message.text().trim().is_empty() {
            return Err(ProactiveError::Empty);
        }
        if self.config().account(account).is_none() {
            return Err(ProactiveError::NoAccount(account.to_owned()));
        }
        if known_only {
            let (group, id) = match target {
                Target::User(id) => (false, id),
                Target::Group(id) => (true, id),
            };
            let known = self
                .store
                .knows_peer(account, group, id)
                .await
                .unwrap_or(false);
            if !known {
                return Err(ProactiveError::Unknown {
                    account: account.to_owned(),
                    target: target.to_string(),
                });
            }
        }
        let reply = ReplyTo::DingTalk {
            account: Arc::from(account),
            target: target.reply_target(),
            lease: None,
        };
        self.send_reply(&reply, message).await?;
        tracing::info!(account, %target, "proactive message sent");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_or_without_a_prefix() {
        assert_eq!(
            Target::parse("user:manager4521").unwrap(),
            Target::User("manager4521".into())
        );
        assert_eq!(
            Target::parse("group:cidA1==").unwrap(),
            Target::Group("cidA1==".into())
        );
        assert_eq!(
            Target::parse(" cidB2== ").unwrap(),
            Target::Group("cidB2==".into())
        );
        assert_eq!(
            Target::parse("alice").unwrap(),
            Target::User("alice".into())
        );
        assert!(Target::parse("user:").is_err());
        assert!(Target::parse("email:a@b.c").is_err());
    }
}
