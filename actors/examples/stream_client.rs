//! The DingTalk Stream client inside your own actor: one account's connection (ticket,
//! WebSocket, pings, reconnects, ACKs, duplicate suppression) delivering each bot message to an
//! actor you write. Nothing else of dingclaw runs.
//!
//! ```sh
//! dingclaw sim --port 18790 --bot example-bot:example-secret
//! cargo run -p dingclaw-actors --example stream_client
//! dingclaw sim say --bot example-bot --from alice 'hello'
//! ```
//!
//! `DINGCLAW_SIM_URL` points it elsewhere (a real DingTalk app: `https://api.dingtalk.com`
//! with its own Client ID and Secret in `DINGCLAW_CLIENT_ID`/`DINGCLAW_CLIENT_SECRET`);
//! `DINGCLAW_EXAMPLE_SECONDS` ends it after that long.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use dingclaw_actors::config::DingTalkAccount;
use dingclaw_actors::dingtalk::{BotMessageReceived, StreamClient};

/// Your actor: here it prints each message.
struct Printer;

impl Actor for Printer {
    type Context = Context<Self>;
}

impl Handler<BotMessageReceived> for Printer {
    type Result = ();

    fn handle(&mut self, msg: BotMessageReceived, _: &mut Self::Context) {
        let m = &msg.message;
        println!(
            "message from {} in {} ({}): {}",
            m.sender(),
            m.conversation_id,
            m.chat.as_str(),
            m.text_for_agent()
        );
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = env_or("DINGCLAW_SIM_URL", "http://127.0.0.1:18790");
    let client_id = env_or("DINGCLAW_CLIENT_ID", "example-bot");
    let secret = env_or("DINGCLAW_CLIENT_SECRET", "example-secret");
    // An account as the config loader builds it: every Stream setting at its default.
    let account = Arc::new(DingTalkAccount::at("bot1", &client_id, &secret, &endpoint)?);
    let seconds: Option<u64> = std::env::var("DINGCLAW_EXAMPLE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());

    actix_rt::System::new().block_on(async move {
        let printer = Printer.start();
        let _client = StreamClient::new(account, printer.recipient()).start();
        println!("listening as {client_id}");
        match seconds {
            Some(s) => actix_rt::time::sleep(Duration::from_secs(s)).await,
            None => {
                let _ = actix_rt::signal::ctrl_c().await;
            }
        }
    });
    Ok(())
}
