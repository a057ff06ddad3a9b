//! Who may talk to a bot: `dmPolicy`/`allowFrom` for direct messages and
//! `groupPolicy`/`groupAllowFrom` for groups (docs/dingtalk-protocol.md 7.2). A refused
//! sender gets one short, polite reply and nothing else reaches an agent.

use crate::config::{DingTalkAccount, DmPolicy, GroupPolicy, is_conversation_id};

use super::ChatType;

/// Why a message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `dmPolicy: "allowlist"` and the sender is not in `allowFrom`.
    SenderNotAllowed,
    /// `dmPolicy: "pairing"` and the sender is not in `allowFrom`: approved pairings (the
    /// runtime's) may still let them in.
    NeedsPairing,
    /// `groupPolicy: "disabled"`.
    GroupsDisabled,
    /// `groupPolicy: "allowlist"` and the group is not in `groupAllowFrom` (nor `groups`),
    /// or its `groups` entry says `enabled: false`.
    GroupNotAllowed,
    /// The group's senders (`groups.<cid>.groupAllowFrom`, else `"*"`'s, else the sender
    /// entries of `groupAllowFrom`) do not include this one.
    SenderNotAllowedInGroup,
}

impl Refusal {
    /// The reply the sender sees, in Chinese (DingTalk's users) and English.
    pub fn reply_text(self) -> &'static str {
        match self {
            Refusal::SenderNotAllowed | Refusal::NeedsPairing => {
                "抱歉，您暂无权限与此机器人对话。Sorry, you are not allowed to chat with this bot."
            }
            Refusal::GroupsDisabled => {
                "抱歉，此机器人暂不支持群聊。Sorry, this bot does not answer in groups."
            }
            Refusal::GroupNotAllowed => {
                "抱歉，此机器人未在本群开放。Sorry, this bot is not enabled for this group."
            }
            Refusal::SenderNotAllowedInGroup => {
                "抱歉，您暂无权限在本群使用此机器人。Sorry, you are not allowed to use this bot in this group."
            }
        }
    }

    /// A short name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::SenderNotAllowed => "sender_not_allowed",
            Refusal::NeedsPairing => "needs_pairing",
            Refusal::GroupsDisabled => "groups_disabled",
            Refusal::GroupNotAllowed => "group_not_allowed",
            Refusal::SenderNotAllowedInGroup => "sender_not_allowed_in_group",
        }
    }
}

/// Decides whether a message may reach an agent. Ids are compared exactly (DingTalk ids are
/// case-sensitive), except for accounts read with soimy's schema, which ignores case; `*`
/// names everyone.
pub fn admit(
    account: &DingTalkAccount,
    chat: ChatType,
    conversation_id: &str,
    sender_id: &str,
) -> Result<(), Refusal> {
    match chat {
        ChatType::Direct => {
            let refusal = match account.dm_policy {
                DmPolicy::Open => return Ok(()),
                DmPolicy::Allowlist => Refusal::SenderNotAllowed,
                DmPolicy::Pairing => Refusal::NeedsPairing,
            };
            if account
                .allow_from
                .iter()
                .any(|a| account.listed(a, sender_id))
            {
                Ok(())
            } else {
                Err(refusal)
            }
        }
        ChatType::Group => {
            match account.group_policy {
                GroupPolicy::Open => {}
                GroupPolicy::Disabled => return Err(Refusal::GroupsDisabled),
                GroupPolicy::Allowlist => {
                    let listed = account
                        .group_allow_from
                        .iter()
                        .any(|g| g == conversation_id)
                        || account.groups.lists(conversation_id);
                    if !listed {
                        return Err(Refusal::GroupNotAllowed);
                    }
                }
            }
            let group = account.groups.resolve(conversation_id).unwrap_or_default();
            if group.enabled == Some(false) {
                return Err(Refusal::GroupNotAllowed);
            }
            // Senders: the group's list, else `groupAllowFrom`'s entries that name people.
            let top: Vec<&String> = account
                .group_allow_from
                .iter()
                .filter(|g| !is_conversation_id(g))
                .collect();
            let allowed = match &group.senders {
                Some(list) => list.iter().any(|s| account.listed(s, sender_id)),
                None if top.is_empty() => true,
                None => top.iter().any(|s| account.listed(s, sender_id)),
            };
            if allowed {
                Ok(())
            } else {
                Err(Refusal::SenderNotAllowedInGroup)
            }
        }
    }
}

/// `requireMention` (the group's, else the account's): may a group message that does not
/// @-mention the bot be answered? DingTalk delivers only mentions to most bots, so this
/// matters for bots that receive every group message. Such messages are dropped quietly.
pub fn mention_ok(account: &DingTalkAccount, conversation_id: &str, mentioned: bool) -> bool {
    if mentioned {
        return true;
    }
    let required = account
        .groups
        .resolve(conversation_id)
        .and_then(|g| g.require_mention)
        .or(account.require_mention)
        .unwrap_or(false);
    !required
}
