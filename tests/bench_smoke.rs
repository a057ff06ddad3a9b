//! `dingclaw bench --preset smoke`, as CI runs it: the three processes start, the simulator's
//! users get every answer exactly once, and the report and plot are written. Behaviour only;
//! no figure of speed is asserted (README: Performance).

use std::process::Command;

use serde_json::Value;

/// Runs `dingclaw bench <args> --quiet --out <tmp>` and returns its text report and its JSON
/// report (`bench-<preset>.json`), with the output folder.
fn bench(args: &[&str], preset: &str) -> (String, Value, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_dingclaw"))
        .arg("bench")
        .args(args)
        .args(["--quiet", "--out"])
        .arg(out.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "bench failed:\n{stdout}\n{stderr}");
    println!("{stdout}");
    let json = out.path().join(format!("bench-{preset}.json"));
    let report: Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    (stdout, report, out)
}

#[test]
fn the_smoke_preset_answers_every_message_once_and_writes_its_report() {
    let (stdout, report, out) = bench(&["--preset", "smoke"], "smoke");
    let n = |k: &str| {
        report[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {report}"))
    };
    assert!(
        n("sent") >= 100,
        "the smoke run sent too little: {}",
        n("sent")
    );
    assert_eq!(n("answered"), n("sent"));
    assert_eq!((n("lost"), n("duplicated"), n("unpushed")), (0, 0, 0));
    // Every message was timed and acknowledged.
    assert_eq!(report["latencyUs"]["count"].as_u64(), Some(n("sent")));
    assert_eq!(report["ackUs"]["count"].as_u64(), Some(n("sent")));
    assert!(
        report["latencyUs"]["p99"].as_u64().unwrap()
            >= report["latencyUs"]["p50"].as_u64().unwrap()
    );
    // The gateway's own use was read from /proc.
    assert!(report["gateway"]["peakRssKib"].as_u64().unwrap() > 0);
    assert!(report["gateway"]["cpuS"].as_f64().unwrap() > 0.0);
    // Read from the gateway's threads: a message wakes at least the thread its frame arrives on.
    assert!(report["gateway"]["sleepsPerMessage"].as_f64().unwrap() > 0.0);
    assert_eq!(report["plan"]["bots"].as_u64(), Some(2));
    assert!(report["connectMs"].as_u64().is_some());
    // The text report and the plot.
    for line in [
        "end-to-end latency",
        "ACK latency",
        "gateway CPU",
        "0 lost, 0 duplicated",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from:\n{stdout}");
    }
    let svg = std::fs::read_to_string(out.path().join("bench-smoke.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("answered messages per second"),
        "{}",
        &svg[..svg.len().min(300)]
    );
    // The processes' logs stay with the report.
    assert!(out.path().join("run-smoke/gateway.log").exists());
}

/// The cards preset: replies go out as AI cards under DingTalk's card call limit, and the
/// report says what each reply cost in card calls. An answer ready within `card.holdMs` (the
/// offline model answers at once) is one `createAndDeliver` call.
#[test]
fn the_cards_preset_reports_card_calls_per_reply() {
    let (stdout, report, _out) = bench(
        &[
            "--preset",
            "cards",
            "--duration",
            "3",
            "--conversations",
            "10",
        ],
        "cards",
    );
    let cards = &report["cards"];
    let answered = report["answered"].as_u64().unwrap();
    assert!(answered >= 10, "{report}");
    assert_eq!(cards["replies"].as_u64(), Some(answered), "{cards}");
    assert_eq!(cards["markdownReplies"].as_u64(), Some(0), "{cards}");
    assert_eq!(
        cards["throttled"].as_u64(),
        Some(0),
        "kept under the limit: {cards}"
    );
    assert_eq!(
        cards["calls"].as_u64(),
        Some(answered),
        "one call each: {cards}"
    );
    assert!(stdout.contains("card replies/s per bot"), "{stdout}");
}
