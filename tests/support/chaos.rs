//! Shared pieces of the chaos suite: steady traffic from many conversations (a simulator
//! load run: every message a real callback with its own sessionWebhook, so each reply is
//! matched to its message), and the tally every chaos test prints and checks.

use std::time::{Duration, Instant};

use dingclaw::offline_model::{ModelOptions, OfflineModel};
use dingclaw::sim::{ChaosRequest, LoadReport, LoadRequest, NewBot, SimServer};

/// Steady traffic: `rate` messages a second for `seconds`, spread over
/// `conversations` conversations per bot (half of them groups).
pub fn traffic(bots: &[&str], conversations: usize, rate: f64, seconds: u64) -> LoadRequest {
    LoadRequest {
        bots: bots.iter().map(|b| (*b).to_owned()).collect(),
        conversations_per_bot: conversations,
        group_percent: 50,
        picture_percent: 0,
        messages_per_conversation: 0,
        rate,
        duration_ms: seconds * 1000,
        drain_ms: 30_000,
        burst: 0,
        burst_gap_ms: 0,
    }
}

/// Registers bots whose secret is `<clientId>-secret` (for gateways run as processes, whose
/// config names them).
pub fn add_bots(sim: &SimServer, bots: &[&str]) {
    for b in bots {
        sim.sim.add_bot(NewBot {
            client_id: Some((*b).into()),
            client_secret: Some(format!("{b}-secret")),
            name: Some((*b).into()),
        });
    }
}

/// The simulator with `bots`, redelivering what is not acknowledged within 1.5 s (as
/// DingTalk does, to any open connection), and an offline model whose turns take `latency`
/// (so a fault finds turns in flight).
pub async fn sim_and_slow_model(bots: &[&str], latency: Duration) -> (SimServer, OfflineModel) {
    let sim = SimServer::start(super::gateway::test_sim(), 0, 2)
        .await
        .unwrap();
    let model = OfflineModel::start(
        ModelOptions {
            latency,
            ..ModelOptions::default()
        },
        0,
        2,
    )
    .await
    .unwrap();
    add_bots(&sim, bots);
    sim.sim.chaos(&ChaosRequest {
        redeliver_after_ms: Some(1500),
        ..ChaosRequest::default()
    });
    (sim, model)
}

/// Waits until `n` bots have a connection.
pub async fn wait_bots_connected(sim: &SimServer, n: usize) {
    let start = Instant::now();
    while sim.sim.bots().iter().filter(|b| b.connections > 0).count() < n {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "bots did not connect"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Returns once the load run has ended (all replies in, or the drain is over).
pub async fn run_traffic_until_done(sim: &SimServer, timeout: Duration) -> LoadReport {
    let start = Instant::now();
    loop {
        if let Some(r) = sim.sim.load_report()
            && !r.running
        {
            return r;
        }
        assert!(
            start.elapsed() < timeout,
            "the load run did not end within {timeout:?}: {:?}",
            sim.sim.load_report()
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What a chaos test reports.
#[derive(Debug, Default)]
pub struct Tally {
    pub fault: &'static str,
    pub sent: u64,
    pub answered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub restarts: u64,
    /// When each message answered twice was first answered (Unix ms).
    pub duplicates_first_answered_ms: Vec<i64>,
    /// Kills (Unix ms) just before which a first answer may be repeated: the README's one
    /// accepted window (reply accepted, done mark not yet committed). Empty: none allowed.
    pub kills_ms: Vec<i64>,
    /// Anything else worth printing (reconnects, retries, faults injected...).
    pub notes: Vec<(&'static str, u64)>,
}

impl Tally {
    pub fn from_report(fault: &'static str, r: &LoadReport) -> Tally {
        Tally {
            fault,
            sent: r.sent,
            answered: r.answered,
            lost: r.lost + r.unpushed,
            duplicated: r.duplicated,
            duplicates_first_answered_ms: r.duplicates_first_answered_ms.clone(),
            ..Tally::default()
        }
    }

    pub fn note(mut self, what: &'static str, n: u64) -> Tally {
        self.notes.push((what, n));
        self
    }

    pub fn restarts(mut self, n: u64) -> Tally {
        self.restarts = n;
        self
    }

    /// The gateway was killed at these moments (Unix ms): a message whose reply DingTalk
    /// accepted in the last instant before a kill may be answered again from the journal.
    pub fn killed_at(mut self, kills_ms: Vec<i64>) -> Tally {
        self.kills_ms = kills_ms;
        self
    }

    /// Duplicates that are not the accepted window: a first answer long before any kill means
    /// a done mark was never committed, which is a bug.
    fn unexplained_duplicates(&self) -> Vec<i64> {
        // The window is sub-millisecond on a quiet machine; 250 ms leaves room for a loaded
        // CI runner while still catching a done mark that was lost or batched for long.
        const WINDOW_MS: i64 = 250;
        self.duplicates_first_answered_ms
            .iter()
            .copied()
            .filter(|at| {
                !self
                    .kills_ms
                    .iter()
                    .any(|kill| (kill - WINDOW_MS..=*kill).contains(at))
            })
            .collect()
    }

    /// Prints one line (the README's reliability table is made of these) and asserts that
    /// nothing was lost or answered twice (outside the window `killed_at` allows).
    pub fn check(&self) {
        let notes: Vec<String> = self.notes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "CHAOS {}: sent={} answered={} lost={} duplicated={} restarts={} {}",
            self.fault,
            self.sent,
            self.answered,
            self.lost,
            self.duplicated,
            self.restarts,
            notes.join(" ")
        );
        assert!(self.sent > 0, "{}: no traffic was sent", self.fault);
        assert_eq!(self.lost, 0, "{}: messages lost: {self:?}", self.fault);
        assert_eq!(
            self.duplicates_first_answered_ms.len() as u64,
            self.duplicated,
            "{}: the simulator's duplicate count and list disagree: {self:?}",
            self.fault
        );
        assert!(
            self.unexplained_duplicates().is_empty(),
            "{}: messages answered twice, first answered at {:?}, not in the instant before a kill: {self:?}",
            self.fault,
            self.unexplained_duplicates()
        );
        assert_eq!(self.answered, self.sent, "{}: {self:?}", self.fault);
    }
}
