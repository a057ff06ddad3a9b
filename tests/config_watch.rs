//! Hot reload through the binary: the gateway watches its config file and reloads exactly
//! when the content changes. Found by a new operator: any access to the file (a `cat`, a
//! `dingclaw config check`, the reloader's own read) started an endless loop of reloads, three
//! to seven a second, for the life of the process.
//!
//! The gateway runs with `RUST_LOG=trace` and its log written into the watched folder, the
//! worst case: a watcher that reacts to its own log would feed itself.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::process::GatewayProcess;

const BIN: &str = env!("CARGO_BIN_EXE_dingclaw");

fn config(agents: &[&str]) -> String {
    let list: Vec<String> = agents
        .iter()
        .map(|a| format!("{{ id: \"{a}\" }}"))
        .collect();
    format!(
        "{{ agents: {{ list: [ {} ] }}, gateway: {{ port: 0, reload: {{ debounceMs: 200 }} }} }}\n",
        list.join(", ")
    )
}

/// Lines of the log saying a reload happened, and saying one was refused.
fn counts(log: &Path) -> (usize, usize) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let reloaded = text
        .lines()
        .filter(|l| l.contains("config reloaded") && l.contains("reloader"))
        .count();
    let refused = text
        .lines()
        .filter(|l| l.contains("config change refused"))
        .count();
    (reloaded, refused)
}

fn wait_for(log: &Path, what: &str, want: (usize, usize)) {
    let start = Instant::now();
    while counts(log) != want {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{what}: wanted {want:?} (reloads, refusals), have {:?}",
            counts(log)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // And no more after it settles.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(counts(log), want, "{what}: more came after");
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn the_gateway_reloads_once_per_change_and_never_for_a_read() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let conf_dir = dir.path().join("conf");
    std::fs::create_dir(&conf_dir).unwrap();
    let file = conf_dir.join("openclaw.json");
    write_private(&file, &config(&["a"]));
    let log = conf_dir.join("gateway.log");
    let out = dir.path().join("out.txt");
    let gw = GatewayProcess::start_with_env(&file, &state, &log, &out, &[("RUST_LOG", "trace")]);
    let start = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("dingclaw gateway started")
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "gateway did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Idle for 5 s: nothing, even with a trace log growing inside the watched folder.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(counts(&log), (0, 0), "idle");

    // Reads and metadata changes are not changes.
    let _ = std::fs::read_to_string(&file).unwrap();
    let cat = Command::new("cat").arg(&file).output().unwrap();
    assert!(cat.status.success());
    let check = Command::new(BIN)
        .args(["config", "check", "--config"])
        .arg(&file)
        .env("OPENCLAW_STATE_DIR", &state)
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    let _ = Command::new("touch").arg(&file).status();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(counts(&log), (0, 0), "cat, config check and touch");

    // One edit: one reload.
    write_private(&file, &config(&["a", "b"]));
    wait_for(&log, "one edit", (1, 0));

    // A save the way vim does it: a probe file, the original renamed to a backup, the new
    // text written under the old name, the backup deleted. One reload.
    let probe = conf_dir.join("4913");
    std::fs::write(&probe, "").unwrap();
    std::fs::remove_file(&probe).unwrap();
    let backup = conf_dir.join("openclaw.json~");
    std::fs::rename(&file, &backup).unwrap();
    write_private(&file, &config(&["a", "b", "c"]));
    std::fs::remove_file(&backup).unwrap();
    wait_for(&log, "a vim-style save", (2, 0));

    // An invalid edit is refused once, and reads after it do not refuse it again.
    write_private(&file, &config(&["a", "b", "c"]).replace("agents", "agnets"));
    wait_for(&log, "an invalid edit", (2, 1));
    let _ = Command::new("cat").arg(&file).output().unwrap();
    let _ = Command::new("touch").arg(&file).status();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(counts(&log), (2, 1), "reads of the refused version");

    // The fix: one reload.
    write_private(&file, &config(&["a", "b", "c", "d"]));
    wait_for(&log, "the fix", (3, 1));

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text
            .lines()
            .any(|l| l.contains(" notify") && l.contains("TRACE")),
        "the watcher's own trace lines are kept out of the log"
    );
    assert_eq!(gw.terminate(), Some(0));
}
