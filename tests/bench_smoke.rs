//! `dingclaw bench --preset smoke`, as CI runs it: the three processes start, the simulator's
//! users get every answer exactly once, and the report and plot are written. Behaviour only;
//! no figure of speed is asserted (README: Performance).

use std::process::Command;

use serde_json::Value;

#[test]
fn the_smoke_preset_answers_every_message_once_and_writes_its_report() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_dingclaw"))
        .args(["bench", "--preset", "smoke", "--quiet", "--out"])
        .arg(out.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "bench failed:\n{stdout}\n{stderr}");
    println!("{stdout}");

    let report: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("bench-smoke.json")).unwrap())
            .unwrap();
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
