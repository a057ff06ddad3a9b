//! `dingclaw route --json` through the real binary, for every scope-flag combination.

use std::path::Path;
use std::process::Command;

/// `config/two-bots.json5` takes its credentials from the environment.
const SEED_CREDENTIALS: [(&str, &str); 4] = [
    ("BOT1_CLIENT_ID", "dingroutebot1"),
    ("BOT1_CLIENT_SECRET", "route-secret-1"),
    ("BOT2_CLIENT_ID", "dingroutebot2"),
    ("BOT2_CLIENT_SECRET", "route-secret-2"),
];

fn route(config: &str, account: &str, chat: &str, cid: &str, sender: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dingclaw"))
        .args([
            "route",
            "--config",
            path.to_str().unwrap(),
            "--account",
            account,
            "--chat",
            chat,
        ])
        .args(["--conversation", cid, "--sender", sender, "--json"])
        .env_clear()
        .env("HOME", dir.path())
        .envs(SEED_CREDENTIALS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "exactly one JSON object: {stdout}"
    );
    serde_json::from_str(&stdout).unwrap()
}

fn seed_with(flags: &str, session: &str) -> String {
    let seed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/two-bots.json5"),
    )
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&seed).unwrap();
    let extra: serde_json::Value = serde_json::from_str(&format!("{{{flags}}}")).unwrap();
    for (k, x) in extra.as_object().unwrap() {
        v["channels"]["dingtalk-connector"][k] = x.clone();
    }
    let session: serde_json::Value = serde_json::from_str(&format!("{{{session}}}")).unwrap();
    v["session"] = session;
    v.to_string()
}

#[test]
fn seed_bots_route_to_their_own_agents() {
    let cfg = seed_with("", "");
    let r = route(&cfg, "bot1", "group", "cidG1==", "manager807");
    assert_eq!(
        r,
        serde_json::json!({"agentId": "ding-bot1", "matchedBy": "binding.account",
                           "sessionKey": "agent:ding-bot1:dingtalk-connector:group:cidG1=="})
    );
    let r = route(&cfg, "bot2", "direct", "cidDm", "manager807");
    assert_eq!(
        r,
        serde_json::json!({"agentId": "ding-bot2", "matchedBy": "binding.account",
                           "sessionKey": "agent:ding-bot2:dingtalk-connector:direct:manager807"})
    );
}

#[test]
fn session_keys_for_each_flag_combination() {
    // (flags, session section, DM key suffix, group key suffix) for agent ding-bot1 on bot1.
    let rows = [
        (
            r#""groupSessionScope": "group""#,
            "",
            "direct:Staff1",
            "group:cidAb==",
        ),
        (
            r#""groupSessionScope": "group_sender""#,
            "",
            "direct:Staff1",
            "group:cidAb==:Staff1",
        ),
        (
            r#""sharedMemoryAcrossConversations": true"#,
            "",
            "shared:bot1",
            "shared:bot1",
        ),
        (
            r#""separateSessionByConversation": false"#,
            "",
            "sender:Staff1",
            "sender:Staff1",
        ),
        (
            r#""groupSessionScope": "group""#,
            r#""dmScope": "per-account-channel-peer""#,
            "bot1:direct:Staff1",
            "group:cidAb==",
        ),
    ];
    let prefix = "agent:ding-bot1:dingtalk-connector:";
    for (flags, session, dm, group) in rows {
        let cfg = seed_with(flags, session);
        let r = route(&cfg, "bot1", "direct", "cidDm", "Staff1");
        assert_eq!(
            r["sessionKey"],
            format!("{prefix}{dm}"),
            "DM with {flags} {session}"
        );
        let r = route(&cfg, "bot1", "group", "cidAb==", "Staff1");
        assert_eq!(
            r["sessionKey"],
            format!("{prefix}{group}"),
            "group with {flags} {session}"
        );
    }
    let cfg = seed_with("", r#""dmScope": "main""#);
    assert_eq!(
        route(&cfg, "bot1", "direct", "c", "Staff1")["sessionKey"],
        "agent:ding-bot1:main"
    );
}

#[test]
fn unknown_account_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dingclaw"))
        .args(["route", "--config"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/two-bots.json5"))
        .args([
            "--account",
            "bot9",
            "--chat",
            "group",
            "--conversation",
            "c",
            "--sender",
            "s",
        ])
        .env_clear()
        .env("HOME", dir.path())
        .envs(SEED_CREDENTIALS)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("unknown account \"bot9\" (known: bot1, bot2)")
    );
}
