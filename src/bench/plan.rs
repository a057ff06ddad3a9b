//! What a benchmark run does: a preset, with any flag overriding its part.

use clap::{Args, ValueEnum};
use serde::Serialize;

/// The named shapes (README: Performance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// 10 s, a few conversations: that it works (CI runs it; it asserts behaviour, not speed).
    Smoke,
    /// 2 bots x 1,000 conversations, closed loop, 0 ms model: the throughput ceiling.
    Standard,
    /// 50 bots x 20,000 conversations, 800 ms model, open loop.
    Scale,
    /// 1,000,000 sessions created, left idle until evicted, then some brought back.
    Sessions,
    /// The standard shape with 10 % of messages pictures (downloaded, kept, sent to a model
    /// that takes pictures).
    Mixed,
    /// 6 bots x 200 conversations, closed loop: first one gateway on SQLite, then three
    /// gateways sharing one PostgreSQL store (`dingclaw.cluster`), side by side.
    Cluster,
    /// 1 bot x 50 conversations, closed loop, replies as AI cards under DingTalk's 20 card
    /// calls a second: card replies a second per bot, and card calls per reply.
    Cards,
    /// How the cost of a message grows: CPU per message against history length (1, 10, 50,
    /// 200 turns), idle bots holding connections (1, 100, 1,000, 10,000; `--bots` caps
    /// them) and tool rounds per turn (0, 1, 3), each a plot; idle CPU and memory per bot.
    Growth,
}

#[derive(Clone, Debug, Args)]
pub struct BenchArgs {
    #[arg(long, value_enum, default_value = "standard")]
    pub preset: Preset,
    /// DingTalk bots (accounts).
    #[arg(long)]
    pub bots: Option<usize>,
    /// Conversations per bot.
    #[arg(long)]
    pub conversations: Option<usize>,
    /// Share of conversations that are groups, 0-100.
    #[arg(long)]
    pub group_percent: Option<u8>,
    /// Share of messages that are pictures, 0-100 (the mixed preset: 10).
    #[arg(long)]
    pub picture_percent: Option<u8>,
    /// Messages per conversation (0: as many as the duration allows).
    #[arg(long)]
    pub messages: Option<usize>,
    /// Messages per second, open loop; 0: closed loop (each conversation waits for its answer).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Seconds of sending.
    #[arg(long)]
    pub duration: Option<u64>,
    /// The offline model's answer time, in ms.
    #[arg(long)]
    pub model_latency_ms: Option<u64>,
    /// Gateway worker threads (default: one per core).
    #[arg(long)]
    pub gateway_workers: Option<usize>,
    /// Simulator HTTP workers.
    #[arg(long, default_value_t = 1)]
    pub sim_workers: usize,
    /// Offline model HTTP workers.
    #[arg(long, default_value_t = 1)]
    pub model_workers: usize,
    /// Where the JSON report, the plot and the logs go.
    #[arg(long, default_value = "target/bench")]
    pub out: std::path::PathBuf,
    /// Seconds a session stays in memory without a message (the sessions preset; default 60).
    #[arg(long)]
    pub session_idle: Option<u64>,
    /// The gateway's `dingclaw.transcriptIdleSeconds`. Given, the sessions preset also waits
    /// `max(S, 10) + 3` seconds after its load, then for the quiet gateway's next memory
    /// release (at most 60 s), and measures memory per resident session then (set
    /// `--session-idle` above that wait, about 35 s, so they are still resident); `0` keeps
    /// transcripts, for the same measurement without letting them go.
    #[arg(long)]
    pub transcript_idle: Option<u64>,
    /// Run the gateway without the inbound journal (`dingclaw.journal: false`), to measure
    /// what the journal costs in ACK latency and throughput.
    #[arg(long)]
    pub no_journal: bool,
    /// The cards preset's `card.holdMs` (default: the gateway's; 0 = a "processing" card
    /// at once, as the connectors do).
    #[arg(long)]
    pub card_hold_ms: Option<u64>,
    /// Run this `dingclaw` binary as the gateway (the simulator and the model stay this
    /// one's): two builds measured side by side, by the same harness.
    #[arg(long)]
    pub gateway_exe: Option<std::path::PathBuf>,
    /// No progress bar (logs, CI).
    #[arg(long)]
    pub quiet: bool,
}

/// The resolved shape of a run.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub preset: Preset,
    pub bots: usize,
    pub conversations_per_bot: usize,
    pub group_percent: u8,
    pub picture_percent: u8,
    pub messages_per_conversation: usize,
    pub rate: f64,
    pub duration_s: u64,
    pub model_latency_ms: u64,
    pub gateway_workers: Option<usize>,
    pub sim_workers: usize,
    pub model_workers: usize,
    /// Seconds of idleness before the gateway evicts a session (the sessions preset).
    pub session_idle_s: Option<u64>,
    /// `dingclaw.transcriptIdleSeconds`, when given.
    pub transcript_idle_s: Option<u64>,
    /// The gateway journals inbound messages (the default).
    pub journal: bool,
    /// Replies as AI cards (the cards preset).
    pub cards: bool,
    /// `card.holdMs` for the gateway, when given.
    pub card_hold_ms: Option<u64>,
    /// `dingclaw.historyLimit` for the gateway, when given (the growth preset's long
    /// histories).
    pub history_limit: Option<usize>,
    /// Tool rounds per turn the offline model asks for (the growth preset).
    pub tool_rounds: u32,
    /// Another build to run as the gateway.
    pub gateway_exe: Option<std::path::PathBuf>,
}

impl Plan {
    pub fn from_args(a: &BenchArgs) -> Plan {
        // bots, conversations, groups %, messages, rate, duration, model ms
        let (bots, conversations, groups, messages, rate, duration, model) = match a.preset {
            Preset::Smoke => (2, 50, 30, 0, 200.0, 10, 0),
            Preset::Standard => (2, 1_000, 20, 0, 0.0, 30, 0),
            Preset::Scale => (50, 20_000, 20, 1, 4_000.0, 250, 800),
            Preset::Sessions => (10, 100_000, 0, 1, 5_000.0, 200, 0),
            Preset::Mixed => (2, 1_000, 20, 0, 0.0, 30, 0),
            Preset::Cluster => (6, 200, 20, 0, 0.0, 20, 0),
            Preset::Cards => (1, 50, 20, 0, 0.0, 20, 0),
            // The growth preset's steps set their own shapes (`growth.rs`); these are its
            // message load's.
            Preset::Growth => (1, 200, 0, 0, 0.0, 10, 0),
        };
        let pictures = if a.preset == Preset::Mixed { 10 } else { 0 };
        Plan {
            preset: a.preset,
            bots: a.bots.unwrap_or(bots).max(1),
            conversations_per_bot: a.conversations.unwrap_or(conversations).max(1),
            group_percent: a.group_percent.unwrap_or(groups).min(100),
            picture_percent: a.picture_percent.unwrap_or(pictures).min(100),
            messages_per_conversation: a.messages.unwrap_or(messages),
            rate: a.rate.unwrap_or(rate).max(0.0),
            duration_s: a.duration.unwrap_or(duration).max(1),
            model_latency_ms: a.model_latency_ms.unwrap_or(model),
            gateway_workers: a.gateway_workers,
            sim_workers: a.sim_workers.max(1),
            model_workers: a.model_workers.max(1),
            // Shorter than the sessions preset's run, so sessions leave memory while others
            // arrive: resident sessions stay bounded while a million pass through.
            session_idle_s: (a.preset == Preset::Sessions).then_some(a.session_idle.unwrap_or(60)),
            transcript_idle_s: a.transcript_idle,
            journal: !a.no_journal,
            cards: a.preset == Preset::Cards,
            card_hold_ms: a.card_hold_ms,
            history_limit: None,
            tool_rounds: 0,
            gateway_exe: a.gateway_exe.clone(),
        }
    }

    pub fn conversations(&self) -> usize {
        self.bots * self.conversations_per_bot
    }

    /// Messages the run will try to send, for the progress bar.
    pub fn expected_messages(&self) -> u64 {
        let by_count = (self.messages_per_conversation > 0)
            .then(|| (self.conversations() * self.messages_per_conversation) as u64);
        let by_rate = (self.rate > 0.0).then_some((self.rate * self.duration_s as f64) as u64);
        match (by_count, by_rate) {
            (Some(c), Some(r)) => c.min(r),
            (Some(c), None) => c,
            (None, Some(r)) => r,
            (None, None) => 0,
        }
    }
}
