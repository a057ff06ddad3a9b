//! Commands started by `exec` (and by an approved `/approve`), and the `process` tool that
//! lets the model follow one that went on in the background: `list`, `poll` (new output, and
//! whether it ended), `log`, `write` (to its stdin), `kill`, `remove`
//! (docs/openclaw-agent.md 2.4).
//!
//! A command runs in its own process group, so a timeout or `kill` ends everything it
//! started. Output (stdout and stderr together) is kept up to `MAX_OUTPUT` characters; older
//! output is dropped first.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::ChildStdin;
use tokio::sync::watch;

use super::{Tool, ToolContext, ToolError};

/// Characters of output kept per command (OpenClaw 2026.3's cap).
pub const MAX_OUTPUT: usize = 200_000;
/// Characters of output one answer to the model carries (OpenClaw's pending-output cap).
pub const MAX_SHOWN: usize = 30_000;
/// Commands of one agent running at once.
pub const MAX_RUNNING_PER_AGENT: usize = 8;
/// How long a finished command is kept for `poll` and `log` (OpenClaw's `cleanupMs`).
const KEEP_FINISHED: Duration = Duration::from_secs(30 * 60);

/// How a command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Exited with this code.
    Exited(i32),
    /// Ended by a signal (`kill`, a timeout, or from outside).
    Signalled(i32),
    /// Ran past its timeout and was killed.
    TimedOut,
    /// Killed by `process kill` or shutdown.
    Killed,
}

impl Ended {
    fn status(&self) -> &'static str {
        match self {
            Ended::Exited(0) => "completed",
            Ended::Exited(_) | Ended::Signalled(_) => "failed",
            Ended::TimedOut => "timed-out",
            Ended::Killed => "killed",
        }
    }

    fn exit_code(&self) -> Option<i32> {
        match self {
            Ended::Exited(c) => Some(*c),
            _ => None,
        }
    }
}

/// Output so far: the newest `MAX_OUTPUT` characters, with absolute byte positions so
/// `poll` can hand out only what is new.
#[derive(Default)]
struct Output {
    text: String,
    /// Absolute position of `text`'s first byte.
    start: usize,
    /// Absolute position up to which `poll` has shown the output.
    polled: usize,
    /// Bytes of an incomplete UTF-8 character at the end of the last read.
    carry: Vec<u8>,
}

impl Output {
    fn push(&mut self, bytes: &[u8]) {
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(bytes);
        let mut rest: &[u8] = &buf;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    self.text.push_str(s);
                    break;
                }
                Err(e) => {
                    let (ok, tail) = rest.split_at(e.valid_up_to());
                    self.text
                        .push_str(std::str::from_utf8(ok).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            self.text.push('\u{FFFD}');
                            rest = &tail[n..];
                        }
                        None => {
                            self.carry = tail.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        if self.text.len() > MAX_OUTPUT * 4 || self.text.chars().count() > MAX_OUTPUT {
            let excess = self.text.chars().count().saturating_sub(MAX_OUTPUT);
            let cut = self
                .text
                .char_indices()
                .nth(excess)
                .map_or(self.text.len(), |(i, _)| i);
            self.text.drain(..cut);
            self.start += cut;
        }
    }

    fn end(&self) -> usize {
        self.start + self.text.len()
    }

    /// Output after absolute position `from` (what is still kept of it).
    fn since(&self, from: usize) -> &str {
        let at = from.saturating_sub(self.start).min(self.text.len());
        let mut at = at;
        while !self.text.is_char_boundary(at) {
            at += 1;
        }
        &self.text[at..]
    }
}

/// The newest `max` characters of `s`, with a note when some were left out.
pub fn tail(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let skip = n - max;
    let cut: String = s.chars().skip(skip).collect();
    format!("[…{skip} earlier characters left out]\n{cut}")
}

/// One command.
pub struct Running {
    /// Its id (what `process` takes).
    pub id: String,
    /// The agent that started it.
    pub agent: String,
    /// The command line as the model wrote it.
    pub command: String,
    /// When it started.
    pub started: Instant,
    pid: Option<u32>,
    output: Mutex<Output>,
    ended: watch::Sender<Option<Ended>>,
    ended_at: Mutex<Option<Instant>>,
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
}

impl Running {
    /// How it ended, once it has.
    pub fn ended(&self) -> Option<Ended> {
        self.ended.borrow().clone()
    }

    /// Waits until the command ends or `wait` passes.
    pub async fn wait(&self, wait: Duration) -> Option<Ended> {
        let mut rx = self.ended.subscribe();
        let _ = tokio::time::timeout(wait, rx.wait_for(Option::is_some)).await;
        self.ended()
    }

    /// What it printed so far (stdout and stderr, bounded).
    pub fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .text
            .clone()
    }

    /// Output not shown by an earlier poll; marks it shown.
    fn take_new(&self) -> String {
        let mut out = self.output.lock().unwrap_or_else(|p| p.into_inner());
        let new = out.since(out.polled).to_owned();
        out.polled = out.end();
        new
    }

    /// Ends the whole process group.
    fn kill(&self) {
        if let Some(pid) = self.pid {
            kill_group(pid);
        }
    }

    /// The model's view: status, exit code, output.
    pub fn summary(&self, output: String) -> Value {
        let ended = self.ended();
        let mut v = json!({
            "sessionId": self.id,
            "command": self.command,
            "status": ended.as_ref().map_or("running", Ended::status),
            "durationMs": self.started.elapsed().as_millis() as u64,
            "output": tail(&output, MAX_SHOWN),
        });
        if let Some(code) = ended.as_ref().and_then(Ended::exit_code) {
            v["exitCode"] = json!(code);
        }
        if ended.is_none() {
            v["hint"] = json!(format!(
                "still running; call process with action poll and sessionId {} to follow it",
                self.id
            ));
        }
        v
    }
}

#[cfg(unix)]
fn kill_group(pid: u32) {
    // SAFETY: kill(2) with a negative pid signals the process group we created for the
    // command (`process_group(0)`); it touches no memory.
    unsafe {
        libc::kill(-(pid as i32), libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_pid: u32) {}

/// What to run.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The agent that runs it.
    pub agent: String,
    /// As shown (the command line the model wrote).
    pub command: String,
    /// The program and its arguments.
    pub argv: Vec<String>,
    /// Where it runs (inside the workspace).
    pub workdir: PathBuf,
    /// Variables added to its environment.
    pub env: Vec<(String, String)>,
    /// How long it may run.
    pub timeout: Duration,
}

/// Every command started, by id.
#[derive(Default)]
pub struct Processes {
    running: DashMap<String, Arc<Running>>,
    next: AtomicU64,
}

impl Processes {
    /// Starts a command; it goes on by itself (reading its output, ending it at its
    /// timeout) whether or not anyone waits for it.
    pub fn start(&self, launch: Launch) -> Result<Arc<Running>, ToolError> {
        self.prune();
        let busy = self
            .running
            .iter()
            .filter(|r| r.agent == launch.agent && r.ended().is_none())
            .count();
        if busy >= MAX_RUNNING_PER_AGENT {
            return Err(ToolError::Failed(format!(
                "{busy} commands of this agent are still running; kill or wait for one first"
            )));
        }
        let Some((program, args)) = launch.argv.split_first() else {
            return Err(ToolError::BadArguments("`command` is empty".to_owned()));
        };
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .current_dir(&launch.workdir)
            .env_clear()
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| ToolError::Failed(format!("cannot start `{program}`: {e}")))?;
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!(
            "proc-{n}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        );
        let (ended, _) = watch::channel(None);
        let running = Arc::new(Running {
            id: id.clone(),
            agent: launch.agent.clone(),
            command: launch.command.clone(),
            started: Instant::now(),
            pid: child.id(),
            output: Mutex::new(Output::default()),
            ended,
            ended_at: Mutex::new(None),
            stdin: tokio::sync::Mutex::new(child.stdin.take()),
        });
        let readers: Vec<Box<dyn AsyncRead + Unpin>> = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn AsyncRead + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn AsyncRead + Unpin>),
        ]
        .into_iter()
        .flatten()
        .collect();
        for mut r in readers {
            let running = Arc::clone(&running);
            actix_rt::spawn(async move {
                let mut buf = vec![0u8; 8192];
                while let Ok(n) = r.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    running
                        .output
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(&buf[..n]);
                }
            });
        }
        let watcher = Arc::clone(&running);
        let timeout = launch.timeout;
        actix_rt::spawn(async move {
            let how = match tokio::time::timeout(timeout, child.wait()).await {
                Ok(Ok(status)) => exit_of(status),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "waiting for a command failed");
                    Ended::Killed
                }
                Err(_) => {
                    watcher.kill();
                    let _ = child.wait().await;
                    Ended::TimedOut
                }
            };
            // Output still in the pipes arrives within moments of the exit.
            tokio::time::sleep(Duration::from_millis(50)).await;
            *watcher.ended_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            watcher.ended.send_if_modified(|e| {
                if e.is_none() {
                    *e = Some(how);
                    true
                } else {
                    false
                }
            });
        });
        tracing::info!(agent = %launch.agent, id = %id, "command started");
        self.running.insert(id, Arc::clone(&running));
        Ok(running)
    }

    /// `agent`'s command `id`, if it is still kept.
    pub fn get(&self, agent: &str, id: &str) -> Option<Arc<Running>> {
        self.running
            .get(id)
            .filter(|r| r.agent == agent)
            .map(|r| Arc::clone(&r))
    }

    /// Forgets finished commands kept longer than `KEEP_FINISHED`.
    fn prune(&self) {
        self.running.retain(|_, r| {
            r.ended_at
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none_or(|at| at.elapsed() < KEEP_FINISHED)
        });
    }

    fn of_agent(&self, agent: &str) -> Vec<Arc<Running>> {
        self.prune();
        let mut v: Vec<Arc<Running>> = self
            .running
            .iter()
            .filter(|r| r.agent == agent)
            .map(|r| Arc::clone(&r))
            .collect();
        v.sort_by_key(|r| r.started);
        v
    }

    /// Ends every command (gateway shutdown).
    pub fn kill_all(&self) {
        for r in self.running.iter() {
            if r.ended().is_none() {
                r.kill();
            }
        }
    }
}

fn exit_of(status: std::process::ExitStatus) -> Ended {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Ended::Signalled(sig);
        }
    }
    Ended::Exited(status.code().unwrap_or(-1))
}

/// The `process` tool.
pub struct Process {
    processes: Arc<Processes>,
}

impl Process {
    /// The tool, managing the commands in `processes`.
    pub fn new(processes: Arc<Processes>) -> Self {
        Self { processes }
    }
}

/// Longest a `poll` waits for a command to end.
const MAX_POLL_WAIT: Duration = Duration::from_secs(60);

impl Tool for Process {
    fn name(&self) -> &str {
        "process"
    }

    fn description(&self) -> &str {
        "Follow commands that exec left running in the background. action: list | poll (new output and status; timeout = ms to wait for it to end, at most 60000) | log (offset/limit in lines) | write (data to its stdin; eof closes it) | kill | remove. sessionId comes from exec."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": ["list", "poll", "log", "write", "kill", "remove", "clear"]},
                "sessionId": {"type": "string"},
                "data": {"type": "string"},
                "eof": {"type": "boolean"},
                "offset": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 1},
                "timeout": {"type": "integer", "minimum": 0}
            },
            "required": ["action"]
        })
    }

    fn deadline(&self, _: &ToolContext) -> Duration {
        MAX_POLL_WAIT + Duration::from_secs(5)
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        let processes = Arc::clone(&self.processes);
        Box::pin(async move {
            if !ctx.owner {
                return Err(ToolError::Forbidden(
                    "only the gateway's owners (commands.ownerAllowFrom) may manage commands"
                        .to_owned(),
                ));
            }
            let action = args
                .get("action")
                .and_then(Value::as_str)
                .ok_or_else(|| ToolError::BadArguments("`action` is required".to_owned()))?;
            if action == "list" {
                let list: Vec<Value> = processes
                    .of_agent(&ctx.agent_id)
                    .iter()
                    .map(|r| {
                        json!({
                            "sessionId": r.id,
                            "command": r.command,
                            "status": r.ended().as_ref().map_or("running", Ended::status),
                            "durationMs": r.started.elapsed().as_millis() as u64,
                        })
                    })
                    .collect();
                return Ok(json!({"sessions": list}));
            }
            let id = args
                .get("sessionId")
                .and_then(Value::as_str)
                .ok_or_else(|| ToolError::BadArguments("`sessionId` is required".to_owned()))?;
            let running = processes
                .get(&ctx.agent_id, id)
                .ok_or_else(|| ToolError::Failed(format!("no command with sessionId {id}")))?;
            match action {
                "poll" => {
                    let wait = args
                        .get("timeout")
                        .and_then(Value::as_u64)
                        .map_or(Duration::ZERO, Duration::from_millis)
                        .min(MAX_POLL_WAIT);
                    running.wait(wait).await;
                    Ok(running.summary(running.take_new()))
                }
                "log" => {
                    let text = running.output();
                    let offset = args.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
                    let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(200) as usize;
                    let lines: Vec<&str> = text.lines().skip(offset).take(limit).collect();
                    Ok(json!({
                        "sessionId": running.id,
                        "offset": offset,
                        "totalLines": text.lines().count(),
                        "log": tail(&lines.join("\n"), MAX_SHOWN),
                    }))
                }
                "write" => {
                    let data = args.get("data").and_then(Value::as_str).unwrap_or("");
                    let mut stdin = running.stdin.lock().await;
                    let Some(pipe) = stdin.as_mut() else {
                        return Err(ToolError::Failed("its input is closed".to_owned()));
                    };
                    pipe.write_all(data.as_bytes())
                        .await
                        .map_err(|e| ToolError::Failed(format!("cannot write: {e}")))?;
                    if args.get("eof").and_then(Value::as_bool) == Some(true) {
                        *stdin = None;
                    }
                    Ok(json!({"sessionId": running.id, "written": data.len()}))
                }
                "kill" => {
                    running.kill();
                    running.ended.send_if_modified(|e| {
                        if e.is_none() {
                            *e = Some(Ended::Killed);
                            true
                        } else {
                            false
                        }
                    });
                    *running.ended_at.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(Instant::now());
                    Ok(json!({"sessionId": running.id, "status": "killed"}))
                }
                "remove" | "clear" => {
                    if running.ended().is_none() {
                        running.kill();
                    }
                    processes.running.remove(&running.id);
                    Ok(json!({"sessionId": running.id, "removed": true}))
                }
                other => Err(ToolError::BadArguments(format!(
                    "action \"{other}\" is not available here (list, poll, log, write, kill, remove)"
                ))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_keeps_the_newest_text_and_mends_split_characters() {
        let mut o = Output::default();
        let bytes = "北京".as_bytes();
        o.push(&bytes[..2]);
        o.push(&bytes[2..]);
        assert_eq!(o.text, "北京");
        o.polled = o.end();
        o.push(b"abc");
        assert_eq!(o.since(o.polled), "abc");
        o.push(&vec![b'x'; MAX_OUTPUT + 10]);
        assert_eq!(o.text.chars().count(), MAX_OUTPUT);
        assert!(o.text.starts_with('x'));
        assert!(tail(&"y".repeat(10), 4).ends_with("yyyy"));
    }
}
