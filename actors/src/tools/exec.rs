//! `exec {command, workdir?, env?, yieldMs?, background?, timeoutSeconds?}`: runs a command
//! for the agent (docs/openclaw-agent.md 2.4). OpenClaw runs commands on the host
//! without asking by default; dingclaw does not, because strangers talk to the bot:
//!
//! - off (`tools.exec.security: "deny"`, the default) unless the agent's or the global
//!   `tools.exec.security` says `allowlist` or `full`;
//! - only in turns of a sender named in `commands.ownerAllowFrom` (or the operator's web
//!   chat); the tool is not even offered to anyone else;
//! - `allowlist`: a single command (no shell: no pipes, chaining, redirection or
//!   substitution) whose program is in `tools.exec.safeBins`; anything else is refused, or
//!   with `ask: "on-miss"` parked for `/approve` (`approvals`); `ask: "always"` parks every
//!   command; `full`: `sh -c` runs whatever the model writes;
//! - the command runs in the workspace (or a folder inside it), in its own process group,
//!   with a clean environment: `PATH` (with `pathPrepend`), `HOME` (the workspace), `LANG`,
//!   `TERM`, the skills' configured `env`, and the call's `env` (never `PATH` or `LD_*`);
//!   nothing of dingclaw's own environment (API keys, tokens) reaches it;
//! - it ends at `timeoutSeconds` (at most `tools.exec.timeoutSec`, 1800 s by default); after
//!   `yieldMs` (`backgroundMs`, 10 s) the call returns and the command goes on in the
//!   background, followed with `process`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::approvals::Approvals;
use super::process::{Launch, Processes};
use super::workspace::Workspace;
use super::{Tool, ToolContext, ToolError};
use crate::config::{Config, ExecAsk, ExecConfig, ExecSecurity};

/// The search path commands get before `pathPrepend`.
const BASE_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Longest a call waits for its command before it goes to the background.
const MAX_YIELD: Duration = Duration::from_secs(120);

/// Variables one call may add.
const MAX_ENV: usize = 64;

/// Shell words that need a shell (allowlist mode runs without one).
const SHELL_WORDS: &[&str] = &[
    "|", "||", "&&", ";", "&", ">", ">>", "<", "<<", "2>", "2>&1", "&>", "|&",
];

/// The exec settings in force for an agent: its own, else the global ones.
pub fn exec_config(config: &Config, agent: &str) -> ExecConfig {
    config
        .agents
        .get(agent)
        .and_then(|a| a.tools.exec.clone())
        .unwrap_or_else(|| config.tools.exec.clone())
}

/// What to do with a command.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Run this argv.
    Run(Vec<String>),
    /// Ask an owner first; run this argv if allowed. `program` is what `allow-always` adds.
    Ask {
        /// The command, split into words.
        argv: Vec<String>,
        /// What `allow-always` would allow.
        program: Option<String>,
        /// Why an owner must approve it (for the question).
        why: String,
    },
}

/// Decides how `command` may run under `cfg`; `approved` says whether a program was
/// approved for good with `/approve … allow-always`.
pub fn verdict(
    command: &str,
    cfg: &ExecConfig,
    approved: impl Fn(&str) -> bool,
) -> Result<Verdict, ToolError> {
    let shell = || vec!["sh".to_owned(), "-c".to_owned(), command.to_owned()];
    match cfg.security {
        ExecSecurity::Deny => Err(ToolError::Forbidden(
            "running commands is off for this agent (tools.exec.security is \"deny\")".to_owned(),
        )),
        ExecSecurity::Full => Ok(if cfg.ask == ExecAsk::Always {
            Verdict::Ask {
                argv: shell(),
                program: None,
                why: "tools.exec.ask is \"always\"".to_owned(),
            }
        } else {
            Verdict::Run(shell())
        }),
        ExecSecurity::Allowlist => {
            let words = shlex::split(command);
            let simple = words
                .as_ref()
                .filter(|w| !w.is_empty() && !w.iter().any(|t| SHELL_WORDS.contains(&t.as_str())));
            let miss = match simple {
                None => "it needs a shell (pipes, chaining, redirection or unbalanced quotes); allowlist mode runs one program without a shell".to_owned(),
                Some(w) => {
                    let program = &w[0];
                    let listed = cfg.safe_bins.iter().any(|b| b == program)
                        || (!program.contains('/') && approved(program));
                    if listed && cfg.ask != ExecAsk::Always {
                        return Ok(Verdict::Run(w.clone()));
                    }
                    if listed {
                        "tools.exec.ask is \"always\"".to_owned()
                    } else {
                        format!("`{program}` is not in tools.exec.safeBins")
                    }
                }
            };
            if cfg.ask == ExecAsk::Off {
                return Err(ToolError::Forbidden(format!("refused: {miss}")));
            }
            let program = simple.map(|w| w[0].clone()).filter(|p| !p.contains('/'));
            let argv = match simple {
                Some(w) => w.clone(),
                None => shell(),
            };
            Ok(Verdict::Ask {
                argv,
                program,
                why: miss,
            })
        }
    }
}

/// The environment a command gets (see the module's notes).
pub fn environment(
    config: &Config,
    cfg: &ExecConfig,
    workspace: &std::path::Path,
    extra: Option<&Value>,
) -> Result<Vec<(String, String)>, ToolError> {
    let mut path: Vec<String> = cfg.path_prepend.clone();
    path.push(BASE_PATH.to_owned());
    let home = workspace.display().to_string();
    let mut env = vec![
        ("PATH".to_owned(), path.join(":")),
        ("HOME".to_owned(), home),
        ("LANG".to_owned(), "C.UTF-8".to_owned()),
        ("TERM".to_owned(), "dumb".to_owned()),
        ("OPENCLAW_SHELL".to_owned(), "exec".to_owned()),
    ];
    for settings in config.skills.entries.values() {
        if settings.enabled == Some(false) {
            continue;
        }
        for (k, v) in &settings.env {
            env.push((k.clone(), v.expose().to_owned()));
        }
    }
    if let Some(extra) = extra.filter(|v| !v.is_null()) {
        let obj = extra.as_object().ok_or_else(|| {
            ToolError::BadArguments("`env` must be an object of strings".to_owned())
        })?;
        if obj.len() > MAX_ENV {
            return Err(ToolError::BadArguments(format!(
                "`env` has more than {MAX_ENV} variables"
            )));
        }
        for (k, v) in obj {
            let upper = k.to_ascii_uppercase();
            if upper == "PATH" || upper.starts_with("LD_") || upper.starts_with("DYLD_") {
                return Err(ToolError::Forbidden(format!("`env` may not set {k}")));
            }
            if k.is_empty() || k.contains(['=', '\0']) {
                return Err(ToolError::BadArguments(format!(
                    "`{k}` is not a variable name"
                )));
            }
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(ToolError::BadArguments(format!(
                        "`env.{k}` must be a string"
                    )));
                }
            };
            if v.contains('\0') {
                return Err(ToolError::BadArguments(format!(
                    "`env.{k}` holds a NUL byte"
                )));
            }
            env.retain(|(name, _)| name != k);
            env.push((k.clone(), v));
        }
    }
    Ok(env)
}

/// `timeoutSeconds` (or v3's `timeout`), never above the configured limit; 0 means the limit.
fn timeout_of(args: &Value, cfg: &ExecConfig) -> Result<Duration, ToolError> {
    let given = args.get("timeoutSeconds").or_else(|| args.get("timeout"));
    match given {
        None | Some(Value::Null) => Ok(cfg.timeout),
        Some(v) => {
            let secs = v.as_f64().filter(|s| *s >= 0.0).ok_or_else(|| {
                ToolError::BadArguments("`timeoutSeconds` must be a number of seconds".to_owned())
            })?;
            if secs == 0.0 {
                return Ok(cfg.timeout);
            }
            Ok(Duration::from_secs_f64(secs).min(cfg.timeout))
        }
    }
}

/// The `exec` tool: runs a shell command under `tools.exec` (off by default), owners only.
pub struct Exec {
    processes: Arc<Processes>,
    approvals: Arc<Approvals>,
}

impl Exec {
    /// The tool, running commands in `processes` and asking `approvals` when the policy says ask.
    pub fn new(processes: Arc<Processes>, approvals: Arc<Approvals>) -> Self {
        Self {
            processes,
            approvals,
        }
    }
}

impl Tool for Exec {
    fn name(&self) -> &str {
        "exec"
    }

    fn description(&self) -> &str {
        "Run a command in the workspace. command: the command line; workdir: a folder inside the workspace; env: extra variables; timeoutSeconds: when to stop it; yieldMs: how long to wait before it goes on in the background (then follow it with process); background: true to return at once. Depending on the gateway's settings, only allowlisted programs run without a shell, and other commands wait for an owner's /approve."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string"},
                "workdir": {"type": "string"},
                "env": {"type": "object", "additionalProperties": {"type": "string"}},
                "yieldMs": {"type": "integer", "minimum": 0},
                "background": {"type": "boolean"},
                "timeoutSeconds": {"type": "number", "minimum": 0}
            },
            "required": ["command"]
        })
    }

    fn deadline(&self, _: &ToolContext) -> Duration {
        MAX_YIELD + Duration::from_secs(10)
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        let (processes, approvals) = (Arc::clone(&self.processes), Arc::clone(&self.approvals));
        Box::pin(async move {
            let cfg = exec_config(&ctx.config, &ctx.agent_id);
            if cfg.security == ExecSecurity::Deny {
                return Err(ToolError::Forbidden(
                    "running commands is off for this agent (tools.exec.security is \"deny\")"
                        .to_owned(),
                ));
            }
            if !ctx.owner {
                return Err(ToolError::Forbidden(
                    "only the gateway's owners (commands.ownerAllowFrom) may run commands"
                        .to_owned(),
                ));
            }
            let command = args
                .get("command")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| ToolError::BadArguments("`command` is required".to_owned()))?;
            if command.contains('\0') {
                return Err(ToolError::BadArguments(
                    "`command` holds a NUL byte".to_owned(),
                ));
            }
            let ws = Workspace::for_call(&ctx)?;
            let workdir = match args.get("workdir").and_then(Value::as_str) {
                Some(w) if !w.trim().is_empty() => {
                    let dir = ws.readable(w)?;
                    if !dir.is_dir() {
                        return Err(ToolError::BadArguments(format!(
                            "workdir \"{w}\" is not a folder"
                        )));
                    }
                    dir
                }
                _ => ws.root().to_path_buf(),
            };
            let env = environment(&ctx.config, &cfg, ws.root(), args.get("env"))?;
            let timeout = timeout_of(&args, &cfg)?;
            let agent = ctx.agent_id.clone();
            let verdict = verdict(command, &cfg, |p| approvals.is_always(&agent, p))?;
            let launch = |argv: Vec<String>| Launch {
                agent: ctx.agent_id.clone(),
                command: command.to_owned(),
                argv,
                workdir: workdir.clone(),
                env: env.clone(),
                timeout,
            };
            let argv = match verdict {
                Verdict::Run(argv) => argv,
                Verdict::Ask { argv, program, why } => {
                    let id = approvals.request(launch(argv), program, &ctx.session_key);
                    tracing::info!(agent = %ctx.agent_id, id = %id, "command waits for approval");
                    return Ok(json!({
                        "status": "approval-pending",
                        "approvalId": id,
                        "reason": why,
                        "instructions": format!(
                            "Tell the user this command needs an owner's approval: they reply `/approve {id} allow-once` (or allow-always, or deny). The gateway runs it and posts its output; do not retry it yourself."
                        ),
                    }));
                }
            };
            let running = processes.start(launch(argv))?;
            let background = args.get("background").and_then(Value::as_bool) == Some(true);
            let yield_after = if background {
                Duration::ZERO
            } else {
                args.get("yieldMs")
                    .and_then(Value::as_u64)
                    .map_or(cfg.background_after, Duration::from_millis)
                    .min(MAX_YIELD)
            };
            running.wait(yield_after).await;
            let output = running.output();
            Ok(running.summary(output))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(security: ExecSecurity, ask: ExecAsk, bins: &[&str]) -> ExecConfig {
        ExecConfig {
            security,
            ask,
            safe_bins: bins.iter().map(|b| b.to_string()).collect(),
            ..ExecConfig::default()
        }
    }

    #[test]
    fn allowlist_runs_listed_programs_without_a_shell() {
        let c = cfg(ExecSecurity::Allowlist, ExecAsk::Off, &["echo", "date"]);
        assert_eq!(
            verdict("echo 'a; rm -rf /'", &c, |_| false).unwrap(),
            Verdict::Run(vec!["echo".into(), "a; rm -rf /".into()])
        );
        for bad in [
            "rm -rf /",
            "echo hi | sh",
            "echo hi > x",
            "date; id",
            "echo 'open",
            "/bin/echo x",
        ] {
            assert!(
                matches!(verdict(bad, &c, |_| false), Err(ToolError::Forbidden(_))),
                "{bad}"
            );
        }
        let ask = cfg(ExecSecurity::Allowlist, ExecAsk::OnMiss, &["echo"]);
        match verdict("ls -la", &ask, |_| false).unwrap() {
            Verdict::Ask { argv, program, .. } => {
                assert_eq!(argv, vec!["ls", "-la"]);
                assert_eq!(program.as_deref(), Some("ls"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            verdict("ls -la", &ask, |p| p == "ls").unwrap(),
            Verdict::Run(_)
        ));
        match verdict("echo a | wc", &ask, |_| true).unwrap() {
            Verdict::Ask { argv, program, .. } => {
                assert_eq!(argv[..2], ["sh", "-c"]);
                assert_eq!(program, None);
            }
            other => panic!("{other:?}"),
        }
        let always = cfg(ExecSecurity::Allowlist, ExecAsk::Always, &["echo"]);
        assert!(matches!(
            verdict("echo a", &always, |_| false).unwrap(),
            Verdict::Ask { .. }
        ));
    }

    #[test]
    fn deny_refuses_and_full_uses_a_shell() {
        assert!(verdict("echo", &ExecConfig::default(), |_| true).is_err());
        let full = cfg(ExecSecurity::Full, ExecAsk::Off, &[]);
        assert_eq!(
            verdict("echo a | wc -c", &full, |_| false).unwrap(),
            Verdict::Run(vec!["sh".into(), "-c".into(), "echo a | wc -c".into()])
        );
    }

    #[test]
    fn the_environment_is_clean_and_guarded() {
        let mut config = crate::config::empty_for_tests();
        config.skills.entries.insert(
            "weather".into(),
            crate::config::SkillSettings {
                env: [("WEATHER_KEY".to_owned(), crate::config::Secret::new("k"))]
                    .into_iter()
                    .collect(),
                ..Default::default()
            },
        );
        let c = ExecConfig {
            path_prepend: vec!["/opt/tools".into()],
            ..ExecConfig::default()
        };
        let env = environment(
            &config,
            &c,
            std::path::Path::new("/ws"),
            Some(&json!({"FOO": "1"})),
        )
        .unwrap();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("PATH"), Some("/opt/tools:/usr/local/bin:/usr/bin:/bin"));
        assert_eq!(get("HOME"), Some("/ws"));
        assert_eq!(get("WEATHER_KEY"), Some("k"));
        assert_eq!(get("FOO"), Some("1"));
        assert_eq!(get("DINGTALK_CLIENT_SECRET"), None);
        for bad in [
            json!({"PATH": "/tmp"}),
            json!({"LD_PRELOAD": "x"}),
            json!({"A": {}}),
            json!([1]),
        ] {
            assert!(
                environment(&config, &c, std::path::Path::new("/ws"), Some(&bad)).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn timeouts_only_shorten() {
        let c = ExecConfig::default();
        assert_eq!(timeout_of(&json!({}), &c).unwrap(), c.timeout);
        assert_eq!(
            timeout_of(&json!({"timeoutSeconds": 5}), &c).unwrap(),
            Duration::from_secs(5)
        );
        assert_eq!(
            timeout_of(&json!({"timeout": 99999}), &c).unwrap(),
            c.timeout
        );
        assert_eq!(
            timeout_of(&json!({"timeoutSeconds": 0}), &c).unwrap(),
            c.timeout
        );
        assert!(timeout_of(&json!({"timeoutSeconds": "x"}), &c).is_err());
    }
}
