//! `commands`: who may use the chat commands, and who owns the gateway
//! (reference/openclaw-agent.md 6.2). Owners (`ownerAllowFrom`) are the only senders whose
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
}

/// The effective `commands` settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandsConfig {
    /// As written, trimmed.
    pub owners: Vec<String>,
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
    CommandsConfig { owners }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_match_by_channel_or_everywhere() {
        let c = CommandsConfig {
            owners: vec!["dingtalk:alice".into(), "bob".into()],
        };
        assert!(c.is_owner("dingtalk-connector", "alice"));
        assert!(!c.is_owner("webchat", "alice"));
        assert!(c.is_owner("webchat", "bob"));
        assert!(!c.is_owner("dingtalk-connector", "carol"));
    }
}
