//! The `dingclaw gateway` binary as a child process of a test, with its log in a file, so a
//! test can stop it gently (SIGTERM) or not at all (SIGKILL) and start it again.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use dingclaw::sim::{SimServer, UserMessage};

pub struct GatewayProcess {
    child: Child,
    pub log: PathBuf,
}

fn append(p: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .expect("open a log file")
}

impl GatewayProcess {
    /// Starts `dingclaw gateway --config <config>` with `state` as its home and state
    /// directory; stderr (the log) goes to `log`, stdout to `out`.
    pub fn start(config: &Path, state: &Path, log: &Path, out: &Path) -> GatewayProcess {
        Self::start_with_env(config, state, log, out, &[])
    }

    pub fn start_with_env(
        config: &Path,
        state: &Path,
        log: &Path,
        out: &Path,
        env: &[(&str, &str)],
    ) -> GatewayProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dingclaw"));
        cmd.args(["gateway", "--config"])
            .arg(config)
            .env_clear()
            .env("HOME", state)
            .env("OPENCLAW_STATE_DIR", state)
            .env("RUST_LOG", "info")
            .stdout(append(out))
            .stderr(append(log));
        for (k, v) in env {
            cmd.env(k, v);
        }
        GatewayProcess {
            child: cmd.spawn().expect("start the gateway"),
            log: log.to_path_buf(),
        }
    }

    /// Sends a signal (`HUP`, `TERM`...) and returns at once.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name}");
    }

    /// SIGKILL: no drain, no flush, nothing.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit code (within 10 s).
    pub fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the gateway") {
                return status.code();
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary once with `args` in an empty home (off the test's thread: it blocks) and
/// returns (success, stdout, stderr).
pub async fn run_cli(args: Vec<String>) -> (bool, String, String) {
    let out = actix_rt::task::spawn_blocking(move || {
        let home = tempfile::tempdir().expect("a temporary home");
        Command::new(env!("CARGO_BIN_EXE_dingclaw"))
            .args(&args)
            .env_clear()
            .env("HOME", home.path())
            .current_dir(home.path())
            .output()
            .expect("the binary runs")
    })
    .await
    .expect("the blocking task ends");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A DM from `from` to the bot with client id `bot`, and the text of its first reply (15 s at
/// most): for gateways running as processes, which a test reaches only through the simulator.
pub async fn ask_bot(sim: &SimServer, from: &str, bot: &str, text: &str) -> String {
    let sent = sim
        .sim
        .say(&UserMessage {
            from: from.into(),
            bot: Some(bot.into()),
            text: text.into(),
            ..UserMessage::default()
        })
        .await
        .expect("the simulator takes the message");
    let start = Instant::now();
    loop {
        if let Some(r) = sim.sim.replies_to(&sent.msg_id).first() {
            return r.text.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no reply to {text}"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}
