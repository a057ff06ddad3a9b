//! `commands`: who may use the chat commands, and who owns the gateway
//! (docs/openclaw-agent.md 6.2). Owners (`ownerAllowFrom`) are the only senders whose
//! turns may run commands on the machine (`exec`) and who may answer `/approve`.

use serde::{Deserialize, Serialize};

use super::bindings::IdValue;
use super::issue::{ConfigPath, Diagnostics};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CommandsSection {
    /// Owners: `"<channel>:<id>"` (`dingtalk-connector:<staffId>`), or a bare id for every
    /// channel.
    pub owner_allow_from: Option<Vec<IdValue>>,
    /// Who may use chat commands, by channel (`"*"` for all): when set, the only source.
    pub allow_from: Option<indexmap::IndexMap<String, Vec<IdValue>>>,
    /// `false`: `/…` messages are not read as commands and go to the model.
    pub text: Option<bool>,
}

/// The effective `commands` settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandsConfig {
    /// As written, trimmed.
    pub owners: Vec<String>,
    /// `commands.allowFrom`: channel (or `*`) to sender ids (or `*`). `None`: everyone the
    /// channel admits.
    pub allow_from: Option<indexmap::IndexMap<String, Vec<String>>>,
    /// Chat commands are read (`commands.text`, default on).
    pub text: bool,
}

impl Default for CommandsConfig {
    fn default() -> Self {
        CommandsConfig {
            owners: Vec::new(),
            allow_from: None,
            text: true,
        }
    }
}

impl CommandsConfig {
    /// Is `sender` on `channel` an owner? The DingTalk connectors' channel ids (`dingtalk`,
    /// `dingtalk-connector`) are the same people.
    pub fn is_owner(&self, channel: &str, sender: &str) -> bool {
        let dingtalk = |c: &str| c == "dingtalk" || c == "dingtalk-connector";
        self.owners.iter().any(|o| match o.split_once(':') {
            Some((c, id)) => id == sender && (c == channel || (dingtalk(c) && dingtalk(channel))),
            None => o == sender,
        })
    }

    /// May `sender` on `channel` use chat commands? Without `commands.allowFrom`, anyone the
    /// channel let in; with it, only those it lists (docs/openclaw-agent.md 6.2).
    pub fn may_command(&self, channel: &str, sender: &str) -> bool {
        let Some(lists) = &self.allow_from else {
            return true;
        };
        let dingtalk = |c: &str| c == "dingtalk" || c == "dingtalk-connector";
        lists.iter().any(|(c, ids)| {
            (c == "*" || c == channel || (dingtalk(c) && dingtalk(channel)))
                && ids.iter().any(|id| id == "*" || id == sender)
        })
    }
}

pub(crate) fn build_commands(
    section: Option<&CommandsSection>,
    diags: &mut Diagnostics,
) -> CommandsConfig {
    let Some(s) = section else {
        return CommandsConfig::default();
    };
    let at = ConfigPath::root().key("commands");
    let mut owners = Vec::new();
    for (i, o) in s.owner_allow_from.iter().flatten().enumerate() {
        let o = o.clone().into_string().trim().to_owned();
        if o.is_empty() || o.ends_with(':') {
            diags.error(at.key("ownerAllowFrom").index(i), "an empty owner id");
            continue;
        }
        owners.push(o);
    }
    let allow_from = s.allow_from.as_ref().map(|lists| {
        lists
            .iter()
            .map(|(channel, ids)| {
                let ids = ids
                    .iter()
                    .map(|i| i.clone().into_string().trim().to_owned())
                    .filter(|i| !i.is_empty())
                    .collect();
                (channel.trim().to_owned(), ids)
            })
            .collect()
    });
    CommandsConfig {
        owners,
        allow_from,
        text: s.text.unwrap_or(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_match_by_channel_or_everywhere() {
        let c = CommandsConfig {
            owners: vec!["dingtalk:alice".into(), "bob".into()],
            ..CommandsConfig::default()
        };
        assert!(c.is_owner("dingtalk-connector", "alice"));
        assert!(!c.is_owner("webchat", "alice"));
        assert!(c.is_owner("webchat", "bob"));
        assert!(!c.is_owner("dingtalk-connector", "carol"));
        assert!(c.may_command("dingtalk-connector", "anyone"));
    }

    #[test]
    fn allow_from_is_the_only_source_when_set() {
        let c = CommandsConfig {
            allow_from: Some(
                [
                    ("dingtalk".to_owned(), vec!["alice".to_owned()]),
                    ("webchat".to_owned(), vec!["*".to_owned()]),
                ]
                .into_iter()
                .collect(),
            ),
            ..CommandsConfig::default()
        };
        assert!(c.may_command("dingtalk-connector", "alice"));
        assert!(!c.may_command("dingtalk-connector", "bob"));
        assert!(c.may_command("webchat", "bob"));
    }
}
