//! `dingclaw bench`: the load benchmark. The DingTalk simulator, the offline model and the
//! gateway run as separate processes on loopback, so the figures include real sockets and the
//! gateway's CPU and memory are its own. The simulator plays the users (`/sim/load`) and times
//! every reply from the push of its frame to its arrival at the sessionWebhook; this process
//! only orchestrates, samples the gateway's `/proc` entries, and writes the report (JSON) and
//! the plot (SVG).
//!
//! - `plan`: presets and flags. `procs`: the child processes. `probe`: CPU and memory.
//! - `report`: what is reported. `plot`: the figure. `cluster`: the cluster preset (one
//!   gateway on SQLite, then three on one PostgreSQL store).

mod cluster;
mod growth;
mod plan;
mod plot;
mod probe;
mod procs;
mod report;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

pub use plan::{BenchArgs, Plan, Preset};
pub use report::{CardFigures, GatewayUse, Report, SessionsPhase};

use crate::sim::{LoadReport, LoadRequest};
use procs::{Proc, free_port, spawn, wait_http};

/// How long the processes may take to come up.
const STARTUP: Duration = Duration::from_secs(60);
/// Progress and memory samples.
const SAMPLE: Duration = Duration::from_millis(500);
/// Card API calls a second per app: DingTalk's limit as the connectors keep it.
const CARD_QPS: u32 = 20;

/// What the run talks to.
struct Setup {
    http: awc::Client,
    sim_url: String,
    model_url: String,
    gw_url: String,
    token: String,
    bots: Vec<String>,
    sim: Proc,
    model: Proc,
    gateway: Proc,
    /// The cluster preset's other gateways.
    members: Vec<Proc>,
    connect_ms: u64,
    rss_before_kib: u64,
    /// Its anonymous part, for the quiet sessions' figure.
    anon_before_kib: u64,
    /// The gateway's CPU seconds once every bot was connected: start-up is not a
    /// message's cost.
    cpu_before_s: f64,
    /// The gateway's thread sleeps at that moment.
    sleeps_before: u64,
    /// Read the sessions in memory from `/api/status` while a load runs. The growth preset
    /// does not: with 10,000 bots each status is large enough to count in a message's cost.
    watch_sessions: bool,
}

/// Where the gateways keep their state.
pub(crate) enum Mode {
    /// One gateway, SQLite in its state folder.
    Single,
    /// `instances` gateways sharing the PostgreSQL store at `url`.
    Cluster { url: String, instances: usize },
}

/// Runs the benchmark with the `dingclaw` binary at `exe`; writes `<out>/bench-<preset>.json`
/// and `.svg` and returns the report.
pub async fn run(args: &BenchArgs, exe: &Path) -> anyhow::Result<Report> {
    let plan = Plan::from_args(args);
    let dir = args
        .out
        .join(format!("run-{:?}", plan.preset).to_lowercase());
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    let report = match plan.preset {
        Preset::Cluster => cluster::compare(&plan, exe, &dir, args.quiet).await?,
        Preset::Growth => {
            let max_bots = args.bots.unwrap_or(usize::MAX);
            let figures =
                growth::measure(&plan, exe, &dir, max_bots, &ProgressBar::hidden()).await?;
            let mut report = Report::new(
                plan.clone(),
                0,
                &LoadReport::default(),
                GatewayUse::default(),
                Vec::new(),
            );
            report.growth = Some(figures);
            report
        }
        _ => measure(&plan, exe, &dir, &Mode::Single, args.quiet).await?,
    };
    let json_path = args
        .out
        .join(format!("bench-{:?}.json", plan.preset).to_lowercase());
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)?)?;
    let plots = match &report.growth {
        Some(g) => plot::draw_growth(g, &args.out).map_err(|e| anyhow::anyhow!("plot: {e}"))?,
        None => {
            let svg_path = json_path.with_extension("svg");
            plot::draw(&report, &svg_path).map_err(|e| anyhow::anyhow!("plot: {e}"))?;
            vec![svg_path]
        }
    };
    println!("{}", report.text());
    println!("  report               {}", json_path.display());
    for plot in plots {
        println!("  plot                 {}", plot.display());
    }
    Ok(report)
}

/// One load run of the plan's shape against gateways started in `dir`.
async fn measure(
    plan: &Plan,
    exe: &Path,
    dir: &Path,
    mode: &Mode,
    quiet: bool,
) -> anyhow::Result<Report> {
    let mut setup = start(plan, exe, dir, mode).await?;
    let bar = progress(quiet, plan.expected_messages());
    let request = LoadRequest {
        bots: setup.bots.clone(),
        conversations_per_bot: plan.conversations_per_bot,
        group_percent: plan.group_percent,
        picture_percent: plan.picture_percent,
        messages_per_conversation: plan.messages_per_conversation,
        rate: plan.rate,
        duration_ms: plan.duration_s * 1000,
        drain_ms: 30_000 + plan.model_latency_ms * 4,
        burst: 0,
        burst_gap_ms: 0,
    };
    let (load, rss, peak) = load_run(&mut setup, &request, &bar).await?;
    bar.finish_and_clear();
    let mut gateway = gateway_use(&setup, &load, peak).await?;
    if !setup.members.is_empty() {
        // Every gateway's CPU, for the cluster's cost per message.
        gateway.cpu_s += setup
            .members
            .iter()
            .filter_map(|m| probe::usage(m.pid()))
            .map(|u| u.cpu_s)
            .sum::<f64>();
        gateway.cpu_ms_per_1000 = gateway.cpu_s * 1000.0 / (load.answered.max(1) as f64 / 1000.0);
    }
    let mut report = Report::new(plan.clone(), setup.connect_ms, &load, gateway, rss);
    if plan.cards {
        report.cards = Some(card_figures(&setup, plan, &report).await?);
    }
    if plan.preset == Preset::Sessions {
        report.sessions =
            Some(sessions_phases(&mut setup, &report, plan.transcript_idle_s, quiet).await?);
    }
    Ok(report)
}

/// Sets simulator switches (`/sim/chaos`).
async fn post_chaos(http: &awc::Client, sim_url: &str, switches: Value) -> anyhow::Result<()> {
    let resp = http
        .post(format!("{sim_url}/sim/chaos"))
        .send_json(&switches)
        .await
        .map_err(|e| anyhow::anyhow!("set {switches}: {e}"))?;
    if !resp.status().is_success() {
        bail!("the simulator refused {switches}: HTTP {}", resp.status());
    }
    Ok(())
}

/// What the card replies cost in card calls, from the simulator's counters.
async fn card_figures(setup: &Setup, plan: &Plan, report: &Report) -> anyhow::Result<CardFigures> {
    let stats: Value = get_json(&setup.http, &format!("{}/sim/stats", setup.sim_url), None).await?;
    let n = |k: &str| stats[k].as_u64().unwrap_or(0);
    let replies = n("cardsFinished");
    let calls = n("cardsCreated")
        + n("cardStreamUpdates")
        + n("cardInstanceUpdates")
        + n("cardRejected")
        + n("cardThrottled");
    Ok(CardFigures {
        replies,
        markdown_replies: report.answered.saturating_sub(replies),
        calls,
        calls_per_reply: calls as f64 / replies.max(1) as f64,
        throttled: n("cardThrottled"),
        replies_per_s_per_bot: report.sustained_per_s / plan.bots as f64,
        hold_ms: plan.card_hold_ms,
    })
}

fn progress(quiet: bool, expected: u64) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(expected.max(1));
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} answered  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Starts the simulator, the model and the gateways, and waits until every bot is connected
/// (on two gateways, in a cluster).
async fn start(plan: &Plan, exe: &Path, dir: &Path, mode: &Mode) -> anyhow::Result<Setup> {
    std::fs::create_dir_all(dir)?;
    let http = dingclaw_actors::tls::client(Duration::from_secs(60));
    let (sim_port, model_port, gw_port) = (free_port()?, free_port()?, free_port()?);
    let sim_url = format!("http://127.0.0.1:{sim_port}");
    let model_url = format!("http://127.0.0.1:{model_port}");
    let gw_url = format!("http://127.0.0.1:{gw_port}");
    let quiet = [("RUST_LOG", "warn".to_owned())];
    let sim = spawn(
        "simulator",
        exe,
        &[
            "sim".into(),
            "--port".into(),
            sim_port.to_string(),
            "--workers".into(),
            plan.sim_workers.to_string(),
        ],
        &quiet,
        &dir.join("sim.log"),
    )?;
    let model = spawn(
        "offline model",
        exe,
        &[
            "offline-model".into(),
            "--port".into(),
            model_port.to_string(),
            "--latency-ms".into(),
            plan.model_latency_ms.to_string(),
            "--workers".into(),
            plan.model_workers.to_string(),
            "--tool-rounds".into(),
            plan.tool_rounds.to_string(),
        ],
        &quiet,
        &dir.join("model.log"),
    )?;
    wait_http(&http, &format!("{sim_url}/sim/stats"), STARTUP).await?;
    if plan.cards {
        // DingTalk's own limit on card calls, enforced as DingTalk does (a 403 QpsLimit),
        // so a gateway that spent more than it may would be seen throttled.
        post_chaos(&http, &sim_url, json!({"cardQps": CARD_QPS})).await?;
    }
    if plan.preset == Preset::Cluster {
        // Three gateways on two cores answer pings late under this load, and the simulator
        // then drops the socket; DingTalk pushes what was not acknowledged again (here after
        // 5 s), and so does the simulator in both runs of this preset.
        post_chaos(&http, &sim_url, json!({"redeliverAfterMs": 5000})).await?;
    }
    wait_http(&http, &format!("{model_url}/v1/models"), STARTUP).await?;
    let mut bots = Vec::new();
    let mut accounts = serde_json::Map::new();
    for i in 0..plan.bots {
        let (id, secret) = (format!("dingbench{i:04}"), format!("bench-secret-{i:04}"));
        let resp = http
            .post(format!("{sim_url}/sim/bots"))
            .send_json(&json!({"clientId": id, "clientSecret": secret}))
            .await
            .map_err(|e| anyhow::anyhow!("create bot: {e}"))?;
        if !resp.status().is_success() {
            bail!("the simulator refused bot {id}: HTTP {}", resp.status());
        }
        accounts.insert(
            format!("bench{i}"),
            json!({"clientId": id, "clientSecret": secret}),
        );
        bots.push(id);
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    let mut dingclaw = json!({});
    if let Some(w) = plan.gateway_workers {
        dingclaw["workers"] = json!(w);
    }
    if let Some(idle) = plan.session_idle_s {
        dingclaw["sessionIdleSeconds"] = json!(idle);
    }
    if let Some(idle) = plan.transcript_idle_s {
        dingclaw["transcriptIdleSeconds"] = json!(idle);
    }
    if !plan.journal {
        dingclaw["journal"] = json!(false);
    }
    if let Some(limit) = plan.history_limit {
        dingclaw["historyLimit"] = json!(limit);
    }
    let (instances, replicas) = match mode {
        Mode::Single => (1, 1),
        Mode::Cluster { url, instances } => {
            dingclaw["store"] = json!("postgres");
            dingclaw["storeUrl"] = json!(url);
            (*instances, 2.min(*instances))
        }
    };
    let reply_mode = if plan.cards { "aicard" } else { "text" };
    let mut card = json!({"qps": CARD_QPS});
    if let Some(hold) = plan.card_hold_ms {
        card["holdMs"] = json!(hold);
    }
    let mut config = json!({
        "agents": {
            "defaults": {"maxConcurrent": 100_000},
            "list": [{"id": "bench", "model": {"primary": "offline/bench-model"}}],
        },
        "channels": {"dingtalk-connector": {
            "endpoint": sim_url,
            "groupReplyMode": reply_mode,
            "dmReplyMode": reply_mode,
            "card": card,
            // The figures compare with runs from before the "thinking" reaction existed.
            "ackReaction": "off",
            "accounts": accounts,
        }},
        "bindings": [{"agentId": "bench", "match": {"channel": "dingtalk-connector", "accountId": "*"}}],
        "models": {"providers": {"offline": {
            "baseUrl": format!("{model_url}/v1"),
            "apiKey": "bench",
            "models": [{"id": "bench-model", "input": ["text", "image"]}],
            "maxConcurrent": 100_000,
            "maxQueue": 10_000_000,
        }}},
        "messages": {"queue": {"cap": 1_000}},
        "gateway": {"port": gw_port, "auth": {"token": token}, "reload": {"mode": "off"}},
        "cron": {"enabled": false},
        "dingclaw": dingclaw,
    });
    let mut gateways = Vec::new();
    let started = Instant::now();
    for i in 0..instances {
        let port = if i == 0 { gw_port } else { free_port()? };
        config["gateway"]["port"] = json!(port);
        if let Mode::Cluster { .. } = mode {
            config["dingclaw"]["cluster"] =
                json!({"instanceId": format!("bench-gw{i}"), "botReplicas": replicas});
        }
        // One gateway keeps the names it always had; a cluster's are numbered.
        let suffix = if instances == 1 {
            String::new()
        } else {
            format!("-{i}")
        };
        let config_path = dir.join(format!("openclaw{suffix}.json"));
        std::fs::write(&config_path, serde_json::to_string_pretty(&config)?)?;
        let state = dir.join(format!("state{suffix}"));
        gateways.push(spawn(
            "gateway",
            plan.gateway_exe.as_deref().unwrap_or(exe),
            &[
                "gateway".into(),
                "--config".into(),
                config_path.display().to_string(),
            ],
            &[
                ("RUST_LOG", "warn".to_owned()),
                ("OPENCLAW_STATE_DIR", state.display().to_string()),
                ("HOME", dir.display().to_string()),
            ],
            &dir.join(format!("gateway{suffix}.log")),
        )?);
    }
    let gateway = gateways.remove(0);
    let mut setup = Setup {
        http,
        sim_url,
        model_url,
        gw_url,
        token,
        bots,
        sim,
        model,
        gateway,
        members: gateways,
        connect_ms: 0,
        rss_before_kib: 0,
        anon_before_kib: 0,
        cpu_before_s: 0.0,
        sleeps_before: 0,
        watch_sessions: true,
    };
    loop {
        setup.gateway.check_alive()?;
        for m in &mut setup.members {
            m.check_alive()?;
        }
        let connected: Vec<Value> =
            get_json(&setup.http, &format!("{}/sim/bots", setup.sim_url), None).await?;
        let up = connected
            .iter()
            .filter(|b| b["connections"].as_u64().unwrap_or(0) >= replicas as u64)
            .count();
        if up >= plan.bots {
            break;
        }
        if started.elapsed() > STARTUP {
            bail!(
                "only {up} of {} bots connected after {STARTUP:?} (see the gateway logs in {})",
                plan.bots,
                dir.display()
            );
        }
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    }
    setup.connect_ms = started.elapsed().as_millis() as u64;
    wait_http(&setup.http, &format!("{}/health", setup.gw_url), STARTUP).await?;
    let usage = probe::usage(setup.gateway.pid()).unwrap_or_default();
    setup.rss_before_kib = usage.rss_kib;
    setup.anon_before_kib = usage.anon_kib;
    setup.cpu_before_s = usage.cpu_s;
    setup.sleeps_before = probe::sleeps(setup.gateway.pid());
    Ok(setup)
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &awc::Client,
    url: &str,
    token: Option<&str>,
) -> anyhow::Result<T> {
    let mut req = http.get(url);
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    let mut resp = req
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    if !resp.status().is_success() {
        bail!("{url}: HTTP {}", resp.status());
    }
    resp.json::<T>()
        .limit(64 << 20)
        .await
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))
}

/// The most sessions the gateway held in memory during a run, and its RSS at that moment.
#[derive(Clone, Copy, Debug, Default)]
struct Peak {
    resident: u64,
    rss_kib: u64,
}

/// Starts a load run in the simulator and follows it to the end: the simulator's report, the
/// gateway's RSS over time, and its peak of resident sessions.
async fn load_run(
    setup: &mut Setup,
    request: &LoadRequest,
    bar: &ProgressBar,
) -> anyhow::Result<(LoadReport, Vec<(f64, u64)>, Peak)> {
    let resp = setup
        .http
        .post(format!("{}/sim/load", setup.sim_url))
        .send_json(request)
        .await
        .map_err(|e| anyhow::anyhow!("start the load: {e}"))?;
    if !resp.status().is_success() {
        bail!("the simulator refused the load run: HTTP {}", resp.status());
    }
    let started = Instant::now();
    let mut rss = Vec::new();
    let mut peak = Peak::default();
    let status_url = format!("{}/api/status", setup.gw_url);
    loop {
        actix_rt::time::sleep(SAMPLE).await;
        setup.sim.check_alive()?;
        setup.model.check_alive()?;
        setup.gateway.check_alive()?;
        for m in &mut setup.members {
            m.check_alive()?;
        }
        let resident = if setup.watch_sessions {
            let status: Value = get_json(&setup.http, &status_url, Some(&setup.token)).await?;
            status["stats"]["sessionsResident"].as_u64().unwrap_or(0)
        } else {
            0
        };
        if let Some(u) = probe::usage(setup.gateway.pid()) {
            rss.push((started.elapsed().as_secs_f64(), u.rss_kib));
            if resident >= peak.resident {
                peak = Peak {
                    resident,
                    rss_kib: u.rss_kib,
                };
            }
        }
        let r: LoadReport =
            get_json(&setup.http, &format!("{}/sim/load", setup.sim_url), None).await?;
        bar.set_position(r.answered);
        bar.set_message(format!(
            "sent {}  p99 {:.1} ms  gateway RSS {} MiB",
            r.sent,
            r.latency_us.p99 as f64 / 1000.0,
            rss.last().map_or(0, |(_, k)| k / 1024)
        ));
        if !r.running {
            return Ok((r, rss, peak));
        }
    }
}

/// The gateway's CPU and memory, and its sessions in memory. Memory per session is the RSS
/// grown from before the load to the moment the most sessions were resident, divided by them.
async fn gateway_use(setup: &Setup, load: &LoadReport, peak: Peak) -> anyhow::Result<GatewayUse> {
    let usage = probe::usage(setup.gateway.pid()).unwrap_or_default();
    let status: Value = get_json(
        &setup.http,
        &format!("{}/api/status", setup.gw_url),
        Some(&setup.token),
    )
    .await?;
    let resident = status["stats"]["sessionsResident"].as_u64().unwrap_or(0);
    let (resident, rss_at) = if resident >= peak.resident {
        (resident, usage.rss_kib)
    } else {
        (peak.resident, peak.rss_kib)
    };
    let grown = rss_at.saturating_sub(setup.rss_before_kib) * 1024;
    let cpu_s = usage.cpu_s - setup.cpu_before_s;
    let (commits, writes) = store_counters(setup).await.unwrap_or_default();
    let per_message = |n: f64| n / load.answered.max(1) as f64;
    Ok(GatewayUse {
        cpu_s,
        cpu_ms_per_1000: cpu_s * 1000.0 / (load.answered.max(1) as f64 / 1000.0),
        peak_rss_kib: usage.peak_rss_kib,
        rss_before_kib: setup.rss_before_kib,
        rss_after_kib: usage.rss_kib,
        sessions_resident: resident,
        rss_per_session_bytes: grown.checked_div(resident).unwrap_or(0),
        store_commits_per_message: per_message(commits),
        store_writes_per_message: per_message(writes),
        sleeps_per_message: per_message(
            probe::sleeps(setup.gateway.pid()).saturating_sub(setup.sleeps_before) as f64,
        ),
    })
}

/// The gateway's store commits and the writes they carried so far (its `/metrics`).
async fn store_counters(setup: &Setup) -> anyhow::Result<(f64, f64)> {
    let mut resp = setup
        .http
        .get(format!("{}/metrics", setup.gw_url))
        .insert_header(("Authorization", format!("Bearer {}", setup.token)))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("/metrics: {e}"))?;
    let body = resp.body().limit(16 << 20).await?;
    let text = String::from_utf8_lossy(&body);
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok((
        value("dingclaw_store_commits_total"),
        value("dingclaw_store_writes_total"),
    ))
}

/// How many times the gateway has given memory back (`stats.memoryReleases`).
async fn memory_releases(setup: &Setup) -> anyhow::Result<u64> {
    let status_url = format!("{}/api/status", setup.gw_url);
    let status: Value = get_json(&setup.http, &status_url, Some(&setup.token)).await?;
    Ok(status["stats"]["memoryReleases"].as_u64().unwrap_or(0))
}

/// Waits (at most `limit`) for the quiet gateway's next memory release after `releases`, so
/// that an idle figure is the memory an idle gateway keeps, and returns its status then.
async fn after_memory_release(
    setup: &Setup,
    releases: u64,
    limit: Duration,
) -> anyhow::Result<Value> {
    let status_url = format!("{}/api/status", setup.gw_url);
    let waiting = Instant::now();
    loop {
        let status: Value = get_json(&setup.http, &status_url, Some(&setup.token)).await?;
        let now = status["stats"]["memoryReleases"].as_u64().unwrap_or(0);
        if now > releases || waiting.elapsed() > limit {
            // The release itself takes a moment on each thread.
            actix_rt::time::sleep(Duration::from_secs(1)).await;
            return Ok(status);
        }
        actix_rt::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The sessions preset after its creation run: wait for every session to leave memory, then
/// bring some back from the store.
async fn sessions_phases(
    setup: &mut Setup,
    created: &Report,
    transcript_idle_s: Option<u64>,
    quiet: bool,
) -> anyhow::Result<SessionsPhase> {
    let status_url = format!("{}/api/status", setup.gw_url);
    let mut phase = SessionsPhase {
        created: created.answered,
        peak_resident: created.gateway.sessions_resident,
        peak_rss_kib: created.gateway.peak_rss_kib,
        bytes_per_session: created.gateway.rss_per_session_bytes,
        ..SessionsPhase::default()
    };
    if let Some(idle) = transcript_idle_s {
        // Quiet sessions still resident: their transcripts have gone (unless `0`), and then
        // the quiet gateway has given memory back once (`dingclaw.memoryReleaseSeconds`).
        actix_rt::time::sleep(Duration::from_secs(idle.max(10) + 3)).await;
        let releases = memory_releases(setup).await?;
        let status = after_memory_release(setup, releases, Duration::from_secs(60)).await?;
        let resident = status["stats"]["sessionsResident"].as_u64().unwrap_or(0);
        let usage = probe::usage(setup.gateway.pid()).unwrap_or_default();
        phase.quiet_resident = resident;
        phase.quiet_rss_kib = usage.rss_kib;
        // Anonymous memory only: the release also unmaps the binary's code, which the
        // reading before the load still counted.
        phase.bytes_per_quiet_session = (usage.anon_kib.saturating_sub(setup.anon_before_kib)
            * 1024)
            .checked_div(resident)
            .unwrap_or(0);
    }
    let evicting = Instant::now();
    loop {
        setup.gateway.check_alive()?;
        let status: Value = get_json(&setup.http, &status_url, Some(&setup.token)).await?;
        if status["stats"]["sessionsResident"].as_u64().unwrap_or(0) == 0 {
            break;
        }
        if evicting.elapsed() > Duration::from_secs(1_800) {
            bail!("sessions were still in memory after 30 minutes");
        }
        actix_rt::time::sleep(Duration::from_millis(250)).await;
    }
    phase.evict_s = evicting.elapsed().as_secs_f64();
    phase.rss_after_evict_kib = probe::usage(setup.gateway.pid()).map_or(0, |u| u.rss_kib);
    // The bar: an idle gateway back near its idle size within a minute.
    actix_rt::time::sleep(Duration::from_secs(20)).await;
    phase.rss_settled_kib = probe::usage(setup.gateway.pid()).map_or(0, |u| u.rss_kib);
    let status: Value = get_json(&setup.http, &status_url, Some(&setup.token)).await?;
    phase.actors_after_evict = status["stats"]["sessionActors"].as_i64().unwrap_or(-1);
    phase.rss_idle_kib = setup.rss_before_kib;
    let back = LoadRequest {
        bots: setup.bots.clone(),
        conversations_per_bot: (10_000 / setup.bots.len().max(1)).max(1),
        group_percent: 0,
        picture_percent: 0,
        messages_per_conversation: 1,
        rate: 1_000.0,
        duration_ms: 15_000,
        drain_ms: 30_000,
        burst: 0,
        burst_gap_ms: 0,
    };
    let bar = progress(quiet, (back.conversations_per_bot * back.bots.len()) as u64);
    let (load, _, _) = load_run(setup, &back, &bar).await?;
    bar.finish_and_clear();
    phase.rehydrated = load.answered;
    phase.rehydrate_lost = load.lost;
    phase.rehydrate_latency_us = load.latency_us;
    Ok(phase)
}

/// `dingclaw bench` from the command line.
pub fn run_blocking(args: BenchArgs, exe: PathBuf) -> anyhow::Result<Report> {
    actix_rt::System::new().block_on(async move { run(&args, &exe).await })
}
