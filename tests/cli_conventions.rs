//! Command-line conventions through the binary: a closed stdout pipe ends a command quietly
//! (it used to panic with exit 101), `--color` and `NO_COLOR` decide colours in the log, and
//! `route --chat group` needs the group's conversation id.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_dingclaw");

/// Runs `args` with stdout a pipe whose reading end is closed before anything is written, as
/// `dingclaw models list | head -0` would; returns (exit code, whether a signal ended it,
/// stderr).
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, bool, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("HOME", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    #[cfg(unix)]
    let signalled = std::os::unix::process::ExitStatusExt::signal(&status).is_some();
    #[cfg(not(unix))]
    let signalled = false;
    (status.code(), signalled, stderr)
}

#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    for args in [
        &["models", "list"][..],
        &["models", "list", "--json"][..],
        &["--help"][..],
    ] {
        let (code, signalled, stderr) = with_closed_stdout(args);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
        assert!(
            signalled || code == Some(0),
            "{args:?} ended with {code:?}: {stderr}"
        );
        assert_ne!(code, Some(101), "{args:?}");
    }
}

/// Starts a gateway on a minimal config with `args` and `env`, and returns its stderr up to
/// the start-up line.
fn gateway_log(args: &[&str], env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openclaw.json");
    std::fs::write(
        &file,
        r#"{ agents: { list: [ { id: "a" } ] }, gateway: { port: 0 } }"#,
    )
    .unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .args(["gateway", "--config"])
        .arg(&file)
        .env_clear()
        .env("HOME", dir.path())
        .env("OPENCLAW_STATE_DIR", dir.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut log = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&log).contains("gateway started") {
        assert!(start.elapsed() < Duration::from_secs(20), "no start line");
        let n = stderr.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        log.extend_from_slice(&buf[..n]);
    }
    let _ = child.kill();
    let _ = child.wait();
    String::from_utf8_lossy(&log).into_owned()
}

#[test]
fn colours_follow_the_flag_and_no_color() {
    let escape = "\u{1b}[";
    assert!(gateway_log(&["--color", "always"], &[]).contains(escape));
    assert!(!gateway_log(&["--color", "never"], &[]).contains(escape));
    // Not a terminal, and NO_COLOR: plain either way.
    assert!(!gateway_log(&[], &[("NO_COLOR", "1")]).contains(escape));
    // An explicit flag wins over the environment.
    assert!(gateway_log(&["--color", "always"], &[("NO_COLOR", "1")]).contains(escape));
}

#[test]
fn a_group_route_needs_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openclaw.json");
    std::fs::write(
        &file,
        r#"{ agents: { list: [ { id: "a" } ] },
             channels: { "dingtalk-connector": { clientId: "dingroute", clientSecret: "route-secret" } } }"#,
    )
    .unwrap();
    let route = |extra: &[&str]| {
        Command::new(BIN)
            .args(["route", "--config"])
            .arg(&file)
            .args(["--account", "default", "--sender", "alice", "--chat"])
            .args(extra)
            .env_clear()
            .env("HOME", dir.path())
            .output()
            .unwrap()
    };
    let out = route(&["group"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--conversation"));
    let out = route(&["group", "--conversation", " "]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --conversation"));
    let out = route(&["group", "--conversation", "cidTeam==", "--json"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("group:cidTeam=="));
    let out = route(&["direct", "--json"]);
    assert!(out.status.success(), "a DM needs none: {out:?}");
}

#[test]
fn the_version_names_the_commit_it_was_built_from() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    let commit = line
        .trim()
        .strip_prefix(concat!("dingclaw ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line}"));
    // A git checkout (CI's clone) gives the short hash.
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{line}"
    );
}
