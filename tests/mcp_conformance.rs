//! The MCP project's conformance suite (`@modelcontextprotocol/conformance`, npm) run against
//! dingclaw's MCP client, through `dingclaw mcp check --call-all` (the same connection code as
//! the gateway's server actors). Client scenarios: the initialisation handshake, a tool call,
//! and reconnecting a streamable HTTP stream as the server's `retry` field says. Not run:
//! elicitation (dingclaw has no one to ask, so it declines) and the OAuth scenarios (OAuth is
//! not supported; servers take tokens in headers).

mod support;

use std::process::Command;

#[test]
fn the_conformance_suite_passes_the_client_scenarios() {
    let (node, suite) = support::mcp::conformance();
    let bin_dir = node.parent().expect("node's folder").to_owned();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let client = format!("{} mcp check --call-all", env!("CARGO_BIN_EXE_dingclaw"));
    let mut figures = Vec::new();
    for scenario in ["initialize", "tools_call", "sse-retry"] {
        let out = Command::new(&node)
            .arg(&suite)
            .args(["client", "--command", &client, "--scenario", scenario])
            .env("PATH", &path)
            .output()
            .expect("run the conformance suite");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let passed = text
            .lines()
            .find(|l| l.starts_with("Passed:"))
            .unwrap_or("Passed: ?")
            .to_owned();
        println!("MCP conformance {scenario}: {passed}");
        assert!(
            out.status.success() && text.contains("OVERALL: PASSED"),
            "{scenario} failed:\n{text}"
        );
        figures.push(passed);
    }
    assert_eq!(figures.len(), 3);
}
