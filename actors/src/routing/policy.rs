//! Who may talk to a bot: `dmPolicy`/`allowFrom` for direct messages and
//! `groupPolicy`/`groupAllowFrom` for groups (reference/dingtalk-protocol.md 7.2). A refused
//! sender gets one short, polite reply and nothing else reaches an agent.

use crate::config::{DingTalkAccount, DmPolicy, GroupPolicy};

use super::ChatType;

/// Why a message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `dmPolicy: "allowlist"` and the sender is not in `allowFrom`.
    SenderNotAllowed,
    /// `groupPolicy: "disabled"`.
    GroupsDisabled,
    /// `groupPolicy: "allowlist"` and the group is not in `groupAllowFrom`.
    GroupNotAllowed,
}

impl Refusal {
    /// The reply the sender sees, in Chinese (DingTalk's users) and English.
    pub fn reply_text(self) -> &'static str {
        match self {
            Refusal::SenderNotAllowed => {
                "抱歉，您暂无权限与此机器人对话。Sorry, you are not allowed to chat with this bot."
            }
            Refusal::GroupsDisabled => {
                "抱歉，此机器人暂不支持群聊。Sorry, this bot does not answer in groups."
            }
            Refusal::GroupNotAllowed => {
                "抱歉，此机器人未在本群开放。Sorry, this bot is not enabled for this group."
            }
        }
    }

    /// A short name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::SenderNotAllowed => "sender_not_allowed",
            Refusal::GroupsDisabled => "groups_disabled",
            Refusal::GroupNotAllowed => "group_not_allowed",
        }
    }
}

/// Decides whether a message may reach an agent. Ids are compared exactly: DingTalk ids are
/// case-sensitive.
pub fn admit(
    account: &DingTalkAccount,
    chat: ChatType,
    conversation_id: &str,
    sender_id: &str,
) -> Result<(), Refusal> {
    match chat {
        ChatType::Direct => match account.dm_policy {
            DmPolicy::Open => Ok(()),
            DmPolicy::Allowlist => {
                if account.allow_from.iter().any(|a| a == sender_id) {
                    Ok(())
                } else {
                    Err(Refusal::SenderNotAllowed)
                }
            }
        },
        ChatType::Group => match account.group_policy {
            GroupPolicy::Open => Ok(()),
            GroupPolicy::Disabled => Err(Refusal::GroupsDisabled),
            GroupPolicy::Allowlist => {
                if account
                    .group_allow_from
                    .iter()
                    .any(|g| g == conversation_id)
                {
                    Ok(())
                } else {
                    Err(Refusal::GroupNotAllowed)
                }
            }
        },
    }
}
