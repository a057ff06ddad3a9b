//! The offline model speaks the real OpenAI protocol: the unmodified `openai` Python package
//! (from PyPI) gets plain and streamed answers, usage, tool calls (plain and streamed), and
//! the errors it maps to its own exception types.

mod support;

use std::process::Command;

use dingclaw::offline_model::{Action, ModelOptions, OfflineModel, Step};
use serde_json::{Value, json};
use support::python::python_with_openai;

#[actix_rt::test]
async fn the_openai_python_client_works_against_the_offline_model() {
    let python = python_with_openai();
    let model = OfflineModel::start(
        ModelOptions {
            api_key: Some("sk-offline".to_owned()),
            ..ModelOptions::default()
        },
        0,
        1,
    )
    .await
    .expect("offline model");
    // The client's calls, in order: plain, streamed, tool, streamed tool, bad key, then this.
    model.script([
        Step {
            model: None,
            times: Some(4),
            action: Action::Delay { ms: 0 },
        },
        Step {
            model: None,
            times: Some(1),
            action: Action::Fail {
                status: 429,
                retry_after: Some(7),
                message: None,
            },
        },
    ]);
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/openai_client.py");
    let base_url = model.base_url.clone();
    let output = actix_rt::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .env("OPENAI_BASE_URL", base_url)
            .env("OPENAI_API_KEY", "sk-offline")
            .output()
    })
    .await
    .expect("join")
    .expect("run python");
    assert!(
        output.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).expect("JSON from the script");
    let expected =
        "[Probe · offline-m · turn 1] You said: hello from python\nhistory: hello from python";
    assert_eq!(out["plain"], expected);
    assert_eq!(out["plain_finish"], "stop");
    assert_eq!(out["streamed"], expected);
    assert!(out["usage"].as_u64().is_some_and(|u| u > 0));
    assert_eq!(out["streamed_usage"], out["usage"]);
    assert_eq!(
        out["tool"],
        json!(["current_time", {"timezone": "UTC"}, "tool_calls"])
    );
    assert_eq!(
        out["streamed_tool"],
        json!(["current_time", {"timezone": "UTC"}])
    );
    assert_eq!(out["bad_key"], 401);
    assert_eq!(out["scripted_429"], json!([429, "7"]));
    model.stop().await;
}
