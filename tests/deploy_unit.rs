//! `deploy/dingclaw.service`: the unit systemd itself accepts (`systemd-analyze verify`, with
//! no warning), with the hardening the getting-started guide promises.

use std::process::Command;

const UNIT: &str = include_str!("../deploy/dingclaw.service");

#[test]
fn systemd_accepts_the_unit_without_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    // verify checks that ExecStart's binary exists: point it at the one just built.
    let unit = UNIT.replace("/usr/local/bin/dingclaw", env!("CARGO_BIN_EXE_dingclaw"));
    let path = dir.path().join("dingclaw.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze runs (.ci/run installs systemd)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.trim().is_empty(), "warnings: {stderr}");
}

#[test]
fn the_unit_runs_confined_with_its_secrets_apart() {
    let settings: Vec<(&str, &str)> = UNIT
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .collect();
    let has = |k: &str, v: &str| settings.iter().any(|(key, value)| *key == k && *value == v);
    for (k, v) in [
        ("User", "dingclaw"),
        ("StateDirectory", "dingclaw"),
        ("StateDirectoryMode", "0700"),
        ("Environment", "OPENCLAW_STATE_DIR=/var/lib/dingclaw"),
        ("EnvironmentFile", "/etc/dingclaw/dingclaw.env"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("Restart", "on-failure"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("KillSignal", "SIGTERM"),
        ("CapabilityBoundingSet", ""),
    ] {
        assert!(has(k, v), "{k}={v} missing");
    }
    assert!(
        has(
            "ExecStart",
            "/usr/local/bin/dingclaw gateway --config /etc/dingclaw/openclaw.json"
        ),
        "ExecStart"
    );
}
