//! Third-party MCP servers for the tests, from npm: the MCP project's "everything" server
//! (every feature, in stdio, SSE and streamable HTTP modes), its filesystem server and its
//! conformance suite, all run with Node 22 from npm's `node` package (so the machine's own
//! node version does not matter). They are installed on first use under the target directory
//! (`.ci/run` installs them up front with the same pins), so `cargo test` needs only npm.

use std::path::PathBuf;
use std::process::Command;

pub const EVERYTHING: &str = "@modelcontextprotocol/server-everything@2026.8.31";
pub const FILESYSTEM: &str = "@modelcontextprotocol/server-filesystem@2026.8.31";

/// The folder the npm packages are installed in.
fn prefix() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/mcp-servers")
}

/// Every package the MCP tests use, in one install.
const PACKAGES: [&str; 4] = [EVERYTHING, FILESYSTEM, CONFORMANCE, NODE22];

/// Installs the packages if any is missing; returns the install folder.
fn installed() -> PathBuf {
    let dir = prefix();
    let present = dir.join("node_modules/.bin/node").exists()
        && dir
            .join("node_modules/@modelcontextprotocol/conformance/dist/index.js")
            .exists()
        && dir
            .join("node_modules/@modelcontextprotocol/server-everything/dist/index.js")
            .exists()
        && dir
            .join("node_modules/@modelcontextprotocol/server-filesystem/dist/index.js")
            .exists();
    if !present {
        std::fs::create_dir_all(&dir).expect("create target/mcp-servers");
        let ok = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&dir)
            .args(PACKAGES)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "npm install of the MCP test packages failed (is npm installed, and the npm registry reachable?)"
        );
    }
    dir
}

/// Node 22, from npm.
pub fn node() -> PathBuf {
    installed().join("node_modules/.bin/node")
}

/// A server's entry script (run it with `node()`).
fn script(package_dir: &str) -> PathBuf {
    installed()
        .join("node_modules/@modelcontextprotocol")
        .join(package_dir)
        .join("dist/index.js")
}

/// `node <everything server>`.
pub fn everything() -> PathBuf {
    script("server-everything")
}

/// `node <filesystem server>`.
pub fn filesystem() -> PathBuf {
    script("server-filesystem")
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The everything server in an HTTP mode (`sse` or `streamableHttp`) on `port`; killed on
/// drop.
pub struct HttpServer(pub std::process::Child);

impl HttpServer {
    pub fn start(mode: &str, port: u16) -> HttpServer {
        let child = Command::new(node())
            .arg(everything())
            .arg(mode)
            .env("PORT", port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the everything server");
        // Until it listens.
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "the everything server ({mode}) did not listen on {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        HttpServer(child)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The MCP project's conformance suite, which can test a client (it needs Node 22).
pub const CONFORMANCE: &str = "@modelcontextprotocol/conformance@0.1.16";
pub const NODE22: &str = "node@22";

/// `(node 22, the conformance suite's entry script)`.
pub fn conformance() -> (PathBuf, PathBuf) {
    (node(), script("conformance"))
}
