//! A Python virtual environment with the third-party clients our servers are checked against:
//! DingTalk's official Stream SDK (for the simulator) and the `openai` package (for the
//! offline model). Made on first use under the target directory, so `cargo test` needs
//! nothing installed by hand; `.ci/run` makes it up front with the same pins.

use std::path::PathBuf;
use std::process::Command;

/// The SDK version the simulator is checked against.
pub const SDK: &str = "dingtalk-stream==0.24.3";
/// The OpenAI client version the offline model is checked against.
pub const OPENAI: &str = "openai==3.54.0";

/// The venv's python, with the Stream SDK importable.
pub fn python_with_sdk() -> PathBuf {
    python_with(SDK, "dingtalk_stream")
}

/// The venv's python, with the OpenAI client importable.
pub fn python_with_openai() -> PathBuf {
    python_with(OPENAI, "openai")
}

/// The MCP time server from PyPI (a third-party MCP server the gateway is tested against).
pub const MCP_TIME: &str = "mcp-server-time==2026.10.19";

/// The `mcp-server-time` command in the venv.
pub fn mcp_server_time() -> PathBuf {
    python_with(MCP_TIME, "mcp_server_time").with_file_name("mcp-server-time")
}

/// The venv's python once `module` imports, installing `package` if it does not.
fn python_with(package: &str, module: &str) -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/python-sdk");
    let python = venv.join("bin/python");
    let imports = |p: &PathBuf| {
        Command::new(p)
            .args(["-c", &format!("import {module}")])
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.exists() && imports(&python) {
        return python;
    }
    if !python.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "python3 -m venv failed: install python3 (with venv)");
    }
    let ok = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", package])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "pip install {package} failed (is PyPI reachable?)");
    assert!(imports(&python), "{module} still not importable");
    python
}
