//! `dingclaw doctor [--json] [--live]`: can this machine run this config? One line per check,
//! the fix beside each problem, a summary, and exit 1 when anything failed.
//!
//! Checks talk to DingTalk and the model providers as the gateway would, but change nothing:
//! DingTalk is asked for a Stream ticket and an access token (no socket is opened, so a
//! running gateway keeps its messages), and a provider is asked for its model list (with
//! `--live`, one minimal call).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use dingclaw_actors::config::{
    Config, ConfigError, DingTalkAccount, Environment, StoreKind, exposures, load_file,
    resolve_config_path,
};
use dingclaw_actors::dingtalk::open::open_ticket;
use dingclaw_actors::dingtalk::{AccessTokenCache, DingTalkError};
use dingclaw_actors::provider::{ModelRef, Probe, ProviderError, list_models, minimal_call};
use dingclaw_actors::store::GatewayLock;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The checks as one JSON object instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Also make one minimal call to each model provider in use (costs a few tokens).
    #[arg(long)]
    pub live: bool,
}

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Warn,
    Fail,
    /// Not run: what it needs is missing (no config, nothing configured).
    Skip,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok  ",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        }
    }
}

#[derive(Debug, Serialize)]
struct Check {
    name: String,
    status: Status,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

impl Check {
    fn new(name: impl Into<String>, status: Status, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
}

/// Free space under which the state directory is a warning, and a failure.
const LOW_SPACE: u64 = 1024 * 1024 * 1024;
const NO_SPACE: u64 = 100 * 1024 * 1024;
/// Clock skew that is a warning (DingTalk signatures and token lifetimes tolerate less than
/// an hour; schedules fire at the wrong minute long before that), and a failure.
const SKEW_WARN: i64 = 60;
const SKEW_FAIL: i64 = 15 * 60;

pub(super) fn run(
    args: DoctorArgs,
    explicit: Option<PathBuf>,
    env: &dyn Environment,
) -> anyhow::Result<ExitCode> {
    let mut checks = Vec::new();
    let config = load(explicit, env, &mut checks);
    if let Some(config) = &config {
        checks.extend(files(config));
        checks.push(state_dir(config));
        checks.extend(shared_store(config));
        checks.push(port(config));
        let remote = actix_rt::System::new().block_on(remote_checks(config, args.live));
        checks.extend(remote);
    }
    let failed = checks.iter().filter(|c| c.status == Status::Fail).count();
    let warned = checks.iter().filter(|c| c.status == Status::Warn).count();
    let passed = checks.iter().filter(|c| c.status == Status::Ok).count();
    if args.json {
        let out = serde_json::json!({
            "ok": failed == 0,
            "passed": passed,
            "warnings": warned,
            "failed": failed,
            "checks": checks,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for c in &checks {
            println!("{} {}: {}", c.status.label(), c.name, c.detail);
            if let Some(fix) = &c.fix {
                println!("       fix: {fix}");
            }
        }
        println!(
            "doctor: {passed} ok, {warned} {}, {failed} failed",
            if warned == 1 { "warning" } else { "warnings" }
        );
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The config: found, valid. Nothing else can be checked without it.
fn load(
    explicit: Option<PathBuf>,
    env: &dyn Environment,
    checks: &mut Vec<Check>,
) -> Option<Config> {
    let path = match resolve_config_path(explicit, env) {
        Ok(p) => p,
        Err(tried) => {
            checks.push(
                Check::new(
                    "config",
                    Status::Fail,
                    ConfigError::NotFound { tried }.to_string(),
                )
                .fix("write openclaw.json (docs/getting-started.md) or pass --config FILE"),
            );
            return None;
        }
    };
    match load_file(&path, env) {
        Ok(loaded) => {
            let mut detail = format!("{}: {}", path.display(), loaded.config.summary());
            if !loaded.warnings.is_empty() {
                detail.push_str(&format!(
                    "; {} warnings (dingclaw config check lists them)",
                    loaded.warnings.len()
                ));
            }
            checks.push(Check::new("config", Status::Ok, detail));
            Some(loaded.config)
        }
        Err(ConfigError::Invalid { file, errors, .. }) => {
            let first: Vec<String> = errors.iter().take(3).map(ToString::to_string).collect();
            checks.push(
                Check::new(
                    "config",
                    Status::Fail,
                    format!(
                        "{}: {} errors: {}{}",
                        file.display(),
                        errors.len(),
                        first.join("; "),
                        if errors.len() > 3 { "; ..." } else { "" }
                    ),
                )
                .fix("dingclaw config check lists every error with its path"),
            );
            None
        }
        Err(e) => {
            checks.push(Check::new("config", Status::Fail, e.to_string()));
            None
        }
    }
}

/// Files holding secrets, and the state directory, readable by their owner only.
fn files(config: &Config) -> Vec<Check> {
    let open = exposures(config);
    if open.is_empty() {
        return vec![Check::new(
            "permissions",
            Status::Ok,
            "the config, files with secrets and the state directory are private to their owner",
        )];
    }
    open.into_iter()
        .map(|e| {
            let text = e.to_string();
            let (detail, fix) = match text.split_once("; run ") {
                Some((d, f)) => (d.to_owned(), Some(f.trim_matches('`').to_owned())),
                None => (text, None),
            };
            let c = Check::new("permissions", Status::Warn, detail);
            match fix {
                Some(f) => c.fix(f),
                None => c,
            }
        })
        .collect()
}

/// The state directory exists (or can be made), takes writes, and has room.
fn state_dir(config: &Config) -> Check {
    let dir = &config.state_dir;
    let name = "state directory";
    if let Err(e) = dingclaw_actors::config::create_private_dir(dir) {
        return Check::new(
            name,
            Status::Fail,
            format!("{}: cannot create: {e}", dir.display()),
        )
        .fix("create it for the user dingclaw runs as, or set OPENCLAW_STATE_DIR");
    }
    let probe = dir.join(format!(".doctor-{}", std::process::id()));
    if let Err(e) = std::fs::write(&probe, b"ok") {
        return Check::new(
            name,
            Status::Fail,
            format!("{}: not writable: {e}", dir.display()),
        )
        .fix(format!(
            "give the user dingclaw runs as write access: chown -R <user> {}",
            dir.display()
        ));
    }
    let _ = std::fs::remove_file(&probe);
    let free = match free_bytes(dir) {
        Some(f) => f,
        None => {
            return Check::new(
                name,
                Status::Ok,
                format!("{}: writable (free space unknown)", dir.display()),
            );
        }
    };
    let gib = free as f64 / (1024.0 * 1024.0 * 1024.0);
    let detail = format!("{}: writable, {gib:.1} GiB free", dir.display());
    if free < NO_SPACE {
        Check::new(name, Status::Fail, detail).fix(
            "free disk space: transcripts and downloads stop being written when the disk is full",
        )
    } else if free < LOW_SPACE {
        Check::new(name, Status::Warn, detail).fix("less than 1 GiB left; free some disk space")
    } else {
        Check::new(name, Status::Ok, detail)
    }
}

// The statvfs fields are u64 here but narrower on 32-bit targets.
#[allow(clippy::useless_conversion)]
fn free_bytes(dir: &Path) -> Option<u64> {
    let s = nix::sys::statvfs::statvfs(dir).ok()?;
    Some(u64::from(s.blocks_available()).saturating_mul(u64::from(s.fragment_size())))
}

/// `store: "postgres"`: the server answers, the credentials work, the schema is this
/// dingclaw's (created or migrated if needed, as the gateway would).
fn shared_store(config: &Config) -> Option<Check> {
    if config.runtime.store != StoreKind::Postgres {
        return None;
    }
    let url = config.runtime.store_url.as_ref()?;
    let target = dingclaw_actors::store::describe_postgres_url(url.expose());
    let ca = config.runtime.store_ca_file.as_deref();
    let tls = ca.is_some() || url.expose().contains("sslmode=require");
    Some(match dingclaw_actors::store::PostgresStore::connect_trusting(url, ca) {
        Ok(_) => Check::new(
            "store",
            Status::Ok,
            format!(
                "PostgreSQL at {target} answers{}",
                if tls { " (TLS, certificate verified)" } else { "" }
            ),
        ),
        Err(e) => Check::new(
            "store",
            Status::Fail,
            e.to_string().trim_start_matches("store: ").to_owned(),
        )
        .fix(
            "check dingclaw.storeUrl (host, port, database, user, password, sslmode), dingclaw.storeCaFile, and that the server accepts connections from this machine",
        ),
    })
}

/// The web page's port is free, or held by this store's own gateway.
fn port(config: &Config) -> Check {
    let addr = SocketAddr::new(config.gateway.bind, config.gateway.port);
    let name = "port";
    let running = (config.runtime.store == StoreKind::Sqlite)
        .then(|| GatewayLock::holder(&config.runtime.store_path))
        .flatten();
    match TcpListener::bind(addr) {
        Ok(_) => match running {
            Some(pid) => Check::new(
                name,
                Status::Warn,
                format!(
                    "{addr} is free, but a gateway{} holds the store's lock without listening",
                    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
                ),
            ),
            None => Check::new(name, Status::Ok, format!("{addr} is free")),
        },
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => match running {
            Some(pid) => Check::new(
                name,
                Status::Ok,
                format!(
                    "{addr} is in use by this config's running gateway{}",
                    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
                ),
            ),
            None => Check::new(
                name,
                Status::Fail,
                format!("{addr} is in use by another program"),
            )
            .fix(format!(
                "stop it (ss -ltnp 'sport = :{}' names it) or set gateway.port",
                config.gateway.port
            )),
        },
        Err(e) => Check::new(name, Status::Fail, format!("cannot listen on {addr}: {e}"))
            .fix("set gateway.bind and gateway.port to an address this machine has"),
    }
}

/// Checks that need the network: DingTalk credentials, providers, the clock.
async fn remote_checks(config: &Config, live: bool) -> Vec<Check> {
    let http = dingclaw_actors::tls::client(Duration::from_secs(15));
    let mut out = Vec::new();
    let accounts: Vec<&DingTalkAccount> = config
        .channels
        .dingtalk
        .active_accounts()
        .map(|a| &**a)
        .collect();
    if accounts.is_empty() {
        out.push(
            Check::new("dingtalk", Status::Skip, "no enabled DingTalk account")
                .fix("add one under channels.dingtalk-connector (or channels.dingtalk)"),
        );
    }
    for account in &accounts {
        out.push(credentials(&http, account).await);
    }
    out.extend(providers(&http, config, live).await);
    out.push(clock(&http, accounts.first().map(|a| a.endpoint.as_str())).await);
    out
}

/// The account's credentials: a Stream ticket (no socket is opened) and an access token.
async fn credentials(http: &awc::Client, account: &DingTalkAccount) -> Check {
    let name = format!("account {}", account.id);
    let result = match open_ticket(http, account).await {
        Ok(_) => AccessTokenCache::new().get(http, account).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Check::new(
            name,
            Status::Ok,
            format!(
                "DingTalk accepted client id {} (Stream registration and access token, {})",
                account.client_id, account.endpoint
            ),
        ),
        Err(e) => {
            let (detail, fix) = explain_dingtalk(&e, account);
            Check::new(name, Status::Fail, detail).fix(fix)
        }
    }
}

/// A DingTalk error in the operator's terms, and what to do about it.
fn explain_dingtalk(e: &DingTalkError, account: &DingTalkAccount) -> (String, String) {
    match e {
        DingTalkError::AuthRejected { status, message, .. } => (
            format!("DingTalk refused client id {} (HTTP {status}: {message})", account.client_id),
            "copy the Client ID and Client Secret again from the app's Credentials page in the DingTalk developer console; check that the app has the robot capability with Stream mode and that a version is published".to_owned(),
        ),
        DingTalkError::Transport { message, .. } => (
            format!("cannot reach {}: {message}", account.endpoint),
            "check DNS, proxies and the firewall: outbound HTTPS to api.dingtalk.com and wss-open-connection.dingtalk.com must be allowed".to_owned(),
        ),
        DingTalkError::Http { status, .. } if *status >= 500 => (
            format!("DingTalk answered HTTP {status}: {e}"),
            "DingTalk's trouble, usually brief: run doctor again in a few minutes".to_owned(),
        ),
        other => (
            other.to_string(),
            format!(
                "{} did not answer as DingTalk does: is endpoint right?",
                account.endpoint
            ),
        ),
    }
}

/// Each provider some agent uses: reachable, and its key taken.
async fn providers(http: &awc::Client, config: &Config, live: bool) -> Vec<Check> {
    let used = config.agents.used_providers();
    if used.is_empty() {
        return vec![
            Check::new("providers", Status::Skip, "no agent names a model")
                .fix("set agents.defaults.model.primary to provider/model"),
        ];
    }
    let mut out = Vec::new();
    for id in used {
        let name = format!("provider {id}");
        let Some(p) = config.models.provider(&id) else {
            out.push(
                Check::new(name, Status::Fail, "not configured and not built in")
                    .fix(format!("add models.providers.{id} with baseUrl and apiKey")),
            );
            continue;
        };
        if p.needs_key && p.api_key.is_none() {
            out.push(Check::new(name, Status::Fail, "no API key").fix(format!(
                "set models.providers.{id}.apiKey (for instance \"${{{}_API_KEY}}\")",
                id.to_uppercase().replace('-', "_")
            )));
            continue;
        }
        let result = if live {
            match model_for(config, &id) {
                Some(model) => minimal_call(http, p, &model).await,
                None => list_models(http, p).await,
            }
        } else {
            list_models(http, p).await
        };
        out.push(match result {
            Ok(Probe::KeyAccepted { models }) => Check::new(
                name,
                Status::Ok,
                format!("{}: key accepted ({models} models listed)", p.base_url),
            ),
            Ok(Probe::Reachable { status }) => Check::new(
                name,
                Status::Ok,
                format!("{}: reachable (no model list, HTTP {status}); the key is checked by --live", p.base_url),
            ),
            Ok(Probe::Answered { model }) => Check::new(
                name,
                Status::Ok,
                format!("{}: {model} answered a minimal call", p.base_url),
            ),
            Err(e) => {
                let fix = match &e {
                    ProviderError::Unauthorized { .. } => format!(
                        "the key was refused: check models.providers.{id}.apiKey (and that it belongs to {})",
                        p.base_url
                    ),
                    ProviderError::Transport { .. } | ProviderError::Timeout { .. } => format!(
                        "cannot reach {}: check models.providers.{id}.baseUrl, DNS, proxies and the firewall",
                        p.base_url
                    ),
                    ProviderError::BadRequest { .. } => {
                        "the provider refused the request: check the model id in agents.*.model".to_owned()
                    }
                    _ => "the provider's trouble: run doctor again later".to_owned(),
                };
                Check::new(name, Status::Fail, e.to_string()).fix(fix)
            }
        });
    }
    out
}

/// The first model an agent names on provider `id`, for `--live`.
fn model_for(config: &Config, id: &str) -> Option<String> {
    config.agents.agents.iter().find_map(|a| {
        a.model
            .primary
            .iter()
            .chain(a.model.fallbacks.iter())
            .filter_map(|r| ModelRef::parse(r, &config.agents.model_aliases).ok())
            .find(|m| m.provider == id)
            .map(|m| m.model)
    })
}

/// This machine's clock against DingTalk's (`Date` of an answer from the endpoint).
async fn clock(http: &awc::Client, endpoint: Option<&str>) -> Check {
    let name = "clock";
    let Some(endpoint) = endpoint else {
        return Check::new(name, Status::Skip, "no DingTalk endpoint to compare with");
    };
    let date = match http.get(endpoint).send().await {
        Ok(resp) => resp
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok()),
        Err(_) => None,
    };
    let Some(server) = date else {
        return Check::new(
            name,
            Status::Skip,
            format!("{endpoint} gave no Date to compare with"),
        );
    };
    let skew = chrono::Utc::now().timestamp() - server.timestamp();
    let detail = format!("{skew:+} s against {endpoint}");
    if skew.abs() >= SKEW_FAIL {
        Check::new(name, Status::Fail, detail)
            .fix("turn on time sync: timedatectl set-ntp true (or chrony)")
    } else if skew.abs() >= SKEW_WARN {
        Check::new(name, Status::Warn, detail)
            .fix("turn on time sync: timedatectl set-ntp true (or chrony)")
    } else {
        Check::new(name, Status::Ok, detail)
    }
}
