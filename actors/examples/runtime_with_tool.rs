//! The whole runtime inside your own program, with a tool of your own: DingTalk bots, routing,
//! sessions, agents and a model provider, as the dingclaw gateway runs them. It also follows
//! the runtime's events and asks the agent a question from code (`ask`), the way you would
//! add a channel of your own.
//!
//! Start a DingTalk simulator and the offline model first (two terminals), then the example:
//!
//! ```sh
//! dingclaw sim --port 18790 --bot example-bot:example-secret
//! dingclaw offline-model --port 18791
//! cargo run -p dingclaw-actors --example runtime_with_tool
//! dingclaw sim say --bot example-bot --from alice '/tool shout {"text": "hello"}'
//! ```
//!
//! `DINGCLAW_SIM_URL` and `DINGCLAW_MODEL_URL` point it elsewhere; `DINGCLAW_EXAMPLE_SECONDS`
//! ends it after that long (it runs until Ctrl-C otherwise).

use std::path::Path;
use std::time::Duration;

use dingclaw_actors::actors::{AnswerPart, Runtime, RuntimeEvent};
use dingclaw_actors::config::{MapEnv, load_str};
use dingclaw_actors::tools::{Tool, ToolContext, ToolError};
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

/// A tool the model may call: the text in capitals.
struct Shout;

impl Tool for Shout {
    fn name(&self) -> &str {
        "shout"
    }

    fn description(&self) -> &str {
        "Repeats `text` in capital letters."
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        Box::pin(async move {
            let text = args
                .get("text")
                .and_then(Value::as_str)
                .ok_or_else(|| ToolError::BadArguments("`text` is required".into()))?;
            println!(
                "tool shout called by agent {} for {}",
                ctx.agent_id, ctx.sender_id
            );
            Ok(json!({"shouted": text.to_uppercase()}))
        })
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = env_or("DINGCLAW_SIM_URL", "http://127.0.0.1:18790");
    let model = env_or("DINGCLAW_MODEL_URL", "http://127.0.0.1:18791/v1");
    let config = format!(
        r#"{{
          agents: {{ list: [ {{ id: "helper", identity: {{ name: "Helper" }}, model: "offline/qwen" }} ] }},
          channels: {{ "dingtalk-connector": {{ endpoint: "{sim}", dmReplyMode: "text",
            accounts: {{ bot1: {{ clientId: "example-bot", clientSecret: "example-secret" }} }} }} }},
          models: {{ providers: {{ offline: {{ baseUrl: "{model}", apiKey: "example-key" }} }} }},
        }}"#
    );
    let config = load_str(&config, Path::new("."), &MapEnv::new())?.config;
    let seconds: Option<u64> = std::env::var("DINGCLAW_EXAMPLE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());

    // The runtime's actors live in an actix System: this program's main thread runs one.
    actix_rt::System::new().block_on(async move {
        // No store chosen: sessions live in memory (`.store_from_config()` for SQLite).
        let rt = Runtime::builder(config).tool(Shout).start()?;
        println!("runtime started: {}", rt.config().summary());
        // What happens from now on, without polling.
        let mut events = rt.events();
        actix_rt::spawn(async move {
            while let Ok(event) = events.recv().await {
                match event {
                    RuntimeEvent::Connected { account } => println!("event: {account} connected"),
                    RuntimeEvent::TurnFinished {
                        agent, ok, took, ..
                    } => {
                        println!(
                            "event: {agent} answered (ok: {ok}) in {} ms",
                            took.as_millis()
                        )
                    }
                    other => println!("event: {other:?}"),
                }
            }
        });
        // Started is not connected: wait for DingTalk's answer about each account.
        let readiness = rt.ready(Duration::from_secs(15)).await;
        for a in &readiness.accounts {
            match &a.error {
                None if a.connected => println!("ready: {} connected", a.account),
                None => println!("not ready: {} still connecting", a.account),
                Some(e) => println!("not ready: {}: {e}", a.account),
            }
        }
        // A channel of your own: the same agent, a session of its own, the answer streamed.
        let mut answer = rt.ask("helper", "console", "operator", "hello from code")?;
        while let Some(part) = answer.next().await {
            match part {
                AnswerPart::Partial(so_far) => println!("ask, so far: {so_far}"),
                AnswerPart::Done(text) => println!("ask answered: {text}"),
            }
        }
        match seconds {
            Some(s) => actix_rt::time::sleep(Duration::from_secs(s)).await,
            None => {
                let _ = actix_rt::signal::ctrl_c().await;
            }
        }
        // Turns in flight get up to five seconds to finish; then every actor stops. (Dropping
        // `rt` would stop it too, without that wait.)
        rt.shutdown(Duration::from_secs(5)).await;
        println!("runtime stopped");
        Ok(())
    })
}
