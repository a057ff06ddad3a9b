//! A whole gateway in the test process: the DingTalk simulator, the offline model and the
//! actor runtime, wired through real sockets on 127.0.0.1.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dingclaw::offline_model::{ModelOptions, OfflineModel};
use dingclaw::sim::{Entry, Injected, NewBot, NewGroup, SimOptions, SimServer, UserMessage};
use dingclaw_actors::actors::{Runtime, RuntimeBuilder, RuntimeHandle};
use dingclaw_actors::config::{Config, MapEnv, load_str};
use dingclaw_actors::tools::ToolRegistry;

/// Account settings that make tests fast and deterministic.
pub const TEST_ACCOUNT: &str = r#"endpoint: "${SIM}", groupReplyMode: "text", dmReplyMode: "text",
    stream: { pingIntervalMs: 500, pongTimeoutMs: 3000, silenceTimeoutMs: 5000, reconnectInitialMs: 100, sendRetryInitialMs: 100 }"#;

/// Simulator timings matching `TEST_ACCOUNT` (its pings keep an idle socket from looking like
/// a zombie).
pub fn test_sim() -> SimOptions {
    SimOptions {
        ping_interval: Duration::from_millis(1000),
        ..SimOptions::default()
    }
}

/// A model provider block pointing at the offline model.
pub const TEST_PROVIDER: &str =
    r#"models: { providers: { offline: { baseUrl: "${MODEL}", apiKey: "test-key" } } }"#;

pub struct Harness {
    pub sim: SimServer,
    pub model: OfflineModel,
    pub rt: RuntimeHandle,
    pub config: Config,
    pub state: tempfile::TempDir,
}

/// The turn number in an offline model answer (`[persona · model · turn N]`).
pub fn turn(reply: &str) -> usize {
    reply
        .split("· turn ")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// What the offline model says the user said.
pub fn said(reply: &str) -> &str {
    reply
        .split("You said: ")
        .nth(1)
        .and_then(|r| r.split('\n').next())
        .unwrap_or("")
}

/// The history line of an offline model answer, without a trailing @mention.
pub fn history(reply: &str) -> &str {
    let h = reply.split("history: ").nth(1).unwrap_or("");
    h.rsplit_once(" @").map_or(h, |(before, _)| before)
}

/// Where a test message goes.
pub enum To<'a> {
    /// A DM to this account.
    Dm(&'a str),
    /// A group, @-mentioning these accounts.
    Group(&'a str, &'a [&'a str]),
}

/// The environment of a harness: `${SIM}`, `${MODEL}`, `${MODEL_ROOT}` and `${STATE}` are
/// its own.
pub fn test_env(sim: &str, model: &str, state: &Path) -> MapEnv {
    let vars = HashMap::from([
        ("SIM".to_owned(), sim.to_owned()),
        ("MODEL".to_owned(), model.to_owned()),
        // The offline model's root, for protocols that add their own `/v1` (Anthropic).
        (
            "MODEL_ROOT".to_owned(),
            model.trim_end_matches("/v1").to_owned(),
        ),
        ("STATE".to_owned(), state.display().to_string()),
        ("OPENCLAW_STATE_DIR".to_owned(), state.display().to_string()),
    ]);
    MapEnv {
        vars,
        home: Some(state.to_path_buf()),
        cwd: Some(state.to_path_buf()),
    }
}

/// Loads a config whose `${SIM}`, `${MODEL}` and `${STATE}` are the harness' own.
pub fn test_config(text: &str, sim: &str, model: &str, state: &Path) -> Config {
    let env = test_env(sim, model, state);
    let config = load_str(text, Path::new("/"), &env)
        .unwrap_or_else(|e| panic!("test config: {e}"))
        .config;
    on_postgres_if_asked(config)
}

/// With `DINGCLAW_TEST_STORE=postgres`, a config that keeps a SQLite store gets a database of
/// its own on a PostgreSQL server this test binary starts (and stops at exit), so that the
/// single-node suite runs on the shared store too (`.ci/run` runs part of it so).
fn on_postgres_if_asked(mut config: Config) -> Config {
    use dingclaw_actors::config::{Secret, StoreKind};
    use dingclaw_testing::postgres::TestPostgres;
    static SERVER: std::sync::OnceLock<TestPostgres> = std::sync::OnceLock::new();
    extern "C" fn stop_server() {
        if let Some(server) = SERVER.get() {
            server.stop();
        }
    }
    if std::env::var("DINGCLAW_TEST_STORE").as_deref() != Ok("postgres")
        || config.runtime.store != StoreKind::Sqlite
    {
        return config;
    }
    let server = SERVER.get_or_init(|| {
        let server = TestPostgres::start().unwrap_or_else(|e| panic!("a test PostgreSQL: {e}"));
        // Statics are never dropped: stop the server when the test binary exits.
        // SAFETY: registering a plain `extern "C" fn` with atexit has no preconditions.
        unsafe { libc::atexit(stop_server) };
        server
    });
    let url = server
        .database()
        .unwrap_or_else(|e| panic!("a test database: {e}"));
    config.runtime.store = StoreKind::Postgres;
    config.runtime.store_url = Some(Secret::new(url));
    config
}

impl Harness {
    /// This harness' environment, for loading more configs (reloads).
    pub fn env(&self) -> MapEnv {
        test_env(&self.sim.url, &self.model.base_url, self.state.path())
    }

    pub async fn start(config_text: &str) -> Harness {
        Self::start_with(config_text, ModelOptions::default(), test_sim()).await
    }

    pub async fn start_with(
        config_text: &str,
        model_opts: ModelOptions,
        sim_opts: SimOptions,
    ) -> Harness {
        Self::start_with_tools(config_text, model_opts, sim_opts, ToolRegistry::builtin()).await
    }

    /// Starts with these tools for the agents instead of the built-in ones.
    pub async fn start_with_tools(
        config_text: &str,
        model_opts: ModelOptions,
        sim_opts: SimOptions,
        tools: ToolRegistry,
    ) -> Harness {
        Self::start_with_options(config_text, model_opts, sim_opts, |b| b.tools(tools)).await
    }

    /// Starts with these runtime options (clock, tools, limits). The store is the config's,
    /// as the gateway's.
    pub async fn start_with_options(
        config_text: &str,
        model_opts: ModelOptions,
        sim_opts: SimOptions,
        options: impl FnOnce(RuntimeBuilder) -> RuntimeBuilder,
    ) -> Harness {
        let sim = SimServer::start(sim_opts, 0, 2).await.expect("simulator");
        let model = OfflineModel::start(model_opts, 0, 2)
            .await
            .expect("offline model");
        let state = tempfile::tempdir().expect("state dir");
        let config = test_config(config_text, &sim.url, &model.base_url, state.path());
        for a in config.channels.dingtalk.accounts.values() {
            sim.sim.add_bot(NewBot {
                client_id: Some(a.client_id.clone()),
                client_secret: Some(a.client_secret.expose().to_owned()),
                name: Some(a.id.clone()),
            });
        }
        let rt = options(Runtime::builder(config.clone()).store_from_config())
            .start()
            .expect("runtime");
        let h = Harness {
            sim,
            model,
            rt,
            config,
            state,
        };
        h.wait_connected().await;
        h
    }

    pub async fn wait_connected(&self) {
        let want = self.config.channels.dingtalk.active_accounts().count();
        let start = Instant::now();
        while self
            .sim
            .sim
            .bots()
            .iter()
            .filter(|b| b.connections > 0)
            .count()
            < want
        {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "bots did not connect"
            );
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn client_id(&self, account: &str) -> String {
        self.config
            .account(account)
            .unwrap_or_else(|| panic!("no account {account}"))
            .client_id
            .clone()
    }

    /// Creates a group with these accounts' bots and users.
    pub fn group(&self, accounts: &[&str], members: &[&str]) -> String {
        self.sim
            .sim
            .add_group(NewGroup {
                bots: accounts.iter().map(|a| self.client_id(a)).collect(),
                members: members.iter().map(|m| (*m).to_owned()).collect(),
                ..NewGroup::default()
            })
            .expect("group")
            .conversation_id
    }

    pub async fn say(&self, from: &str, to: To<'_>, text: &str) -> Injected {
        let msg = match to {
            To::Dm(account) => UserMessage {
                from: from.into(),
                bot: Some(self.client_id(account)),
                text: text.into(),
                ..UserMessage::default()
            },
            To::Group(cid, mentions) => UserMessage {
                from: from.into(),
                group: Some(cid.into()),
                mentions: Some(mentions.iter().map(|a| self.client_id(a)).collect()),
                text: text.into(),
                ..UserMessage::default()
            },
        };
        self.sim.sim.say(&msg).await.expect("message accepted")
    }

    /// Bot sends answering this message.
    pub fn replies_to(&self, sent: &Injected) -> Vec<Entry> {
        self.sim.sim.replies_to(&sent.msg_id)
    }

    /// Waits until the message has `n` replies and returns them.
    pub async fn answered(&self, sent: &Injected, n: usize) -> Vec<Entry> {
        let start = Instant::now();
        loop {
            let r = self.replies_to(sent);
            if r.len() >= n {
                return r;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "no answer to {:?} after 15 s (got {r:?})\nsimulator: {:?}\nruntime: {:?}",
                sent.msg_id,
                self.sim.sim.stats(),
                self.rt.stats()
            );
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `text` written as this harness' config file, and a reloader for it (as `dingclaw
    /// gateway` makes one), for tests of hot reload and the config editor.
    pub fn file_reloader(&self, text: &str) -> (std::path::PathBuf, Arc<dingclaw::web::Reloader>) {
        let file = self.state.path().join("openclaw.json");
        std::fs::write(&file, text).expect("write the config file");
        let digest = dingclaw_actors::config::load_file(&file, &self.env())
            .expect("the config file loads")
            .digest;
        let reloader = Arc::new(dingclaw::web::Reloader::new(
            Arc::clone(self.rt.runtime()),
            file.clone(),
            Box::new(self.env()),
            digest,
        ));
        (file, reloader)
    }

    /// The web server and operator API on a free port, with this operator token.
    pub async fn operator_web(&self, token: &str) -> dingclaw::web::WebServer {
        dingclaw::web::WebServer::start(
            Arc::clone(self.rt.runtime()),
            "127.0.0.1:0".parse().expect("a socket address"),
            dingclaw::web::OperatorAuth::Secret(dingclaw_actors::config::Secret::new(token)),
            None,
        )
        .await
        .expect("the web server starts")
    }

    /// The body of the newest request the offline model got.
    pub fn last_request(&self) -> serde_json::Value {
        self.model
            .stats
            .last_body
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .expect("the model has had a request")
    }

    /// Says something and returns the single reply's text.
    pub async fn ask(&self, from: &str, to: To<'_>, text: &str) -> String {
        let sent = self.say(from, to, text).await;
        self.answered(&sent, 1).await.remove(0).text
    }

    pub async fn stop(&self) {
        self.rt.shutdown(Duration::from_secs(5)).await;
        self.model.stop().await;
        self.sim.stop().await;
    }
}

/// The simulator (knowing one bot), the offline model and a state folder, for tests that
/// start runtimes of their own.
pub struct Servers {
    pub sim: SimServer,
    pub model: OfflineModel,
    pub state: tempfile::TempDir,
}

impl Servers {
    pub async fn start(client_id: &str, client_secret: &str) -> Servers {
        let sim = SimServer::start(test_sim(), 0, 1).await.expect("simulator");
        let model = OfflineModel::start(ModelOptions::default(), 0, 1)
            .await
            .expect("offline model");
        sim.sim.add_bot(NewBot {
            client_id: Some(client_id.to_owned()),
            client_secret: Some(client_secret.to_owned()),
            name: None,
        });
        let state = tempfile::tempdir().expect("state dir");
        Servers { sim, model, state }
    }

    /// A config whose `${SIM}`, `${MODEL}` and `${STATE}` are these servers'.
    pub fn config(&self, text: &str) -> Config {
        test_config(text, &self.sim.url, &self.model.base_url, self.state.path())
    }

    pub async fn stop(&self) {
        self.model.stop().await;
        self.sim.stop().await;
    }
}
