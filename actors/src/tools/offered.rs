//! Which tools one model call is offered, and why the others are not. The tool policy
//! (`config::tool_policy`) comes first; then each tool's own needs: a search provider for
//! `web_search`, a private chat for the memory tools, an owner and `tools.exec.security`
//! for `exec` and `process`, an OpenAI model for `apply_patch`. The same answer feeds the
//! model request, `config check` and `dingclaw tools list`.

use serde::Serialize;

use super::{ToolRegistry, ToolSource};
use crate::config::tool_policy::{PolicyScope, allows};
use crate::config::{Agent, Config, ExecSecurity};
use crate::provider::ToolSpec;
use crate::routing::ChatType;

/// Where and for whom a call happens.
#[derive(Clone, Copy, Debug)]
pub struct OfferScope<'a> {
    /// The config in force.
    pub config: &'a Config,
    /// The agent.
    pub agent: &'a Agent,
    /// Canonical provider id and model id of the model being called.
    pub provider: &'a str,
    /// The model's id.
    pub model: &'a str,
    /// The channel of the conversation.
    pub channel: &'a str,
    /// The sender, for per-sender policies.
    pub sender: Option<&'a str>,
    /// `None` outside a chat (listings): chat-dependent gates are reported, not applied.
    pub chat: Option<ChatType>,
    /// The sender is an owner.
    pub owner: bool,
    /// The group chat's own policy (`groups.<cid>.tools`), in a group.
    pub group: Option<&'a crate::config::ToolPolicy>,
}

/// Why a tool is not offered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum Unavailable {
    /// The tool policy leaves it out.
    #[error("the tool policy (tools.profile / allow / deny) leaves it out")]
    Policy,
    /// A setting turns it off.
    #[error("{0} is false")]
    Disabled(&'static str),
    /// `web_search` without a provider.
    #[error("no search provider is configured (tools.web.search)")]
    NoSearchProvider,
    /// Memory tools in a group chat.
    #[error("memory is private: not offered in group chats")]
    PrivateChatsOnly,
    /// `exec` and `process` while commands are off.
    #[error("commands are off (tools.exec.security is \"deny\")")]
    ExecOff,
    /// An owner-only tool for someone else.
    #[error("only for owners (commands.ownerAllowFrom)")]
    OwnersOnly,
    /// `apply_patch` for a model it is not allowed for.
    #[error("only for OpenAI models (tools.exec.applyPatch.allowModels)")]
    ModelNotAllowed,
}

/// A tool and whether it is offered, for listings.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    /// The tool's name.
    pub name: String,
    /// `built-in`, `mcp` or `skill`.
    pub source: &'static str,
    /// The model would be offered it.
    pub offered: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
    /// A condition that applies in chats (owners only, private chats only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The tool's own needs (after the policy).
fn gate(name: &str, scope: &OfferScope<'_>) -> Result<(), Unavailable> {
    let config = scope.config;
    let exec = || {
        scope
            .agent
            .tools
            .exec
            .clone()
            .unwrap_or_else(|| config.tools.exec.clone())
    };
    match name {
        "web_fetch" if !config.tools.web.fetch.enabled => {
            Err(Unavailable::Disabled("tools.web.fetch.enabled"))
        }
        "web_search" if !config.tools.web.search.enabled => {
            Err(Unavailable::Disabled("tools.web.search.enabled"))
        }
        "web_search" if config.tools.web.search.active().is_none() => {
            Err(Unavailable::NoSearchProvider)
        }
        "memory_search" | "memory_get" if !scope.agent.memory.enabled => {
            Err(Unavailable::Disabled("memorySearch.enabled"))
        }
        "memory_search" | "memory_get" if scope.chat == Some(ChatType::Group) => {
            Err(Unavailable::PrivateChatsOnly)
        }
        "exec" | "process" => {
            if exec().security == ExecSecurity::Deny {
                Err(Unavailable::ExecOff)
            } else if !scope.owner {
                Err(Unavailable::OwnersOnly)
            } else {
                Ok(())
            }
        }
        "apply_patch" => {
            let cfg = exec();
            if !cfg.apply_patch_enabled {
                return Err(Unavailable::Disabled("tools.exec.applyPatch.enabled"));
            }
            let openai = scope.provider.starts_with("openai") || scope.provider == "azure-openai";
            let full = format!("{}/{}", scope.provider, scope.model);
            let listed = cfg.apply_patch_models.is_empty()
                || cfg
                    .apply_patch_models
                    .iter()
                    .any(|m| m == scope.model || *m == full);
            if openai && listed {
                Ok(())
            } else {
                Err(Unavailable::ModelNotAllowed)
            }
        }
        _ => Ok(()),
    }
}

/// Is `name` offered in `scope`?
pub fn availability(name: &str, scope: &OfferScope<'_>) -> Result<(), Unavailable> {
    let policy = PolicyScope {
        global: &scope.config.tools.policy,
        agent: &scope.agent.tools.policy,
        provider: scope.provider,
        model: scope.model,
        group: scope.group,
        channel: scope.channel,
        sender: scope.sender,
    };
    if !allows(&policy, name) {
        return Err(Unavailable::Policy);
    }
    gate(name, scope)
}

/// The definitions sent to the model for one call.
pub fn offered(registry: &ToolRegistry, scope: &OfferScope<'_>) -> Vec<ToolSpec> {
    let names: Vec<&str> = registry
        .iter()
        .map(|t| t.name())
        .filter(|n| availability(n, scope).is_ok())
        .collect();
    registry.specs_of(names)
}

/// Every tool of `tools` (name and source), and every skill, with whether `scope` gets it.
/// Listings are made outside a chat: the private-chat and owner conditions are shown as notes.
pub fn listing(tools: &[(String, ToolSource)], scope: &OfferScope<'_>) -> Vec<Offer> {
    let mut out = Vec::new();
    for (name, source) in tools {
        let name = name.as_str();
        let as_owner = OfferScope {
            owner: true,
            chat: None,
            ..*scope
        };
        let result = availability(name, &as_owner);
        let note = match (name, &result) {
            ("exec" | "process", Ok(())) => Some("owners only".to_owned()),
            ("memory_search" | "memory_get", Ok(())) => Some("private chats only".to_owned()),
            _ => None,
        };
        out.push(Offer {
            name: name.to_owned(),
            source: match source {
                ToolSource::BuiltIn => "built-in",
                ToolSource::Mcp => "mcp",
            },
            offered: result.is_ok(),
            why_not: result.err().map(|e| e.to_string()),
            note,
        });
    }
    let read_ok = availability("read", scope).is_ok();
    let skills = crate::skills::discover(scope.config, &scope.agent.workspace);
    for skill in &skills {
        let e = crate::skills::eligibility(skill, scope.agent, scope.config);
        let (offered, why_not) = match e {
            crate::skills::Eligibility::Eligible if !read_ok => (
                false,
                Some("the tool policy leaves out read, which loads skills".to_owned()),
            ),
            crate::skills::Eligibility::Eligible if skill.model_hidden => {
                (false, Some("disable-model-invocation: true".to_owned()))
            }
            crate::skills::Eligibility::Eligible => (true, None),
            crate::skills::Eligibility::NotListed => {
                (false, Some("not in the agent's skills list".to_owned()))
            }
            crate::skills::Eligibility::Disabled => (
                false,
                Some(format!("skills.entries.{}.enabled is false", skill.key)),
            ),
            crate::skills::Eligibility::Missing(what) => (false, Some(format!("needs {what}"))),
        };
        out.push(Offer {
            name: skill.name.clone(),
            source: "skill",
            offered,
            why_not,
            note: Some(skill.location.display().to_string()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope<'a>(
        config: &'a Config,
        agent: &'a Agent,
        chat: ChatType,
        owner: bool,
    ) -> OfferScope<'a> {
        OfferScope {
            config,
            agent,
            provider: "dashscope",
            model: "qwen-plus",
            channel: "dingtalk-connector",
            sender: Some("u1"),
            chat: Some(chat),
            owner,
            group: None,
        }
    }

    fn names(config: &Config, agent: &Agent, chat: ChatType, owner: bool) -> Vec<String> {
        let mut registry = ToolRegistry::builtin();
        let processes = std::sync::Arc::new(super::super::Processes::default());
        let approvals = std::sync::Arc::new(super::super::Approvals::default());
        registry
            .register(super::super::Exec::new(processes.clone(), approvals))
            .register(super::super::Process::new(processes))
            .register(super::super::MemoryGet);
        offered(&registry, &scope(config, agent, chat, owner))
            .into_iter()
            .map(|s| s.name)
            .collect()
    }

    #[test]
    fn defaults_offer_web_files_and_memory_but_never_exec() {
        let config = crate::config::empty_for_tests();
        let agent = Agent::new("a", "/tmp/ws");
        let dm = names(&config, &agent, ChatType::Direct, true);
        assert_eq!(
            dm,
            vec![
                "current_time",
                "edit",
                "memory_get",
                "read",
                "web_fetch",
                "write"
            ],
            "no search provider, not an OpenAI model, exec off"
        );
        let group = names(&config, &agent, ChatType::Group, false);
        assert!(!group.contains(&"memory_get".to_owned()));
    }

    #[test]
    fn exec_needs_both_the_setting_and_an_owner() {
        let mut config = crate::config::empty_for_tests();
        config.tools.exec.security = ExecSecurity::Allowlist;
        let agent = Agent::new("a", "/tmp/ws");
        assert!(names(&config, &agent, ChatType::Direct, true).contains(&"exec".to_owned()));
        assert!(!names(&config, &agent, ChatType::Direct, false).contains(&"exec".to_owned()));
        let mut strict = agent.clone();
        strict.tools.exec = Some(crate::config::ExecConfig::default());
        assert!(!names(&config, &strict, ChatType::Direct, true).contains(&"exec".to_owned()));
    }
}
