//! `dingclaw config check|show` through the real binary: exit codes, every error kind with its
//! exact path, warnings, and secrets never printed.

use std::path::Path;
use std::process::{Command, Output};

/// Runs dingclaw in `dir` with a clean environment (no OPENCLAW_* from the host).
fn dingclaw(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dingclaw"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir.join("home"))
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run dingclaw")
}

fn check(text: &str) -> (i32, String, String) {
    check_with(text, &[])
}

fn check_with(text: &str, vars: &[(&str, &str)]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("openclaw.json"), text).unwrap();
    let out = dingclaw(
        dir.path(),
        &["config", "check", "--config", "openclaw.json"],
        vars,
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn check_args(text: &str, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("openclaw.json"), text).unwrap();
    let mut all = vec!["config", "check", "--config", "openclaw.json"];
    all.extend_from_slice(args);
    let out = dingclaw(dir.path(), &all, &[]);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The product document's example pasted as it is, `YOUR_BOT1_CLIENT_ID` and all, used to
/// pass as `ok` and fail later at DingTalk. It is refused, naming each field to fill in.
#[test]
fn seed_example_verbatim_names_the_placeholders_to_fill_in() {
    let out = dingclaw(
        repo(),
        &[
            "config",
            "check",
            "--config",
            "tests/fixtures/seed-two-bots.json5",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("channels."))
        .collect();
    assert_eq!(errors.len(), 4, "{stderr}");
    for (i, field) in [
        "bot1.clientId",
        "bot1.clientSecret",
        "bot2.clientId",
        "bot2.clientSecret",
    ]
    .iter()
    .enumerate()
    {
        assert!(
            errors[i].starts_with(&format!("channels.dingtalk-connector.accounts.{field}:"))
                && errors[i].contains("looks like a placeholder"),
            "{}",
            errors[i]
        );
    }
}

/// `config/two-bots.json5` is the same example with the credentials in the environment.
#[test]
fn seed_example_with_credentials_from_the_environment_passes() {
    let out = dingclaw(
        repo(),
        &["config", "check", "--config", "config/two-bots.json5"],
        &[
            ("BOT1_CLIENT_ID", "dingtestbot1"),
            ("BOT1_CLIENT_SECRET", "secret-one-abcdef"),
            ("BOT2_CLIENT_ID", "dingtestbot2"),
            ("BOT2_CLIENT_SECRET", "secret-two-abcdef"),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        vec![
            "config/two-bots.json5: ok: 2 agents (ding-bot1, ding-bot2), 2 accounts (bot1, bot2; 2 enabled), 2 bindings",
            "  agent ding-bot1: tools: cron, current_time, edit, memory_get (private chats only), memory_search (private chats only), read, web_fetch, write",
            "  agent ding-bot2: tools: cron, current_time, edit, memory_get (private chats only), memory_search (private chats only), read, web_fetch, write",
        ],
        "with no tools section: what OpenClaw offers with no profile, without exec or a search provider"
    );
}

#[test]
fn every_example_config_is_valid() {
    let vars = [
        ("BOT1_CLIENT_ID", "dingtestbot1"),
        ("BOT1_CLIENT_SECRET", "secret-one"),
        ("BOT2_CLIENT_ID", "dingtestbot2"),
        ("BOT2_CLIENT_SECRET", "secret-two"),
        ("DINGTALK_CLIENT_ID", "id"),
        ("DINGTALK_CLIENT_SECRET", "secret"),
        ("DASHSCOPE_API_KEY", "key"),
        ("DINGTALK_SHARED_SECRET", "shared"),
        ("HELPDESK_CLIENT_SECRET", "helpdesk"),
        ("DINGCLAW_DEMO_SIM_URL", "http://127.0.0.1:18790"),
        ("DINGCLAW_DEMO_MODEL_URL", "http://127.0.0.1:18791/v1"),
        ("TEAM_CLIENT_ID", "dingteam"),
        ("ONCALL_CLIENT_ID", "dingoncall"),
        ("ONCALL_CLIENT_SECRET", "oncall-secret"),
        ("SALES_CLIENT_ID", "dingsales"),
        ("SALES_CLIENT_SECRET", "sales-secret"),
        (
            "DINGCLAW_PG_URL",
            "postgres://dingclaw:pw@db.internal:5432/dingclaw",
        ),
        ("DINGCLAW_INSTANCE", "gw-1"),
    ];
    for entry in std::fs::read_dir(repo().join("config")).unwrap() {
        let path = entry.unwrap().path();
        let out = dingclaw(
            repo(),
            &["config", "check", "--config", path.to_str().unwrap()],
            &vars,
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn all_errors_are_reported_at_once_with_their_paths() {
    let (code, _, stderr) = check(
        r#"{
          agents: { list: [ { id: "ding-bot1", modle: "x/y" }, { id: "ding-bot1" }, { id: "ding-bot2" } ] },
          channels: { "dingtalk-connector": {
            dmPolicy: "opne",
            accounts: { bot1: { clientId: "a", clientSecret: "b" }, bot2: { clientId: "c" } },
          } },
          bindings: [ { agentId: "ding-bot3", match: { channel: "dingtalk-connector", accountId: "bot1" } } ],
          gateway: { port: "18789" },
          agnets: {},
        }"#,
    );
    assert_eq!(code, 1);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("warning:") && !l.contains("invalid config"))
        .collect();
    assert_eq!(
        errors,
        vec![
            r#"agents.list.0.modle: unknown key "modle" (did you mean "model"?)"#,
            r#"channels.dingtalk-connector.dmPolicy: unknown variant "opne", expected one of "open", "pairing", "allowlist""#,
            r#"gateway.port: invalid type: string "18789", expected u16"#,
            r#"agnets: unknown key "agnets" (did you mean "agents"?)"#,
            r#"agents.list.1.id: duplicate agent id "ding-bot1""#,
            r#"bindings.0.agentId: unknown agent "ding-bot3" (known: ding-bot1, ding-bot2)"#,
            r#"channels.dingtalk-connector.accounts.bot2.clientSecret: required"#,
        ],
        "stderr was:\n{stderr}"
    );
    assert!(stderr.contains("invalid config (7 errors)"));
}

#[test]
fn json5_syntax_error_names_file_line_and_column() {
    let (code, _, stderr) = check("{ agents: { list: [ } }");
    assert_eq!(code, 1);
    assert!(
        stderr.contains("<root>: JSON5 parse failed in openclaw.json"),
        "{stderr}"
    );
    assert!(stderr.contains("line 1 column"), "{stderr}");
}

/// Each ignored OpenClaw feature is one line saying what ignoring it means; `--verbose` lists
/// every place. (It used to be one 600-character line of paths.)
#[test]
fn openclaw_only_sections_are_one_line_per_feature_with_their_meaning() {
    let text = r#"{ plugins: { entries: {} }, tools: {}, skills: {},
             channels: { telegram: { botToken: "x" } },
             agents: { list: [ { id: "main", heartbeat: { every: "30m" } },
                               { id: "ops", heartbeat: { every: "1h" } } ] } }"#;
    let (code, stdout, stderr) = check(text);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ok: 2 agents (main, ops)"));
    let ignored: Vec<&str> = stderr.lines().filter(|l| l.contains("ignored")).collect();
    assert_eq!(
        ignored,
        vec![
            "warning: plugins: ignored: OpenClaw plugins are not loaded; dingclaw has its own DingTalk connector",
            "warning: channels.telegram: ignored: this channel is not served by dingclaw",
            "warning: agents.list.*.heartbeat: ignored in 2 places: heartbeat turns will not run",
        ]
    );
    let (code, stdout, _) = check_args(text, &["--verbose"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("ignored OpenClaw settings (4):"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  agents.list.1.heartbeat: heartbeat turns will not run"),
        "{stdout}"
    );
}

/// A config written for the DingTalk connectors starts unchanged: their keys that dingclaw
/// has no use for are warnings saying so. A typo of a key dingclaw implements stays an error.
#[test]
fn connector_keys_dingclaw_does_not_need_are_warnings_and_typos_errors() {
    let (code, _, stderr) = check(
        r#"{ channels: { "dingtalk-connector": {
             clientId: "dingabcdefghij", clientSecret: "s3cr3t-abcdefgh",
             gatewayToken: "tok", enableMediaUpload: true, debug: true, enableAICard: true,
             accounts: { a: { clientId: "dingklmnopqrst", clientSecret: "s3cr3t-abcdefgh", maxFileSizeMB: 20 } } } } }"#,
    );
    assert_eq!(code, 0, "{stderr}");
    for key in ["gatewayToken", "debug"] {
        assert!(
            stderr.contains(&format!(
                "warning: channels.dingtalk-connector.{key}: ignored: not needed"
            )),
            "{key}: {stderr}"
        );
    }
    assert!(
        stderr.contains("warning: channels.dingtalk-connector.enableMediaUpload: ignored: pictures and files the agent sends are always uploaded"),
        "{stderr}"
    );
    // openclaw-china's download limit and card switch are honoured.
    assert!(!stderr.contains("maxFileSizeMB"), "{stderr}");
    assert!(!stderr.contains("enableAICard"), "{stderr}");
    let (code, _, stderr) = check(
        r#"{ channels: { "dingtalk-connector": {
             clientId: "dingabcdefghij", clientSecret: "s3cr3t-abcdefgh", groupReplyMod: "text" } } }"#,
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains(
            "channels.dingtalk-connector.groupReplyMod: unknown key \"groupReplyMod\" (did you mean \"groupReplyMode\"?)"
        ),
        "{stderr}"
    );
}

/// The seed document's example pasted as it is passed as `ok`; placeholders in credentials
/// that would be used are errors naming the path.
#[test]
fn placeholders_from_examples_are_errors() {
    let (code, _, stderr) = check(
        r#"{ agents: { list: [ { id: "main", model: "dashscope/qwen-plus" } ] },
             channels: { "dingtalk-connector": { accounts: {
               bot1: { clientId: "YOUR_BOT1_CLIENT_ID", clientSecret: "YOUR_BOT1_CLIENT_SECRET" },
               off: { enabled: false, clientId: "xxx", clientSecret: "xxx" } } } },
             models: { providers: { dashscope: { apiKey: "sk-xxxxxxxx" } } } }"#,
    );
    assert_eq!(code, 1, "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("warning:"))
        .skip(1)
        .collect();
    assert_eq!(errors.len(), 3, "{stderr}");
    assert!(errors[0].starts_with(
        "channels.dingtalk-connector.accounts.bot1.clientId: \"YOUR_BOT1_CLIENT_ID\" looks like a placeholder"
    ));
    assert!(errors[1].starts_with(
        "channels.dingtalk-connector.accounts.bot1.clientSecret: looks like a placeholder"
    ));
    assert!(
        !errors[1].contains("YOUR_BOT1_CLIENT_SECRET"),
        "secrets are not echoed"
    );
    assert!(errors[2].starts_with("models.providers.dashscope.apiKey: looks like a placeholder"));
}

#[test]
fn unresolved_secret_is_an_error_only_for_what_would_start() {
    let text = r#"{
      agents: { list: [ { id: "main", model: "dashscope/qwen-plus" } ] },
      channels: { "dingtalk-connector": { accounts: {
        bot1: { clientId: "a", clientSecret: "${BOT1_SECRET}" },
        off: { enabled: false, clientId: "b", clientSecret: "${OFF_SECRET}" } } } },
      models: { providers: {
        dashscope: { baseUrl: "https://dashscope.aliyuncs.com/compatible-mode/v1", apiKey: "${DASHSCOPE_API_KEY}" },
        unused: { baseUrl: "https://example.invalid/v1", apiKey: "${UNUSED_KEY}" } } },
    }"#;
    let (code, _, stderr) = check(text);
    assert_eq!(code, 1);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("warning:"))
        .skip(1)
        .collect();
    assert_eq!(
        errors,
        vec![
            r#"channels.dingtalk-connector.accounts.bot1.clientSecret: environment variable "BOT1_SECRET" is not set; account "bot1" is enabled and cannot start without it"#,
            r#"models.providers.dashscope.apiKey: environment variable "DASHSCOPE_API_KEY" is not set; provider "dashscope" is used by an agent and cannot start without it"#,
        ]
    );
    // Missing variables are warnings naming their paths.
    for path in [
        "channels.dingtalk-connector.accounts.off.clientSecret",
        "models.providers.unused.apiKey",
    ] {
        assert!(
            stderr.contains(&format!("warning: {path}: missing env var")),
            "{stderr}"
        );
    }
    let (code, _, stderr) = check_with(text, &[("BOT1_SECRET", "s1"), ("DASHSCOPE_API_KEY", "k")]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn includes_and_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cfg")).unwrap();
    std::fs::write(
        dir.path().join("cfg/agents.json5"),
        r#"{ list: [ { id: "a" } ] }"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cfg/openclaw.json"),
        r#"{ agents: { $include: "./agents.json5" } }"#,
    )
    .unwrap();
    let out = dingclaw(
        dir.path(),
        &["config", "check", "--config", "cfg/openclaw.json"],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    std::fs::write(dir.path().join("outside.json5"), "{}").unwrap();
    std::fs::write(
        dir.path().join("cfg/loop.json5"),
        r#"{ x: { $include: "./openclaw.json" } }"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cfg/openclaw.json"),
        r#"{ agents: { $include: "../outside.json5" }, session: { $include: "./loop.json5" } }"#,
    )
    .unwrap();
    let out = dingclaw(
        dir.path(),
        &["config", "check", "--config", "cfg/openclaw.json"],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("agents.$include: \"../outside.json5\" resolves to"),
        "{stderr}"
    );
    assert!(stderr.contains("outside the config folder"), "{stderr}");
    assert!(
        stderr.contains("session.x.$include: circular include detected: openclaw.json -> loop.json5 -> openclaw.json"),
        "{stderr}"
    );
}

#[test]
fn show_prints_effective_config_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("openclaw.json"),
        r#"{ channels: { "dingtalk-connector": { clientSecret: "${SHARED}", groupSessionScope: "group_sender",
             accounts: { bot1: { clientId: "id1" }, bot2: { clientId: "id2", groupSessionScope: "group" } } } },
             models: { providers: { p: { baseUrl: "https://x.invalid", apiKey: "sk-provider-secret",
                                         headers: { "X-Token": "header-secret" } } } },
             gateway: { auth: { token: "gateway-secret-token" } } }"#,
    )
    .unwrap();
    let out = dingclaw(
        dir.path(),
        &["config", "show"],
        &[("SHARED", "shared-client-secret")],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for secret in [
        "shared-client-secret",
        "sk-provider-secret",
        "header-secret",
        "gateway-secret-token",
    ] {
        assert!(!stdout.contains(secret), "{secret} leaked:\n{stdout}");
    }
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let accounts = &v["channels"]["dingtalk-connector"]["accounts"];
    assert_eq!(accounts["bot1"]["clientSecret"], "***");
    assert_eq!(accounts["bot1"]["groupSessionScope"], "group_sender");
    assert_eq!(accounts["bot2"]["groupSessionScope"], "group");
    assert_eq!(accounts["bot2"]["endpoint"], "https://api.dingtalk.com");
    assert_eq!(v["gateway"]["auth"]["token"], "***");
}

#[test]
fn config_path_falls_back_to_env_then_cwd_then_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    let home_cfg = dir.path().join("home/.openclaw");
    std::fs::create_dir_all(&home_cfg).unwrap();
    std::fs::write(
        home_cfg.join("openclaw.json"),
        r#"{ agents: { list: [ { id: "from-home" } ] } }"#,
    )
    .unwrap();
    let out = dingclaw(dir.path(), &["config", "check"], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("(from-home)"));

    std::fs::write(
        dir.path().join("openclaw.json"),
        r#"{ agents: { list: [ { id: "from-cwd" } ] } }"#,
    )
    .unwrap();
    let out = dingclaw(dir.path(), &["config", "check"], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("(from-cwd)"));

    std::fs::write(
        dir.path().join("other.json5"),
        r#"{ agents: { list: [ { id: "from-env" } ] } }"#,
    )
    .unwrap();
    let other = dir.path().join("other.json5");
    let out = dingclaw(
        dir.path(),
        &["config", "check"],
        &[("OPENCLAW_CONFIG_PATH", other.to_str().unwrap())],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("(from-env)"));

    let empty = tempfile::tempdir().unwrap();
    let out = dingclaw(empty.path(), &["config", "check"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no config file found"));
}

#[test]
fn a_config_other_users_can_read_is_warned_about_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openclaw.json");
    std::fs::write(
        &file,
        r#"{channels: {"dingtalk-connector": {clientId: "d", clientSecret: "s3cret-value"}}}"#,
    )
    .unwrap();
    let state = dir.path().join("state");
    let vars = [("OPENCLAW_STATE_DIR", state.to_str().unwrap())];
    let run = |mode: u32| {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let out = dingclaw(
            dir.path(),
            &["config", "check", "--config", "openclaw.json"],
            &vars,
        );
        assert_eq!(out.status.code(), Some(0), "a warning, not an error");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let open = run(0o644);
    assert!(
        open.contains("openclaw.json: the config file, which holds secrets, is open to other users (mode 644); run `chmod 600"),
        "{open}"
    );
    assert!(!open.contains("s3cret-value"));
    assert_eq!(run(0o600), "", "no warning for a private file");
    // An open state directory is warned about too.
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(run(0o600).contains("the state directory (transcripts, the operator token) is open to other users (mode 755); run `chmod 700"));
}

/// An OpenClaw config with `tools`, `skills` and `commands` sections: `config check` reports
/// each agent's effective tools (the policy applied, exec for owners only), its skills, and
/// the keys it does not use; `tools list` says why each other tool is not offered.
#[test]
fn tool_policy_skills_and_owners_are_honoured_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let skill = ws.join("skills/weather");
    std::fs::create_dir_all(&skill).unwrap();
    std::fs::write(
        skill.join("SKILL.md"),
        "---\nname: weather\ndescription: Look up a city's forecast on the weather site\n---\nFetch https://weather.example/<city>.\n",
    )
    .unwrap();
    let text = format!(
        r#"{{ agents: {{ list: [
               {{ id: "main", workspace: "{ws}", model: "openai/gpt-5",
                  tools: {{ deny: ["web_fetch"], exec: {{ security: "allowlist", safeBins: ["ls"] }} }} }},
               {{ id: "ops", workspace: "{ws}", model: "openai/gpt-5", skills: [] }} ] }},
             tools: {{ profile: "coding", elevated: {{ enabled: true }},
                      web: {{ search: {{ provider: "brave", apiKey: "BSA-test" }} }} }},
             skills: {{ entries: {{ weather: {{ enabled: true }} }} }},
             commands: {{ ownerAllowFrom: ["dingtalk-connector:manager0831"] }} }}"#,
        ws = ws.display()
    );
    std::fs::write(dir.path().join("openclaw.json"), &text).unwrap();
    let out = dingclaw(
        dir.path(),
        &["config", "check", "--config", "openclaw.json"],
        &[("OPENAI_API_KEY", "sk-test")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("  agent main: tools: apply_patch, cron, current_time, edit, exec (owners only), memory_get (private chats only), memory_search (private chats only), process (owners only), read, web_search, write; skills: weather"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  agent ops: tools: apply_patch, cron, current_time, edit, memory_get (private chats only), memory_search (private chats only), read, web_fetch, web_search, write\n"),
        "an empty skills list means none: {stdout}"
    );
    assert!(
        stderr.contains("tools.elevated: ignored: there is no elevated mode"),
        "{stderr}"
    );
    assert!(!stdout.contains("BSA-test") && !stderr.contains("BSA-test"));

    let out = dingclaw(
        dir.path(),
        &[
            "tools",
            "list",
            "--config",
            "openclaw.json",
            "--agent",
            "ops",
        ],
        &[("OPENAI_API_KEY", "sk-test")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    for want in [
        "agent ops (openai/gpt-5)",
        "exec           built-in  no       commands are off (tools.exec.security is \"deny\")",
        "weather        skill     no       not in the agent's skills list",
    ] {
        assert!(stdout.contains(want), "{want}:\n{stdout}");
    }
    let out = dingclaw(
        dir.path(),
        &["tools", "list", "--config", "openclaw.json", "--json"],
        &[("OPENAI_API_KEY", "sk-test")],
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let main = &listed[0];
    let fetch = main["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "web_fetch")
        .unwrap();
    assert_eq!(fetch["offered"], false);
    assert!(fetch["whyNot"].as_str().unwrap().contains("tool policy"));
    let out = dingclaw(
        dir.path(),
        &[
            "tools",
            "list",
            "--config",
            "openclaw.json",
            "--agent",
            "nobody",
        ],
        &[("OPENAI_API_KEY", "sk-test")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no agent \"nobody\" (agents: main, ops)")
    );
}

#[test]
fn a_misspelt_tool_name_is_an_error_with_a_suggestion() {
    let (code, _, stderr) = check(
        r#"{ agents: { list: [ { id: "main", tools: { allow: ["web_fetsh"] } } ] },
             tools: { deny: ["group:webb"], profile: "codng" } }"#,
    );
    assert_eq!(code, 1, "{stderr}");
    for want in [
        r#"agents.list.0.tools.allow.0: unknown tool or group "web_fetsh" (did you mean "web_fetch"?)"#,
        r#"tools.deny.0: unknown tool or group "group:webb" (did you mean "group:web"?)"#,
        r#"tools.profile: unknown profile "codng" (did you mean "coding"?)"#,
    ] {
        assert!(stderr.contains(want), "{want}:\n{stderr}");
    }
}

/// An OpenClaw `mcp` section (2026.9's keys and 2026.7's spellings) is read: `config check`
/// shows each server's tools as offered by name, warns about what dingclaw does not do, and
/// `config show` never prints an env or header value.
#[test]
fn mcp_servers_are_read_and_their_secrets_hidden() {
    let text = r#"{ agents: { list: [ { id: "main", tools: { deny: ["docs__*"] } } ] },
        mcp: { sessionIdleTtlMs: 600000, servers: {
          fs: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/srv"],
                env: { FS_TOKEN: "fs-s3cret" }, workingDirectory: "/srv" },
          docs: { url: "https://mcp.example.com/mcp", type: "http",
                  headers: { Authorization: "Bearer docs-s3cret" }, auth: "oauth" },
          old: { url: "https://old.example.com/sse", disabled: true },
        } } }"#;
    let (code, stdout, stderr) = check(text);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("fs__*"), "{stdout}");
    assert!(
        !stdout.contains("docs__*"),
        "denied by the agent's policy: {stdout}"
    );
    assert!(!stdout.contains("old__*"), "disabled: {stdout}");
    for want in [
        "mcp.sessionIdleTtlMs: ignored: each MCP server runs once for the whole gateway",
        "mcp.servers.docs.auth: ignored: OAuth sign-in is not supported",
    ] {
        assert!(stderr.contains(want), "{want}:\n{stderr}");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("openclaw.json"), text).unwrap();
    let out = dingclaw(
        dir.path(),
        &["config", "show", "--config", "openclaw.json"],
        &[],
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("\"transport\": \"streamable-http\""),
        "{shown}"
    );
    for secret in ["fs-s3cret", "docs-s3cret"] {
        assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
    }
    let (code, _, stderr) = check(
        r#"{ mcp: { servers: { x: { url: "ftp://x" }, y: { command: "a", transport: "pigeon" } } } }"#,
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("mcp.servers.x.url: only http and https"),
        "{stderr}"
    );
}

/// `config check` names the plugin whose schema a `channels.dingtalk` section follows, and
/// what each of its keys without an equivalent means.
#[test]
fn the_other_plugins_configs_are_recognised_and_explained() {
    let (code, stdout, stderr) = check(
        r#"{ channels: { dingtalk: {
             clientId: "dingabcdefghij", clientSecret: "s3cr3t-abcdefgh",
             messageType: "card", cardAtSender: "@", reconnectJitter: 0.3 } } }"#,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("channels.dingtalk: read as @soimy/dingtalk's schema (keys messageType, cardAtSender, reconnectJitter)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning: channels.dingtalk.cardAtSender: ignored: no extra @-mention of the sender follows a card reply"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: session.dmScope: unset"),
        "{stderr}"
    );

    let (code, stdout, stderr) = check(
        r#"{ session: { dmScope: "per-channel-peer" },
             channels: { dingtalk: { clientId: "dingabcdefghij", clientSecret: "s3cr3t-abcdefgh",
                                     gatewayToken: "t", maxFileSizeMB: 50 } },
             bindings: [ { agentId: "main", match: { channel: "dingtalk-connector" } } ] }"#,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("channels.dingtalk: read as @openclaw-china/dingtalk's schema (keys gatewayToken, maxFileSizeMB)"),
        "{stdout}"
    );
    assert!(!stderr.contains("session.dmScope"), "{stderr}");
    // A binding for the other section's channel never matches these bots.
    assert!(
        stderr.contains(
            "bindings.0.match.channel: no account is configured under channels.dingtalk-connector"
        ),
        "{stderr}"
    );

    // One account id in both sections is an error: bots are named by id alone.
    let (code, _, stderr) = check(
        r#"{ channels: {
             "dingtalk-connector": { accounts: { bot1: { clientId: "dingaaaaaaaaaa", clientSecret: "s3cr3t-abcdefgh" } } },
             dingtalk: { accounts: { bot1: { clientId: "dingbbbbbbbbbb", clientSecret: "s3cr3t-abcdefgh" } } } } }"#,
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("channels.dingtalk.accounts.bot1: account id \"bot1\" is also used under channels.dingtalk-connector"),
        "{stderr}"
    );
}
