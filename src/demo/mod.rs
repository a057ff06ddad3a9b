//! `dingclaw demo`: the whole product offline on 127.0.0.1. The DingTalk simulator, the
//! offline model and the gateway (with `config/demo.json5`, built into the binary) start
//! together; a short scripted conversation runs, then the product document's scheduled weather
//! task (`weather`); then the bots stay up for the operator to talk to.
//!
//! `dingclaw demo --config my.json` runs the operator's own openclaw.json the same way
//! (`offline`): their bots registered in the simulator, their providers answered by the
//! offline model, their state kept apart, so a config can be tried before it meets DingTalk.

mod offline;

mod weather;
mod weather_page;

pub use weather::{DEMO_ROBOT_TOKEN, WEATHER_REQUEST};
pub use weather_page::{FORECAST_EN, FORECAST_ZH, WeatherPage};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dingclaw_actors::actors::{Runtime, RuntimeHandle};
use dingclaw_actors::config::{Config, MapEnv, load_str};
use dingclaw_actors::dingtalk::redact::redact_text;

use crate::offline_model::{ModelOptions, OfflineModel};
use crate::sim::{Entry, NewBot, NewGroup, NewRobot, NewUser, SimOptions, SimServer, UserMessage};
use crate::web::{WebServer, operator_auth};

/// The demo config, built into the binary so the demo needs no files.
pub const DEMO_CONFIG: &str = include_str!("../../config/demo.json5");

/// The demo group's conversation id.
pub const DEMO_GROUP: &str = "cidDingclawDemoGroup==";

/// How long a scripted message may wait for its replies.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

pub struct DemoOptions {
    /// Simulator port (18790 by default; a free one if that is taken).
    pub sim_port: u16,
    /// Web page port (18789 by default; a free one if that is taken).
    pub web_port: u16,
    /// State directory; a fresh temporary one by default.
    pub state_dir: Option<PathBuf>,
    /// The operator's own openclaw.json, run offline instead of the built-in demo config.
    pub config: Option<PathBuf>,
}

/// A fresh state directory for one demo run (never the operator's `~/.openclaw`).
pub fn temp_state_dir() -> PathBuf {
    std::env::temp_dir().join(format!("dingclaw-demo-{}", std::process::id()))
}

/// The running demo.
pub struct Demo {
    pub sim: SimServer,
    pub model: OfflineModel,
    /// The page the scheduled weather task fetches.
    pub weather: WeatherPage,
    pub runtime: RuntimeHandle,
    /// The operator web page and API.
    pub web: WebServer,
    /// The page's address with its token (in the fragment).
    pub login_url: String,
    pub config: Arc<Config>,
    pub state_dir: PathBuf,
    /// The operator's own config (`--config`) rather than the built-in one.
    pub custom: bool,
    /// What `--config` pointed elsewhere, one line each, for the banner.
    pub redirected: Vec<String>,
}

/// One scripted exchange and the replies it got, for printing and for tests.
pub struct Exchange {
    pub from: String,
    pub to: String,
    pub text: String,
    pub replies: Vec<Entry>,
    pub expected: usize,
    /// Posts of the group's custom robot that the exchange led to.
    pub robot_posts: Vec<Entry>,
    pub expected_posts: usize,
}

impl Demo {
    /// Starts the simulator, the offline model and the gateway.
    pub async fn start(opts: DemoOptions) -> anyhow::Result<Demo> {
        let sim = match SimServer::start(SimOptions::default(), opts.sim_port, 2).await {
            Ok(s) => s,
            Err(_) => SimServer::start(SimOptions::default(), 0, 2).await?,
        };
        let model = OfflineModel::start(ModelOptions::default(), 0, 1).await?;
        let weather = WeatherPage::start().await?;
        let state_dir = opts.state_dir.unwrap_or_else(temp_state_dir);
        let mut vars: HashMap<String, String> = std::env::vars().collect();
        vars.insert("DINGCLAW_DEMO_SIM_URL".into(), sim.url.clone());
        vars.insert("DINGCLAW_DEMO_MODEL_URL".into(), model.base_url.clone());
        vars.insert("OPENCLAW_STATE_DIR".into(), state_dir.display().to_string());
        let env = MapEnv {
            vars,
            home: std::env::home_dir(),
            cwd: std::env::current_dir().ok(),
        };
        let (config, redirected) = match &opts.config {
            None => (
                load_str(DEMO_CONFIG, &std::env::temp_dir(), &env)?.config,
                Vec::new(),
            ),
            Some(path) => offline::load(path, env, &sim.url, &model.base_url, &state_dir)?,
        };
        for account in config.channels.dingtalk.active_accounts() {
            sim.sim.add_bot(NewBot {
                client_id: Some(account.client_id.clone()),
                client_secret: Some(account.client_secret.expose().to_owned()),
                name: Some(account.id.clone()),
            });
        }
        for (user, name) in [("alice", "Alice"), ("bob", "Bob")] {
            sim.sim.add_user(NewUser {
                user_id: Some(user.into()),
                name: Some(name.into()),
                external: false,
            });
        }
        sim.sim
            .add_group(NewGroup {
                conversation_id: Some(DEMO_GROUP.into()),
                title: Some("dingclaw demo".into()),
                members: vec!["alice".into(), "bob".into()],
                bots: config
                    .channels
                    .dingtalk
                    .active_accounts()
                    .map(|a| a.client_id.clone())
                    .collect(),
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // The group's custom robot, with a keyword as its security setting.
        sim.sim
            .add_robot(NewRobot {
                conversation_id: DEMO_GROUP.into(),
                keywords: vec!["weather".into()],
                name: Some("Weather robot".into()),
                access_token: Some(DEMO_ROBOT_TOKEN.into()),
                secret: None,
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let runtime = crate::allocator::with_memory_release(
            Runtime::builder(config.clone()).store_from_config(),
        )
        .start()?;
        let (auth, _) = operator_auth(&config)?;
        let web_addr = SocketAddr::new(config.gateway.bind, opts.web_port);
        let web =
            match WebServer::start(Arc::clone(runtime.runtime()), web_addr, auth.clone(), None)
                .await
            {
                Ok(w) => w,
                // Taken (a gateway already runs here): any free port.
                Err(_) => {
                    WebServer::start(
                        Arc::clone(runtime.runtime()),
                        SocketAddr::new(config.gateway.bind, 0),
                        auth.clone(),
                        None,
                    )
                    .await?
                }
            };
        let login_url = web.login_url(&auth);
        let demo = Demo {
            sim,
            model,
            weather,
            runtime,
            web,
            login_url,
            config: Arc::new(config),
            state_dir,
            custom: opts.config.is_some(),
            redirected,
        };
        demo.wait_connected(Duration::from_secs(15)).await?;
        Ok(demo)
    }

    async fn wait_connected(&self, timeout: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        let want = self.config.channels.dingtalk.active_accounts().count();
        loop {
            let connected = self
                .sim
                .sim
                .bots()
                .iter()
                .filter(|b| b.connections > 0)
                .count();
            if connected >= want {
                return Ok(());
            }
            if start.elapsed() > timeout {
                anyhow::bail!("only {connected} of {want} bots connected after {timeout:?}");
            }
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn client_id(&self, account: &str) -> String {
        self.config
            .account(account)
            .map(|a| a.client_id.clone())
            .unwrap_or_default()
    }

    /// Sends one user message and waits for the replies of the bots it reaches.
    pub async fn exchange(
        &self,
        from: &str,
        to: Target<'_>,
        text: &str,
    ) -> anyhow::Result<Exchange> {
        let msg = match to {
            Target::Group(mentions) => UserMessage {
                from: from.into(),
                group: Some(DEMO_GROUP.into()),
                mentions: Some(mentions.iter().map(|a| self.client_id(a)).collect()),
                text: text.into(),
                ..UserMessage::default()
            },
            Target::Direct(account) => UserMessage {
                from: from.into(),
                bot: Some(self.client_id(account)),
                text: text.into(),
                ..UserMessage::default()
            },
        };
        let sent = self
            .sim
            .sim
            .say(&msg)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let expected = sent.deliveries.len();
        let start = Instant::now();
        let replies = loop {
            let replies: Vec<Entry> = self.sim.sim.replies_to(&sent.msg_id);
            if replies.len() >= expected || start.elapsed() > REPLY_TIMEOUT {
                break replies;
            }
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        };
        let to = match to {
            Target::Group(m) => format!("the group, @{}", m.join(" @")),
            Target::Direct(a) => format!("{a} (DM)"),
        };
        Ok(Exchange {
            from: from.into(),
            to,
            text: text.into(),
            replies,
            expected,
            robot_posts: Vec::new(),
            expected_posts: 0,
        })
    }

    /// Active accounts, in config order.
    pub fn accounts(&self) -> Vec<String> {
        self.config
            .channels
            .dingtalk
            .active_accounts()
            .map(|a| a.id.clone())
            .collect()
    }

    /// The scripted conversation shown at start.
    pub async fn script(&self) -> anyhow::Result<Vec<Exchange>> {
        if self.custom {
            return self.custom_script().await;
        }
        let mut out = Vec::new();
        out.push(
            self.exchange(
                "alice",
                Target::Group(&["bot1", "bot2"]),
                "Hello! Who can help me with an order and a broken laptop?",
            )
            .await?,
        );
        out.push(
            self.exchange(
                "alice",
                Target::Group(&["bot1"]),
                "Order 1042 has not arrived yet.",
            )
            .await?,
        );
        out.push(
            self.exchange(
                "bob",
                Target::Direct("bot2"),
                "My laptop does not boot after an update.",
            )
            .await?,
        );
        out.push(
            self.exchange("bob", Target::Direct("bot2"), "The screen stays black.")
                .await?,
        );
        Ok(out)
    }

    /// With the operator's config: every bot @-mentioned in the group, then each one DMed.
    async fn custom_script(&self) -> anyhow::Result<Vec<Exchange>> {
        let accounts = self.accounts();
        let mut out = Vec::new();
        if accounts.is_empty() {
            return Ok(out);
        }
        let all: Vec<&str> = accounts.iter().map(String::as_str).collect();
        out.push(
            self.exchange("alice", Target::Group(&all), "Hello everyone! Who are you?")
                .await?,
        );
        for a in &all {
            out.push(
                self.exchange("bob", Target::Direct(a), "Hi! What can you help me with?")
                    .await?,
            );
        }
        Ok(out)
    }

    /// The bot (account id) that owns a clientId.
    pub fn account_of(&self, client_id: &str) -> String {
        self.config
            .channels
            .dingtalk
            .accounts
            .values()
            .find(|a| a.client_id == client_id)
            .map(|a| a.id.clone())
            .unwrap_or_else(|| client_id.to_owned())
    }

    pub fn banner(&self) -> String {
        let mut s = String::new();
        s.push_str("dingclaw demo: a DingTalk simulator, an offline model and the gateway, all on 127.0.0.1\n");
        s.push_str(&format!("  simulator:     {}\n", self.sim.url));
        s.push_str(&format!("  offline model: {}\n", self.model.base_url));
        s.push_str(&format!("  web page:      {}\n", self.login_url));
        s.push_str(&format!("  state:         {}\n", self.state_dir.display()));
        if !self.redirected.is_empty() {
            s.push_str("  your config, run offline:\n");
            for r in &self.redirected {
                s.push_str(&format!("    {r}\n"));
            }
        }
        let routes = dingclaw_actors::routing::Routes::new(&self.config);
        for a in self.config.channels.dingtalk.active_accounts() {
            // Where a DM to the bot goes (bindings may also send groups elsewhere).
            let route = routes.route(&dingclaw_actors::routing::Inbound {
                channel: a.channel(),
                account: &a.id,
                chat: dingclaw_actors::routing::ChatType::Direct,
                conversation_id: "",
                sender_id: "alice",
            });
            let persona = self
                .config
                .agents
                .get(&route.agent_id)
                .map(|agent| dingclaw_actors::actors::agent::persona(agent).to_owned())
                .unwrap_or_default();
            s.push_str(&format!(
                "  bot {} (clientId {}) → agent {} ({persona})\n",
                a.id, a.client_id, route.agent_id
            ));
        }
        s.push_str(&format!(
            "  group:         {DEMO_GROUP} (alice, bob and every bot)\n"
        ));
        s
    }

    /// How to go on by hand: commands that run as printed (the binary's real path when it
    /// is not on PATH, as after `cargo run`).
    pub fn instructions(&self) -> String {
        let url = &self.sim.url;
        let exe = command_name();
        let accounts = self.accounts();
        let first = accounts.first().map(String::as_str).unwrap_or("bot1");
        let last = accounts.last().map(String::as_str).unwrap_or(first);
        let token = self.login_url.split("#token=").nth(1);
        let cron = match token {
            Some(t) => format!("{exe} cron list --url {} --token={t}", self.web.url),
            None => format!("{exe} cron list --url {}", self.web.url),
        };
        let group =
            percent_encoding::utf8_percent_encode(DEMO_GROUP, percent_encoding::NON_ALPHANUMERIC);
        format!(
            "Talk to the bots yourself (in another terminal):\n  \
             {exe} sim say --url {url} --group {DEMO_GROUP} --mention {first} \"where is my order?\"\n  \
             {exe} sim say --url {url} --from bob --bot {last} \"/new\"\n  \
             curl -s -XPOST {url}/sim/messages -H 'content-type: application/json' \\\n    \
             -d '{{\"from\":\"alice\",\"bot\":\"{first}\",\"text\":\"hello\"}}'\n  \
             curl -s {url}/sim/conversations/{group}\n\
             Scheduled tasks on this gateway:\n  \
             {cron}\n\
             Web page: {}\n\
             Press Ctrl-C to stop.\n",
            self.login_url
        )
    }

    /// One line per model provider: calls, tokens, circuit state.
    pub fn provider_summary(&self) -> String {
        let mut s = String::new();
        for p in self.runtime.provider_states() {
            s.push_str(&format!(
                "  provider {}: {} calls, {} errors, {} prompt + {} completion tokens, circuit {}\n",
                p.id,
                p.usage.calls,
                p.usage.errors,
                p.usage.prompt_tokens,
                p.usage.completion_tokens,
                p.circuit.state
            ));
        }
        s
    }

    pub async fn stop(&self) {
        self.web.stop().await;
        self.runtime.shutdown(Duration::from_secs(5)).await;
        self.model.stop().await;
        self.weather.stop().await;
        self.sim.stop().await;
    }
}

/// How to run this binary from a shell: `dingclaw` when that is what PATH finds, else the
/// binary's own path.
pub fn command_name() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "dingclaw".to_owned();
    };
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::canonicalize(dir.join("dingclaw"))
                .is_ok_and(|found| std::fs::canonicalize(&exe).is_ok_and(|me| me == found))
        })
    });
    if on_path {
        return "dingclaw".to_owned();
    }
    let shown = exe.display().to_string();
    if shown.contains(char::is_whitespace) {
        format!("'{shown}'")
    } else {
        shown
    }
}

/// Where a scripted message goes.
pub enum Target<'a> {
    /// The demo group, @-mentioning these accounts.
    Group(&'a [&'a str]),
    /// A DM to this account.
    Direct(&'a str),
}

impl Exchange {
    /// Every reply and every expected robot post arrived.
    pub fn complete(&self) -> bool {
        self.replies.len() >= self.expected && self.robot_posts.len() >= self.expected_posts
    }
}

/// Characters of a reply line printed; tool results are long.
const LINE_CHARS: usize = 160;

fn indented(text: &str) -> String {
    text.lines()
        .map(|l| match l.split_once("tool result: ") {
            // A tool result is long JSON; its `summary` says it in one line.
            Some((before, json)) => serde_json::from_str::<serde_json::Value>(json)
                .ok()
                .and_then(|v| {
                    v["summary"]
                        .as_str()
                        .map(|s| format!("{before}tool result: {s}"))
                })
                .unwrap_or_else(|| l.to_owned()),
            None => l.to_owned(),
        })
        .map(|l| {
            if l.chars().count() > LINE_CHARS {
                format!("{}…", l.chars().take(LINE_CHARS).collect::<String>())
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n      ")
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Prints one exchange.
/// Prints one exchange, with robot tokens and signing secrets masked as in every
/// transcript shown.
pub fn print_exchange(demo: &Demo, e: &Exchange) {
    println!("  {} → {}: {}", e.from, e.to, redact_text(&e.text));
    for r in &e.replies {
        let how = if r.via == "card" { " [AI card]" } else { "" };
        println!(
            "    {}{how} ↩ {}",
            demo.account_of(&r.from),
            indented(&redact_text(&r.text))
        );
    }
    for p in &e.robot_posts {
        println!(
            "    [group robot → {DEMO_GROUP}] {}",
            indented(&redact_text(&p.text))
        );
    }
    if e.replies.len() < e.expected {
        println!(
            "    (missing {} of {} replies)",
            e.expected - e.replies.len(),
            e.expected
        );
    }
    if e.robot_posts.len() < e.expected_posts {
        println!("    (the group robot posted nothing)");
    }
}
