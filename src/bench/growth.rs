//! The growth preset: how a message's cost grows with what surrounds it, each curve from
//! its own gateway so one cannot leak into another.
//!
//! - **History**: one bot, 200 conversations; their sessions are filled turn by turn, and at
//!   1, 10, 50 and 200 turns of history two more messages per conversation are measured. The
//!   model's request bytes per call are measured beside the CPU, so the curve can be read
//!   against the bytes that must be serialised and sent.
//! - **Idle bots**: 1, 100, 1,000 and 10,000 bots connected (capped by `--bots`); the idle
//!   gateway's CPU and memory, then a fixed message load on one of them.
//! - **Tool rounds**: 0, 1 and 3 tool calls per turn (the offline model asks for
//!   `current_time` until the turn has that many results).
//!
//! CPU comes from `/proc` (10 ms ticks), so every measured window holds at least hundreds of
//! messages or tens of seconds of idleness.

use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use serde::Serialize;
use serde_json::Value;

use super::plan::Plan;
use super::{Mode, Setup, get_json, load_run, probe, start};
use crate::sim::{LoadReport, LoadRequest};

/// History lengths measured, in turns.
const HISTORY_TURNS: [usize; 4] = [1, 10, 50, 200];
/// Conversations whose histories grow.
const HISTORY_CONVERSATIONS: usize = 200;
/// Messages per conversation in each measured window.
const HISTORY_MEASURED: usize = 2;
/// Bot counts measured.
const BOT_STEPS: [usize; 4] = [1, 100, 1_000, 10_000];
/// How long the idle gateway is watched.
const IDLE_WINDOW: Duration = Duration::from_secs(20);

/// The longest wait for an idle gateway's memory release before its memory is measured
/// (`dingclaw.memoryReleaseSeconds` is 10: the release comes 10-20 s after the last
/// connection).
const RELEASE_WAIT: Duration = Duration::from_secs(30);
/// The message load on one bot, beside the idle ones.
const BOTS_LOAD_RATE: f64 = 200.0;
const BOTS_LOAD_SECS: u64 = 10;
/// Tool rounds per turn measured.
const TOOL_ROUNDS: [u32; 3] = [0, 1, 3];

/// One point of the history curve.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPoint {
    /// Turns of history the measured messages had (each adds one).
    pub turns: usize,
    pub messages: u64,
    pub cpu_us_per_message: f64,
    /// Bytes of the model request, per model call.
    pub request_bytes: f64,
    /// CPU per KiB of model request: flat when the cost is linear in the bytes sent.
    pub cpu_us_per_request_kib: f64,
}

/// One point of the bot-count curve.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotsPoint {
    pub bots: usize,
    /// From starting the gateway until every bot was connected.
    pub connect_ms: u64,
    /// The idle gateway, every bot connected.
    pub idle_rss_kib: u64,
    /// Idle CPU, in percent of one core.
    pub idle_cpu_percent: f64,
    /// (Idle RSS - the one-bot run's) / (bots - 1).
    pub bytes_per_idle_bot: u64,
    /// The message load on one bot.
    pub messages: u64,
    pub cpu_us_per_message: f64,
}

/// One point of the tool-rounds curve.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolsPoint {
    pub rounds: u32,
    pub messages: u64,
    pub cpu_us_per_message: f64,
    pub model_calls_per_message: f64,
    /// Of those, the compaction's summarising calls (a closed loop fills each history up to
    /// the context window's threshold).
    pub summary_calls_per_message: f64,
}

/// The three curves.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrowthFigures {
    pub history: Vec<HistoryPoint>,
    pub bots: Vec<BotsPoint>,
    pub tools: Vec<ToolsPoint>,
}

/// A progress line (stderr, so the report on stdout stays clean).
fn say(line: &str) {
    eprintln!("  growth: {line}");
}

/// CPU seconds of the gateway now.
fn cpu_s(setup: &Setup) -> f64 {
    probe::usage(setup.gateway.pid()).map_or(0.0, |u| u.cpu_s)
}

/// The offline model's counters: (requests, request bytes, summarising requests).
async fn model_counts(setup: &Setup) -> anyhow::Result<(u64, u64, u64)> {
    let stats: Value = get_json(
        &setup.http,
        &format!("{}/offline/stats", setup.model_url),
        None,
    )
    .await?;
    let n = |k: &str| stats[k].as_u64().unwrap_or(0);
    Ok((n("requests"), n("requestBytes"), n("summaries")))
}

/// A closed-loop run of `messages` per conversation of `bots`.
async fn closed_loop(
    setup: &mut Setup,
    bots: Vec<String>,
    conversations: usize,
    messages: usize,
    bar: &ProgressBar,
) -> anyhow::Result<LoadReport> {
    let request = LoadRequest {
        bots,
        conversations_per_bot: conversations,
        group_percent: 0,
        picture_percent: 0,
        messages_per_conversation: messages,
        rate: 0.0,
        duration_ms: 600_000,
        drain_ms: 30_000,
        burst: 0,
        burst_gap_ms: 0,
    };
    Ok(load_run(setup, &request, bar).await?.0)
}

/// Fails when a step lost or duplicated messages: its figure would mean nothing.
fn check(load: &LoadReport, what: &str) -> anyhow::Result<()> {
    if load.lost + load.duplicated + load.unpushed > 0 {
        anyhow::bail!(
            "{what}: {} lost, {} duplicated, {} not pushed",
            load.lost,
            load.duplicated,
            load.unpushed
        );
    }
    Ok(())
}

async fn history(
    plan: &Plan,
    exe: &Path,
    dir: &Path,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<HistoryPoint>> {
    let mut p = plan.clone();
    p.bots = 1;
    p.conversations_per_bot = HISTORY_CONVERSATIONS;
    // Every turn of the longest history goes to the model.
    p.history_limit = Some(2 * (HISTORY_TURNS[HISTORY_TURNS.len() - 1] + HISTORY_MEASURED));
    let mut setup = start(&p, exe, &dir.join("history"), &Mode::Single).await?;
    setup.watch_sessions = false;
    let bots = setup.bots.clone();
    let mut done = 0;
    let mut points = Vec::new();
    for turns in HISTORY_TURNS {
        let fill = turns.saturating_sub(done + 1);
        if fill > 0 {
            let load =
                closed_loop(&mut setup, bots.clone(), HISTORY_CONVERSATIONS, fill, bar).await?;
            check(&load, "history fill")?;
            done += fill;
        }
        let (cpu0, (calls0, bytes0, _)) = (cpu_s(&setup), model_counts(&setup).await?);
        let load = closed_loop(
            &mut setup,
            bots.clone(),
            HISTORY_CONVERSATIONS,
            HISTORY_MEASURED,
            bar,
        )
        .await?;
        check(&load, "history")?;
        let (cpu1, (calls1, bytes1, _)) = (cpu_s(&setup), model_counts(&setup).await?);
        done += HISTORY_MEASURED;
        let cpu_us = (cpu1 - cpu0) * 1e6 / load.answered.max(1) as f64;
        let request_bytes = (bytes1 - bytes0) as f64 / (calls1 - calls0).max(1) as f64;
        say(&format!(
            "history {turns} turns: {cpu_us:.0} us CPU per message, {request_bytes:.0} request bytes"
        ));
        points.push(HistoryPoint {
            turns,
            messages: load.answered,
            cpu_us_per_message: cpu_us,
            request_bytes,
            cpu_us_per_request_kib: cpu_us / (request_bytes / 1024.0).max(f64::MIN_POSITIVE),
        });
    }
    Ok(points)
}

async fn bots(
    plan: &Plan,
    exe: &Path,
    dir: &Path,
    max_bots: usize,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<BotsPoint>> {
    let mut points: Vec<BotsPoint> = Vec::new();
    for n in BOT_STEPS.into_iter().filter(|n| *n <= max_bots) {
        let mut p = plan.clone();
        p.bots = n;
        let mut setup = start(&p, exe, &dir.join(format!("bots-{n}")), &Mode::Single).await?;
        setup.watch_sessions = false;
        // Connection set-up (token, open, socket) is over; let the first pings pass too, and
        // the quiet gateway give back what the connections' set-up left free.
        let releases = super::memory_releases(&setup).await?;
        actix_rt::time::sleep(Duration::from_secs(5)).await;
        super::after_memory_release(&setup, releases, RELEASE_WAIT).await?;
        let (cpu0, t0) = (cpu_s(&setup), Instant::now());
        actix_rt::time::sleep(IDLE_WINDOW).await;
        setup.gateway.check_alive()?;
        // Read at the end of the idle window, not just after the release: the code the
        // release unmapped maps back as the idle gateway runs (pings, timers), and that is
        // what it holds while it stays idle.
        let idle_rss_kib = probe::usage(setup.gateway.pid()).map_or(0, |u| u.rss_kib);
        let idle_cpu_percent = (cpu_s(&setup) - cpu0) * 100.0 / t0.elapsed().as_secs_f64();
        let request = LoadRequest {
            bots: setup.bots[..1].to_vec(),
            conversations_per_bot: 100,
            group_percent: 0,
            picture_percent: 0,
            messages_per_conversation: 0,
            rate: BOTS_LOAD_RATE,
            duration_ms: BOTS_LOAD_SECS * 1000,
            drain_ms: 30_000,
            burst: 0,
            burst_gap_ms: 0,
        };
        let cpu0 = cpu_s(&setup);
        let load = load_run(&mut setup, &request, bar).await?.0;
        check(&load, "bots")?;
        let one = points.first().map_or(idle_rss_kib, |p| p.idle_rss_kib);
        say(&format!(
            "{n} idle bots: {:.1} MiB, {idle_cpu_percent:.2}% of a core; then {} messages",
            idle_rss_kib as f64 / 1024.0,
            load.answered
        ));
        points.push(BotsPoint {
            bots: n,
            connect_ms: setup.connect_ms,
            idle_rss_kib,
            idle_cpu_percent,
            bytes_per_idle_bot: (idle_rss_kib.saturating_sub(one) * 1024)
                .checked_div(n as u64 - 1)
                .unwrap_or(0),
            messages: load.answered,
            cpu_us_per_message: (cpu_s(&setup) - cpu0) * 1e6 / load.answered.max(1) as f64,
        });
    }
    Ok(points)
}

async fn tools(
    plan: &Plan,
    exe: &Path,
    dir: &Path,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<ToolsPoint>> {
    let mut points = Vec::new();
    for rounds in TOOL_ROUNDS {
        let mut p = plan.clone();
        p.bots = 1;
        p.tool_rounds = rounds;
        let mut setup = start(&p, exe, &dir.join(format!("tools-{rounds}")), &Mode::Single).await?;
        setup.watch_sessions = false;
        let request = LoadRequest {
            bots: setup.bots.clone(),
            conversations_per_bot: p.conversations_per_bot,
            group_percent: 0,
            picture_percent: 0,
            messages_per_conversation: 0,
            rate: 0.0,
            duration_ms: p.duration_s * 1000,
            drain_ms: 30_000,
            burst: 0,
            burst_gap_ms: 0,
        };
        let (cpu0, (calls0, _, summaries0)) = (cpu_s(&setup), model_counts(&setup).await?);
        let load = load_run(&mut setup, &request, bar).await?.0;
        check(&load, "tools")?;
        let (cpu1, (calls1, _, summaries1)) = (cpu_s(&setup), model_counts(&setup).await?);
        let messages = load.answered.max(1) as f64;
        say(&format!(
            "{rounds} tool rounds: {:.0} us CPU per message",
            (cpu1 - cpu0) * 1e6 / messages
        ));
        points.push(ToolsPoint {
            rounds,
            messages: load.answered,
            cpu_us_per_message: (cpu1 - cpu0) * 1e6 / messages,
            model_calls_per_message: (calls1 - calls0) as f64 / messages,
            summary_calls_per_message: (summaries1 - summaries0) as f64 / messages,
        });
    }
    Ok(points)
}

/// Runs the three curves; `max_bots` caps the bot steps.
pub(super) async fn measure(
    plan: &Plan,
    exe: &Path,
    dir: &Path,
    max_bots: usize,
    bar: &ProgressBar,
) -> anyhow::Result<GrowthFigures> {
    Ok(GrowthFigures {
        history: history(plan, exe, dir, bar).await?,
        bots: bots(plan, exe, dir, max_bots, bar).await?,
        tools: tools(plan, exe, dir, bar).await?,
    })
}

impl GrowthFigures {
    /// The curves as text.
    pub fn text(&self) -> String {
        let mut s = String::from(
            "dingclaw bench --preset growth\n  history (turns: CPU per message, model request per call)\n",
        );
        for p in &self.history {
            s.push_str(&format!(
                "    {:>4} turns   {:>7.0} us   {:>8.1} KiB   ({:.1} us per KiB sent)\n",
                p.turns,
                p.cpu_us_per_message,
                p.request_bytes / 1024.0,
                p.cpu_us_per_request_kib
            ));
        }
        s.push_str("  idle bots (connected: idle RSS, idle CPU, memory per bot; CPU per message on one busy bot)\n");
        for p in &self.bots {
            s.push_str(&format!(
                "    {:>6} bots   {:>7.1} MiB   {:>5.2}% of a core   {:>7} bytes/bot   {:>7.0} us/message   connected in {} ms\n",
                p.bots,
                p.idle_rss_kib as f64 / 1024.0,
                p.idle_cpu_percent,
                p.bytes_per_idle_bot,
                p.cpu_us_per_message,
                p.connect_ms
            ));
        }
        s.push_str(
            "  tool rounds per turn (CPU per message, model calls per message, of them summaries)\n",
        );
        for p in &self.tools {
            s.push_str(&format!(
                "    {} rounds   {:>7.0} us   {:.2} calls   {:.2} summaries\n",
                p.rounds,
                p.cpu_us_per_message,
                p.model_calls_per_message,
                p.summary_calls_per_message
            ));
        }
        s
    }
}
