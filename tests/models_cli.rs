//! `dingclaw models list` through the real binary: built-in providers with where their keys
//! come from, configured providers, the agents using each, and never a key.

use std::process::Command;

fn list(config: Option<&str>, env: &[(&str, &str)]) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dingclaw"));
    cmd.env_clear()
        .env("HOME", dir.path())
        .current_dir(dir.path());
    if let Some(text) = config {
        let path = dir.path().join("openclaw.json");
        std::fs::write(&path, text).unwrap();
        cmd.args(["--config", path.to_str().unwrap()]);
    }
    cmd.envs(env.iter().copied());
    let json = cmd.args(["models", "list", "--json"]).output().unwrap();
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let table = Command::new(env!("CARGO_BIN_EXE_dingclaw"))
        .args(cmd.get_args().filter(|a| *a != "--json"))
        .env_clear()
        .env("HOME", dir.path())
        .envs(env.iter().copied())
        .current_dir(dir.path())
        .output()
        .unwrap();
    let mut all = String::from_utf8(table.stdout).unwrap();
    all.push_str(&String::from_utf8_lossy(&table.stderr));
    all.push_str(&String::from_utf8_lossy(&json.stderr));
    (serde_json::from_slice(&json.stdout).unwrap(), all)
}

fn row<'a>(rows: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no provider {id} in {rows}"))
}

#[test]
fn without_a_config_the_catalogue_shows_which_keys_the_environment_has() {
    let (rows, text) = list(None, &[("DEEPSEEK_API_KEY", "sk-very-secret-1")]);
    let deepseek = row(&rows, "deepseek");
    assert_eq!(deepseek["key"], "env DEEPSEEK_API_KEY");
    assert_eq!(deepseek["keyPresent"], true);
    assert_eq!(deepseek["baseUrl"], "https://api.deepseek.com");
    let coding = row(&rows, "dashscope-coding");
    assert_eq!(
        coding["baseUrl"],
        "https://coding.dashscope.aliyuncs.com/v1"
    );
    assert_eq!(coding["key"], "MISSING");
    assert_eq!(row(&rows, "ollama")["key"], "not needed");
    for id in [
        "dashscope",
        "dashscope-intl",
        "moonshot",
        "zai",
        "zhipu",
        "volcengine",
        "openai",
    ] {
        row(&rows, id);
    }
    assert!(
        text.contains("PROVIDER") && text.contains("env DEEPSEEK_API_KEY"),
        "{text}"
    );
    assert!(!text.contains("sk-very-secret-1"));
}

#[test]
fn configured_providers_and_their_agents_are_listed_without_keys() {
    let config = r#"{
        agents: { list: [
            { id: "coder", model: { primary: "modelstudio/qwen3.5-plus", fallbacks: ["mine/m"] } },
        ] },
        models: { providers: {
            "dashscope-coding": { apiKey: "sk-in-config-2" },
            mine: { baseUrl: "http://127.0.0.1:9/v1", apiKey: "sk-in-config-3" },
        } },
    }"#;
    let (rows, text) = list(Some(config), &[]);
    let coding = row(&rows, "dashscope-coding");
    assert_eq!(coding["key"], "config");
    assert_eq!(coding["usedBy"], serde_json::json!(["coder"]));
    let mine = row(&rows, "mine");
    assert_eq!(mine["builtin"], false);
    assert_eq!(mine["usedBy"], serde_json::json!(["coder"]));
    assert!(!text.contains("sk-in-config"), "{text}");
    assert!(!rows.to_string().contains("sk-in-config"));
}
