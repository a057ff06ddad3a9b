//! A Python virtual environment with DingTalk's official Stream SDK, made on first use under
//! the target directory (so `cargo test` needs nothing installed by hand; `.ci/run` makes it
//! up front).

use std::path::PathBuf;
use std::process::Command;

/// The SDK version the simulator is checked against.
pub const SDK: &str = "dingtalk-stream==0.24.3";

/// The venv's python, with the SDK importable.
pub fn python_with_sdk() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/python-sdk");
    let python = venv.join("bin/python");
    let has_sdk = |p: &PathBuf| {
        Command::new(p)
            .args(["-c", "import dingtalk_stream"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.exists() && has_sdk(&python) {
        return python;
    }
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "python3 -m venv failed: install python3 (with venv)");
    let ok = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", SDK])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "pip install {SDK} failed (is PyPI reachable?)");
    assert!(has_sdk(&python), "dingtalk_stream still not importable");
    python
}
