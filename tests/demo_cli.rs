//! `dingclaw demo` through the binary, as a new operator meets it: the script runs with the
//! log kept out of the story; every command it prints runs as printed (from any folder, with
//! no `dingclaw` on PATH); bots can be named by account id; DM conversation ids holding `/`
//! work; the printed `cron list` line reaches the demo's gateway; secrets users typed are
//! masked; and `--config` runs an operator's own openclaw.json offline.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_dingclaw");

fn demo(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("demo")
        .args(["--sim-port", "0", "--web-port", "0"])
        .args(args)
        // As after `cargo run`: no dingclaw on PATH.
        .env("PATH", "/usr/bin:/bin")
        .env_remove("RUST_LOG");
    cmd
}

#[test]
fn the_script_runs_with_a_readable_story_and_masked_secrets() {
    let out = demo(&["--script-only"]).output().expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    for want in [
        "[Service Assistant · qwen3.5-plus · turn 1]",
        "[Tech Expert · qwen3.5-plus · turn 2]",
        "web page:      http://127.0.0.1:",
        "/#token=",
        "bot bot1 (clientId dingdemobot1) → agent ding-bot1 (Service Assistant)",
        "[group robot → cidDingclawDemoGroup==] **Beijing weather**",
        // The task fetched the demo's GBK weather page: the forecast reaches the group.
        "北京 今天：晴，最高 6°C，最低 -3°C",
        "access_token=***",
    ] {
        assert!(stdout.contains(want), "{want}:\n{stdout}");
    }
    assert!(!stdout.contains("missing"), "{stdout}");
    // The token alice typed is masked, and no log line is mixed into the story.
    assert!(!stdout.contains("dingclaw-demo-weather"), "{stdout}");
    for noise in [" INFO ", " WARN ", " ERROR "] {
        assert!(!stdout.contains(noise), "{noise}:\n{stdout}");
        assert!(!stderr.contains(noise), "{noise}:\n{stderr}");
    }
    let log = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("log:"))
        .map(str::trim)
        .expect("the banner names the log file");
    let log = std::fs::read_to_string(log).expect("the log file exists");
    assert!(log.contains("connected to DingTalk"), "{log}");
}

/// The running demo, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A plain HTTP/1.1 request on loopback; the status and body.
fn http(base: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_owned())
}

/// Runs a printed command line through the shell, from an unrelated folder.
fn run_printed(line: &str, cwd: &Path) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(cwd)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run a printed command")
}

#[test]
fn every_printed_command_runs_as_printed() {
    let mut child = demo(&[]).stdout(Stdio::piped()).spawn().expect("start");
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut printed = Vec::new();
    let start = Instant::now();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("Press Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{printed:?}");
    }
    // Keep reading: a demo whose stdout closed would die at its next line (the blank line
    // after "Press Ctrl-C" raced the test's last read and sometimes killed it).
    std::thread::spawn(move || lines.for_each(drop));
    let text = printed.join("\n");
    let url_line = printed
        .iter()
        .find(|l| l.starts_with("Web page: http://127.0.0.1:"))
        .expect("the web page URL is repeated next to Ctrl-C");
    assert!(url_line.contains("/#token="), "{url_line}");
    let say: Vec<&String> = printed.iter().filter(|l| l.contains(" sim say ")).collect();
    assert_eq!(say.len(), 2, "{text}");
    assert!(
        say.iter().all(|l| l.trim_start().starts_with(BIN)),
        "commands name the binary's real path:\n{text}"
    );
    let cwd = tempfile::tempdir().unwrap();
    for line in &say {
        let out = run_printed(line.trim(), cwd.path());
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{line}\n{said}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(said.contains(" <- "), "a reply: {said}");
    }
    let cron = printed
        .iter()
        .find(|l| l.contains(" cron list --url "))
        .expect("a cron list line");
    let out = run_printed(cron.trim(), cwd.path());
    assert!(
        out.status.success(),
        "{cron}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("(no scheduled jobs)"));

    // DMs from many users: each gets a random base64 conversation id, about three in ten
    // with a `/`, which once broke `sim say` after the message had gone out.
    let sim_url = say[0]
        .split("--url ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap();
    for i in 0..12 {
        let out = Command::new(BIN)
            .args(["sim", "say", "--url", sim_url, "--from"])
            .arg(format!("user{i}"))
            .args(["--bot", "bot2", "hello"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "user{i}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // An unknown bot: the error names the valid ones.
    let out = Command::new(BIN)
        .args(["sim", "say", "--url", sim_url, "--bot", "bot9", "hi"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("no bot \"bot9\"") && err.contains("dingdemobot1 (bot1)"),
        "{err}"
    );
    // An unknown conversation is a JSON error, not an empty 404.
    let (status, body) = http(sim_url, "GET", "/sim/conversations/no%2Fsuch", "");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no conversation \\\"no/such\\\""), "{body}");

    // A job with a Chinese name lines up in `cron list` (columns padded by display width).
    let model_url = printed
        .iter()
        .find_map(|l| l.trim().strip_prefix("offline model:"))
        .map(|u| u.trim().trim_end_matches("/v1").to_owned())
        .expect("the banner names the offline model");
    let script = r#"[{"do":"toolCall","name":"cron","arguments":{"action":"add","job":{"name":"北京天气","schedule":{"kind":"cron","expr":"0 9 * * *"},"payload":{"kind":"agentTurn","message":"weather"},"delivery":{"mode":"none"}}}}]"#;
    let (status, body) = http(&model_url, "POST", "/offline/script", script);
    assert_eq!(status, 200, "{body}");
    let out = Command::new(BIN)
        .args([
            "sim",
            "say",
            "--url",
            sim_url,
            "--bot",
            "bot1",
            "weather every day at 9",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let out = run_printed(cron.trim(), cwd.path());
    let table = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    let column = |line: &str, cell: &str| {
        use unicode_width::UnicodeWidthStr;
        line[..line
            .find(cell)
            .unwrap_or_else(|| panic!("{cell} in {line}"))]
            .width()
    };
    assert_eq!(
        column(lines[0], "SCHEDULE"),
        column(lines[1], "cron 0 9"),
        "the columns after a CJK name line up:\n{table}"
    );
    drop(running);
}

#[test]
fn an_operators_own_config_runs_offline() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("openclaw.json");
    // The product document's example as pasted, placeholders and all.
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed-two-bots.json5"),
        &config,
    )
    .unwrap();
    let out = demo(&["--script-only", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "your config, run offline:",
        "bots bot1, bot2 → the simulator (instead of https://api.dingtalk.com)",
        "provider dashscope-coding (https://coding.dashscope.aliyuncs.com/v1) → the offline model",
        "(your own state is not touched)",
        "bot bot2 (clientId YOUR_BOT2_CLIENT_ID) → agent ding-bot2 (Tech Expert)",
        "[Tech Expert · qwen3.5-plus · turn 1]",
    ] {
        assert!(stdout.contains(want), "{want}:\n{stdout}");
    }
}
