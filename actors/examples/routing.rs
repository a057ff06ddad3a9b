//! Routing alone: which agent answers a DingTalk message and which conversation session it
//! belongs to, from an openclaw.json, with no network, actor or store involved.
//!
//! ```sh
//! cargo run -p dingclaw-actors --example routing
//! ```

use std::path::Path;

use dingclaw_actors::config::{MapEnv, load_str};
use dingclaw_actors::routing::{ChatType, Inbound, Routes};

const CONFIG: &str = r#"{
  agents: { list: [ { id: "service" }, { id: "tech" } ] },
  channels: { "dingtalk-connector": {
    groupSessionScope: "group_sender",
    accounts: { bot1: { clientId: "ding-bot-1", clientSecret: "not-used-here" },
                bot2: { clientId: "ding-bot-2", clientSecret: "not-used-here" } } } },
  bindings: [
    { agentId: "service", match: { channel: "dingtalk-connector", accountId: "bot1" } },
    { agentId: "tech", match: { channel: "dingtalk-connector", accountId: "bot2" } },
  ],
}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `MapEnv::new()`: no environment variables, so the example reads nothing from the host.
    let loaded = load_str(CONFIG, Path::new("."), &MapEnv::new())?;
    let routes = Routes::new(&loaded.config);
    let messages = [
        ("bot1", ChatType::Direct, "", "alice"),
        ("bot2", ChatType::Direct, "", "alice"),
        ("bot1", ChatType::Group, "cidRelease", "alice"),
        ("bot1", ChatType::Group, "cidRelease", "bob"),
    ];
    for (account, chat, conversation_id, sender_id) in messages {
        let route = routes.route(&Inbound {
            channel: "dingtalk-connector",
            account,
            chat,
            conversation_id,
            sender_id,
        });
        println!(
            "{account} {} from {sender_id}: agent {} ({}), session {}",
            chat.as_str(),
            route.agent_id,
            route.matched_by.as_str(),
            route.session_key.as_str()
        );
    }
    Ok(())
}
