//! What a load benchmark reports, as JSON and as text.

use serde::Serialize;

use crate::sim::{LoadReport, Percentiles, Second};

use super::plan::Plan;

/// The gateway process's own resource use.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayUse {
    pub cpu_s: f64,
    /// CPU milliseconds per 1,000 messages answered.
    pub cpu_ms_per_1000: f64,
    pub peak_rss_kib: u64,
    /// After every bot connected, before the load.
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    /// Sessions in memory at the peak (or at the end, when that is more).
    pub sessions_resident: u64,
    /// (RSS at that moment - RSS before the load) / those sessions.
    pub rss_per_session_bytes: u64,
    /// Store transactions per message answered (group commits, journal included).
    pub store_commits_per_message: f64,
    /// Writes those transactions carried, per message.
    pub store_writes_per_message: f64,
    /// The gateway's threads going to sleep (voluntary context switches), per message.
    pub sleeps_per_message: f64,
}

/// The sessions preset's extra phases.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsPhase {
    pub created: u64,
    pub peak_resident: u64,
    pub peak_rss_kib: u64,
    pub bytes_per_session: u64,
    /// With `--transcript-idle`: sessions still resident after the quiet wait, the RSS then,
    /// and the growth of anonymous memory over the load per resident session.
    pub quiet_resident: u64,
    pub quiet_rss_kib: u64,
    pub bytes_per_quiet_session: u64,
    /// From the last message until no session is left in memory.
    pub evict_s: f64,
    pub rss_after_evict_kib: u64,
    /// 20 s after the last session left (the store gives its caches back after 10 quiet
    /// seconds), and the idle gateway's RSS before the load, to compare with.
    pub rss_settled_kib: u64,
    /// Session actors still alive then (each evicted actor should have ended; -1: a
    /// gateway that does not report them).
    pub actors_after_evict: i64,
    pub rss_idle_kib: u64,
    /// Messages to sessions that had been evicted: rebuilt from the store.
    pub rehydrated: u64,
    pub rehydrate_lost: u64,
    pub rehydrate_latency_us: Percentiles,
}

/// The cluster preset: the same load on one gateway with SQLite, then on several sharing a
/// PostgreSQL store.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterFigures {
    pub gateways: usize,
    /// The single gateway's run (SQLite), same shape.
    pub single_sustained_per_s: f64,
    pub single_latency_us: Percentiles,
    pub single_cpu_ms_per_1000: f64,
    pub single_lost: u64,
    pub single_duplicated: u64,
    /// Every gateway's CPU together, per 1,000 messages.
    pub cpu_ms_per_1000: f64,
    /// PostgreSQL transactions committed during the cluster's run (heartbeats included).
    pub pg_commits: i64,
    pub pg_commits_per_message: f64,
}

/// The cards preset: what AI card replies cost in card API calls, the resource DingTalk
/// limits (20 a second per app).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CardFigures {
    /// Replies that went out as finished cards.
    pub replies: u64,
    /// Replies that fell back to markdown (a card error degraded the bot).
    pub markdown_replies: u64,
    /// Card calls of every kind the simulator received (refused ones included).
    pub calls: u64,
    pub calls_per_reply: f64,
    /// Calls DingTalk's limit refused (the gateway's own window should keep this at 0).
    pub throttled: u64,
    /// Sustained replies a second, per bot.
    pub replies_per_s_per_bot: f64,
    /// The `card.holdMs` the run used, when set (else the gateway's default).
    pub hold_ms: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub plan: Plan,
    pub cores: usize,
    pub dingclaw_version: &'static str,
    /// From starting the gateway until every bot was connected.
    pub connect_ms: u64,
    pub send_s: f64,
    pub sent: u64,
    pub answered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub unpushed: u64,
    /// Answered per second over the whole run.
    pub messages_per_s: f64,
    /// Answered per second in the full seconds of sending (the first and last left out).
    pub sustained_per_s: f64,
    /// Push of the frame to the reply at the sessionWebhook.
    pub latency_us: Percentiles,
    /// End to end minus the model's time: what the gateway adds.
    pub gateway_share_us: Percentiles,
    pub ack_us: Percentiles,
    pub gateway: GatewayUse,
    pub seconds: Vec<Second>,
    /// (seconds since the load started, gateway RSS KiB).
    pub rss_samples: Vec<(f64, u64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<SessionsPhase>,
    /// The cluster preset: the rest of this report is the cluster's run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterFigures>,
    /// The cards preset's card figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cards: Option<CardFigures>,
    /// The growth preset's curves (the rest of the report is empty for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub growth: Option<super::growth::GrowthFigures>,
}

impl Report {
    pub fn new(
        plan: Plan,
        connect_ms: u64,
        load: &LoadReport,
        gateway: GatewayUse,
        rss: Vec<(f64, u64)>,
    ) -> Report {
        let model_us = plan.model_latency_ms * 1000;
        let minus = |v: u64| v.saturating_sub(model_us);
        let l = &load.latency_us;
        let share = Percentiles {
            count: l.count,
            mean: (l.mean - model_us as f64).max(0.0),
            p50: minus(l.p50),
            p90: minus(l.p90),
            p99: minus(l.p99),
            p999: minus(l.p999),
            max: minus(l.max),
        };
        let send_secs = (load.send_ms / 1000) as usize;
        let middle: Vec<u64> = load
            .seconds
            .iter()
            .take(send_secs)
            .skip(1)
            .map(|s| s.answered)
            .collect();
        let sustained = if middle.is_empty() {
            0.0
        } else {
            middle.iter().sum::<u64>() as f64 / middle.len() as f64
        };
        Report {
            plan,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            dingclaw_version: env!("CARGO_PKG_VERSION"),
            connect_ms,
            send_s: load.send_ms as f64 / 1000.0,
            sent: load.sent,
            answered: load.answered,
            lost: load.lost,
            duplicated: load.duplicated,
            unpushed: load.unpushed,
            messages_per_s: load.answered as f64 / (load.elapsed_ms.max(1) as f64 / 1000.0),
            sustained_per_s: sustained,
            latency_us: load.latency_us.clone(),
            gateway_share_us: share,
            ack_us: load.ack_us.clone(),
            gateway,
            seconds: load.seconds.clone(),
            rss_samples: rss,
            sessions: None,
            cluster: None,
            cards: None,
            growth: None,
        }
    }

    /// Nothing lost or answered twice (in either run of the cluster preset).
    pub fn clean(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.unpushed == 0
            && self
                .cluster
                .as_ref()
                .is_none_or(|c| c.single_lost == 0 && c.single_duplicated == 0)
    }

    /// The report as text.
    pub fn text(&self) -> String {
        if let Some(g) = &self.growth {
            return g.text();
        }
        let ms = |us: u64| format!("{:.2} ms", us as f64 / 1000.0);
        let p = &self.plan;
        let mut s = String::new();
        s.push_str(&format!(
            "dingclaw bench --preset {:?}: {} bots x {} conversations ({}% groups), {}, model {} ms, {} cores\n",
            p.preset,
            p.bots,
            p.conversations_per_bot,
            p.group_percent,
            if p.rate > 0.0 { format!("open loop at {} msg/s", p.rate) } else { "closed loop".to_owned() },
            p.model_latency_ms,
            self.cores,
        ));
        s.push_str(&format!("  bots connected in    {} ms\n", self.connect_ms));
        s.push_str(&format!(
            "  messages             {} sent, {} answered, {} lost, {} duplicated, {} not pushed\n",
            self.sent, self.answered, self.lost, self.duplicated, self.unpushed
        ));
        s.push_str(&format!(
            "  throughput           {:.0} msg/s sustained ({:.0} over the run, {:.1} s of sending)\n",
            self.sustained_per_s, self.messages_per_s, self.send_s
        ));
        let l = &self.latency_us;
        s.push_str(&format!(
            "  end-to-end latency   p50 {}  p90 {}  p99 {}  p99.9 {}  max {}\n",
            ms(l.p50),
            ms(l.p90),
            ms(l.p99),
            ms(l.p999),
            ms(l.max)
        ));
        let g = &self.gateway_share_us;
        s.push_str(&format!(
            "  gateway's share      p50 {}  p90 {}  p99 {}  p99.9 {}\n",
            ms(g.p50),
            ms(g.p90),
            ms(g.p99),
            ms(g.p999)
        ));
        let a = &self.ack_us;
        s.push_str(&format!(
            "  ACK latency          p50 {}  p99 {}  max {}\n",
            ms(a.p50),
            ms(a.p99),
            ms(a.max)
        ));
        let u = &self.gateway;
        s.push_str(&format!(
            "  gateway CPU          {:.1} s ({:.0} ms per 1,000 messages)\n",
            u.cpu_s, u.cpu_ms_per_1000
        ));
        s.push_str(&format!(
            "  store                {:.2} commits and {:.1} writes per message\n",
            u.store_commits_per_message, u.store_writes_per_message
        ));
        s.push_str(&format!(
            "  thread sleeps        {:.1} per message (voluntary context switches)\n",
            u.sleeps_per_message
        ));
        s.push_str(&format!(
            "  gateway memory       peak RSS {:.1} MiB; {} sessions in memory, {} bytes each\n",
            u.peak_rss_kib as f64 / 1024.0,
            u.sessions_resident,
            u.rss_per_session_bytes
        ));
        if let Some(c) = &self.cluster {
            s.push_str(&format!(
                "  cluster              {} gateways on one PostgreSQL: {:.0} msg/s sustained, p50 {} p99 {}, {:.0} CPU ms per 1,000 (all gateways), {} commits ({:.2} per message)\n",
                c.gateways,
                self.sustained_per_s,
                ms(self.latency_us.p50),
                ms(self.latency_us.p99),
                c.cpu_ms_per_1000,
                c.pg_commits,
                c.pg_commits_per_message
            ));
            s.push_str(&format!(
                "  single gateway       SQLite, same load: {:.0} msg/s sustained, p50 {} p99 {}, {:.0} CPU ms per 1,000, {} lost, {} duplicated\n",
                c.single_sustained_per_s,
                ms(c.single_latency_us.p50),
                ms(c.single_latency_us.p99),
                c.single_cpu_ms_per_1000,
                c.single_lost,
                c.single_duplicated
            ));
        }
        if let Some(c) = &self.cards {
            s.push_str(&format!(
                "  AI cards             {:.1} card replies/s per bot; {} cards, {} card calls ({:.2} per reply), {} throttled, {} fell back to markdown{}\n",
                c.replies_per_s_per_bot,
                c.replies,
                c.calls,
                c.calls_per_reply,
                c.throttled,
                c.markdown_replies,
                c.hold_ms.map(|h| format!(" (holdMs {h})")).unwrap_or_default()
            ));
        }
        if let Some(sp) = &self.sessions {
            s.push_str(&format!(
                "  sessions             {} created, {} in memory at peak ({} bytes each, peak RSS {:.1} MiB)\n",
                sp.created, sp.peak_resident, sp.bytes_per_session, sp.peak_rss_kib as f64 / 1024.0
            ));
            if sp.quiet_resident > 0 {
                s.push_str(&format!(
                    "                       quiet: {} resident, {} bytes of anonymous memory each (RSS {:.1} MiB)\n",
                    sp.quiet_resident,
                    sp.bytes_per_quiet_session,
                    sp.quiet_rss_kib as f64 / 1024.0
                ));
            }
            s.push_str(&format!(
                "                       evicted in {:.1} s, {} session actors left (RSS after {:.1} MiB, 20 s later {:.1} MiB, idle before the load {:.1} MiB); {} brought back, p50 {} p99 {}, {} lost\n",
                sp.evict_s,
                sp.actors_after_evict,
                sp.rss_after_evict_kib as f64 / 1024.0,
                sp.rss_settled_kib as f64 / 1024.0,
                sp.rss_idle_kib as f64 / 1024.0,
                sp.rehydrated,
                ms(sp.rehydrate_latency_us.p50),
                ms(sp.rehydrate_latency_us.p99),
                sp.rehydrate_lost
            ));
        }
        s
    }
}
