//! The `dingclaw gateway` binary as a child process of a test, with its log in a file, so a
//! test can stop it gently (SIGTERM) or not at all (SIGKILL) and start it again.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

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
