//! `dingclaw tools list [--agent ID] [--json]`: each agent's tools (built in, MCP) and
//! skills, with whether the config offers them and, when not, why. `config check` prints the
//! short form (`agent_lines`). Made from the config alone; in a chat, the private-chat and
//! owner conditions shown as notes apply as well.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use dingclaw_actors::config::{Agent, Config, Environment};
use dingclaw_actors::provider::ModelRef;
use dingclaw_actors::tools::{Offer, OfferScope, availability, listing, standard_tools};
use serde::Serialize;

use super::load_config;

#[derive(Debug, Args)]
pub struct ToolsArgs {
    #[command(subcommand)]
    pub action: ToolsAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum ToolsAction {
    /// Every tool and skill per agent: source, offered or why not.
    List {
        /// Only this agent.
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        /// One JSON array instead of the table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AgentTools {
    agent: String,
    model: String,
    tools: Vec<Offer>,
}

/// The tools of `agent` as its primary model would be offered them.
fn offers(config: &Config, agent: &Agent) -> (String, Vec<Offer>) {
    let primary = agent.model.primary.clone().unwrap_or_default();
    let model = ModelRef::parse(&primary, &config.agents.model_aliases).ok();
    let (provider, id) = model
        .as_ref()
        .map(|m| (m.provider.as_str(), m.model.as_str()))
        .unwrap_or(("", ""));
    let scope = OfferScope {
        config,
        agent,
        provider,
        model: id,
        channel: "dingtalk-connector",
        sender: None,
        chat: None,
        owner: true,
        group: None,
    };
    let mut offers = listing(&standard_tools(config), &scope);
    // An MCP server's tools are known once it runs; the policy decides by their names.
    for server in &config.mcp.servers {
        let sample = format!("{}__tool", server.prefix);
        let result = availability(&sample, &scope);
        let why_not = if !server.enabled {
            Some("the server is disabled (enabled: false)".to_owned())
        } else {
            result.err().map(|e| e.to_string())
        };
        offers.push(Offer {
            name: format!("{}__*", server.prefix),
            source: "mcp",
            offered: why_not.is_none(),
            why_not,
            note: Some(format!(
                "MCP server \"{}\" ({}); its tools: dingclaw mcp list --tools",
                server.name,
                server.transport.kind()
            )),
        });
    }
    (primary, offers)
}

/// One line per agent for `config check`: the tools it is offered and its skills.
pub fn agent_lines(config: &Config) -> Vec<String> {
    config
        .agents
        .agents
        .iter()
        .map(|agent| {
            let (_, offers) = offers(config, agent);
            let named = |o: &Offer| match &o.note {
                Some(n) if o.source == "built-in" => format!("{} ({n})", o.name),
                _ => o.name.clone(),
            };
            let tools: Vec<String> = offers
                .iter()
                .filter(|o| o.offered && o.source != "skill")
                .map(named)
                .collect();
            let skills: Vec<String> = offers
                .iter()
                .filter(|o| o.offered && o.source == "skill")
                .map(named)
                .collect();
            let mut line = format!("agent {}: tools: {}", agent.id, tools.join(", "));
            if !skills.is_empty() {
                line.push_str(&format!("; skills: {}", skills.join(", ")));
            }
            line
        })
        .collect()
}

pub(super) fn run(
    args: ToolsArgs,
    config: Option<PathBuf>,
    env: &dyn Environment,
) -> anyhow::Result<ExitCode> {
    let ToolsAction::List { agent, json } = args.action;
    let loaded = match load_config(config, env) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let config = &loaded.config;
    let agents: Vec<&Agent> = match &agent {
        Some(id) => match config.agents.get(id) {
            Some(a) => vec![a],
            None => {
                let ids: Vec<&str> = config.agents.ids().collect();
                eprintln!("no agent \"{id}\" (agents: {})", ids.join(", "));
                return Ok(ExitCode::from(2));
            }
        },
        None => config.agents.agents.iter().collect(),
    };
    let listed: Vec<AgentTools> = agents
        .into_iter()
        .map(|a| {
            let (model, tools) = offers(config, a);
            AgentTools {
                agent: a.id.clone(),
                model,
                tools,
            }
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&listed)?);
        return Ok(ExitCode::SUCCESS);
    }
    for (i, a) in listed.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!(
            "agent {} ({})",
            a.agent,
            if a.model.is_empty() {
                "no model"
            } else {
                &a.model
            }
        );
        let rows: Vec<[String; 4]> = a
            .tools
            .iter()
            .map(|o| {
                [
                    o.name.clone(),
                    o.source.to_owned(),
                    if o.offered { "yes" } else { "no" }.to_owned(),
                    o.why_not
                        .clone()
                        .or_else(|| o.note.clone())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        print!(
            "{}",
            super::table::render(&["TOOL", "SOURCE", "OFFERED", "NOTE"], &rows)
        );
    }
    Ok(ExitCode::SUCCESS)
}
