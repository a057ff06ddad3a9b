//! Shared pieces of the black-box tests: a simulator on 127.0.0.1, accounts pointed at it,
//! and a collector for delivered bot messages.

#![allow(dead_code)]

pub mod chaos;
pub mod cron;
pub mod gateway;
pub mod mcp;
pub mod process;
pub mod python;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use dingclaw::sim::{NewBot, SimOptions, SimServer};
use dingclaw_actors::config::{DingTalkAccount, MapEnv, load_str};
use dingclaw_actors::dingtalk::{BotMessageReceived, GetStreamState, StreamClient, StreamState};

/// Simulator timings short enough for tests.
pub fn fast_sim() -> SimOptions {
    SimOptions {
        ping_interval: Duration::from_millis(300),
        disconnect_grace: Duration::from_millis(800),
        ..SimOptions::default()
    }
}

pub async fn start_sim(opts: SimOptions) -> SimServer {
    SimServer::start(opts, 0, 1)
        .await
        .expect("simulator starts")
}

/// Stream timings short enough for tests (the real defaults are seconds to minutes).
pub const FAST_STREAM: &str = r#"stream: { pingIntervalMs: 200, pongTimeoutMs: 1000, silenceTimeoutMs: 1500,
    reconnectInitialMs: 100, reconnectMaxMs: 1000, authRetryMs: 1500, sendRetryInitialMs: 100 }"#;

/// A DingTalk account pointed at the simulator; `extra` is more JSON5 for the account.
pub fn account(sim_url: &str, client_id: &str, secret: &str, extra: &str) -> Arc<DingTalkAccount> {
    let text = format!(
        r#"{{ channels: {{ "dingtalk-connector": {{ accounts: {{ acct: {{
            clientId: "{client_id}", clientSecret: "{secret}", endpoint: "{sim_url}", {extra} }} }} }} }} }}"#
    );
    let loaded = load_str(&text, Path::new("/"), &MapEnv::new()).expect("test account config");
    Arc::clone(loaded.config.account("acct").expect("account"))
}

/// Registers a bot in the simulator and returns its (clientId, secret).
pub fn bot(server: &SimServer, id: &str) -> (String, String) {
    let b = server.sim.add_bot(NewBot {
        client_id: Some(id.to_owned()),
        client_secret: Some(format!("{id}-secret")),
        name: Some(id.to_owned()),
    });
    (b.client_id, b.client_secret)
}

/// Collects delivered bot messages; optionally takes its time over each (without blocking the
/// thread), like an agent would.
pub struct Collector {
    pub got: Arc<Mutex<Vec<BotMessageReceived>>>,
    pub busy_for: Duration,
}

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<BotMessageReceived> for Collector {
    type Result = ();

    fn handle(&mut self, msg: BotMessageReceived, ctx: &mut Self::Context) {
        self.got.lock().unwrap().push(msg);
        if !self.busy_for.is_zero() {
            ctx.wait(actix::fut::wrap_future(actix_rt::time::sleep(
                self.busy_for,
            )));
        }
    }
}

/// A Stream client for `account` delivering into a new collector.
pub fn client(
    account: Arc<DingTalkAccount>,
    busy_for: Duration,
) -> (Addr<StreamClient>, Arc<Mutex<Vec<BotMessageReceived>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let collector = Collector {
        got: got.clone(),
        busy_for,
    }
    .start();
    let addr = StreamClient::new(account, collector.recipient()).start();
    (addr, got)
}

pub async fn state(addr: &Addr<StreamClient>) -> StreamState {
    addr.send(GetStreamState)
        .await
        .expect("stream client answers")
}

/// Polls `check` until it holds, or panics after `timeout` naming `what`.
pub async fn wait_until<F: FnMut() -> bool>(what: &str, timeout: Duration, mut check: F) {
    let start = Instant::now();
    while !check() {
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the client reports `connected` with `connections` sockets.
pub async fn wait_connected(addr: &Addr<StreamClient>, timeout: Duration) -> StreamState {
    let start = Instant::now();
    loop {
        let s = state(addr).await;
        if s.status == dingclaw_actors::dingtalk::StreamStatus::Connected && s.connections == 1 {
            return s;
        }
        if start.elapsed() > timeout {
            panic!("not connected after {timeout:?}: {s:?}");
        }
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}
