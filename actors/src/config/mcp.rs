//! `mcp`: the Model Context Protocol servers whose tools agents may call
//! (docs/openclaw-agent.md 3). OpenClaw 2026.9's shape, with 2026.7's spellings
//! (`workingDirectory`, `connectTimeout`, `timeout`, `disabled`, `type: "http"`) accepted as
//! well, so a config written for either starts unchanged.
//!
//! A server is stdio when it has a `command`, else HTTP at `url`: `transport:
//! "streamable-http"` or `"sse"` (the legacy transport, OpenClaw's default when `transport`
//! is not given). `env` and `headers` values are secrets: they never appear in `config show`,
//! logs or the API. Variables that would let a value hijack the child's start
//! (`NODE_OPTIONS`, `LD_PRELOAD`, ...) are dropped with a warning, as OpenClaw does.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::environment::{Environment, expand_home};
use super::issue::{ConfigPath, Diagnostics};
use super::secret::{Secret, SecretInput, resolve_secret};
use super::substitute::Unresolved;
use super::tool_policy::glob;

/// `mcp` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct McpSection {
    /// Per-session idle eviction in OpenClaw; dingclaw's servers are shared and stay up.
    pub session_idle_ttl_ms: Option<u64>,
    /// `servers.<name>`.
    pub servers: Option<IndexMap<String, McpServerEntry>>,
}

/// An `env` or `headers` value: text (or a secret reference), a number or a boolean.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged, expecting = "a string, number, boolean or secret reference")]
pub enum McpValue {
    /// A string (or a secret reference).
    Text(SecretInput),
    /// A number.
    Number(serde_json::Number),
    /// A boolean.
    Bool(bool),
}

/// One server as written (2026.9 keys and 2026.7 spellings).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct McpServerEntry {
    /// `command`: a stdio server's program.
    pub command: Option<String>,
    /// `args`.
    pub args: Option<Vec<String>>,
    /// `env`: variables for its process.
    pub env: Option<IndexMap<String, McpValue>>,
    /// `cwd`.
    pub cwd: Option<String>,
    /// 2026.7's spelling of `cwd`.
    pub working_directory: Option<String>,
    /// `enabled`.
    pub enabled: Option<bool>,
    /// 2026.7's opposite of `enabled`.
    pub disabled: Option<bool>,
    /// `url`: a remote server.
    pub url: Option<String>,
    /// `streamable-http` or `sse`.
    pub transport: Option<String>,
    /// 2026.7: `"http"` means streamable HTTP.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `headers` for a remote server.
    pub headers: Option<IndexMap<String, McpValue>>,
    /// `connectionTimeoutMs`.
    pub connection_timeout_ms: Option<u64>,
    /// 2026.7's spelling of `connectionTimeoutMs`.
    pub connect_timeout: Option<u64>,
    /// `requestTimeoutMs`.
    pub request_timeout_ms: Option<u64>,
    /// 2026.7's spelling of `requestTimeoutMs`.
    pub timeout: Option<u64>,
    /// `toolFilter`.
    pub tool_filter: Option<ToolFilterEntry>,
    /// Accepted and reported: the calls of one turn run one after another.
    pub supports_parallel_tool_calls: Option<bool>,
    /// Accepted and reported: no OAuth sign-in; give a token in `headers`.
    pub auth: Option<String>,
    /// Accepted and reported (no OAuth).
    pub oauth: Option<Value>,
    /// Accepted and reported: certificates are always verified.
    pub ssl_verify: Option<bool>,
    /// Accepted and reported (no client certificates).
    pub client_cert: Option<String>,
    /// Accepted and reported (no client certificates).
    pub client_key: Option<String>,
    /// Accepted and reported (Codex-only setting).
    pub codex: Option<Value>,
}

/// `toolFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolFilterEntry {
    /// `include`: only these tools (globs).
    pub include: Option<Vec<String>>,
    /// `exclude`: not these.
    pub exclude: Option<Vec<String>>,
}

/// How to reach a server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "transport", rename_all = "kebab-case")]
pub enum McpTransport {
    /// A program spoken to over stdin and stdout.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Its extra environment (hijacking variables removed).
        env: IndexMap<String, Secret>,
        /// Where it runs.
        #[serde(skip_serializing_if = "Option::is_none")]
        cwd: Option<PathBuf>,
    },
    /// A remote server over streamable HTTP.
    StreamableHttp {
        /// Its endpoint.
        url: String,
        /// Headers sent with every request (never shown).
        headers: IndexMap<String, Secret>,
    },
    /// The legacy HTTP+SSE transport (protocol 2024-11-05).
    Sse {
        /// The SSE endpoint.
        url: String,
        /// Headers sent with every request (never shown).
        headers: IndexMap<String, Secret>,
    },
}

impl McpTransport {
    /// `stdio`, `streamable-http` or `sse`.
    pub fn kind(&self) -> &'static str {
        match self {
            McpTransport::Stdio { .. } => "stdio",
            McpTransport::StreamableHttp { .. } => "streamable-http",
            McpTransport::Sse { .. } => "sse",
        }
    }
}

/// One server as dingclaw runs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct McpServerConfig {
    /// As configured.
    pub name: String,
    /// The server part of its tools' names (`<prefix>__<tool>`): the name made safe.
    pub prefix: String,
    /// `enabled` (default true).
    pub enabled: bool,
    /// How to reach it.
    #[serde(flatten)]
    pub transport: McpTransport,
    /// `connectionTimeoutMs` (30 s): the handshake may take this long.
    #[serde(with = "millis")]
    pub connect_timeout: Duration,
    /// `requestTimeoutMs` (60 s): one call may take this long.
    #[serde(with = "millis")]
    pub request_timeout: Duration,
    /// `toolFilter`: globs on the server's own tool names.
    pub include: Vec<String>,
    /// `toolFilter.exclude`: tools left out.
    pub exclude: Vec<String>,
}

impl McpServerConfig {
    /// Does `toolFilter` keep the server's tool `tool`?
    pub fn keeps(&self, tool: &str) -> bool {
        let hit = |patterns: &[String]| patterns.iter().any(|p| glob(p, tool));
        (self.include.is_empty() || hit(&self.include)) && !hit(&self.exclude)
    }
}

mod millis {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

/// The effective `mcp` section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct McpConfig {
    /// In declaration order (it decides suffixes when two names collide).
    pub servers: Vec<McpServerConfig>,
}

impl McpConfig {
    /// The enabled servers.
    pub fn enabled(&self) -> impl Iterator<Item = &McpServerConfig> {
        self.servers.iter().filter(|s| s.enabled)
    }

    /// The server called `name`.
    pub fn get(&self, name: &str) -> Option<&McpServerConfig> {
        self.servers.iter().find(|s| s.name == name)
    }
}

/// OpenClaw's defaults.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `requestTimeoutMs`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Variables a config's `env` may not set for a stdio server: they would run code of their
/// choosing before the server starts.
fn hijacks(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    matches!(
        upper.as_str(),
        "NODE_OPTIONS"
            | "PYTHONSTARTUP"
            | "PYTHONPATH"
            | "PERL5OPT"
            | "RUBYOPT"
            | "BASH_ENV"
            | "ENV"
    ) || upper.starts_with("LD_")
        || upper.starts_with("DYLD_")
        || upper.starts_with("BASH_FUNC_")
}

/// Makes `raw` a safe name part: characters outside `[A-Za-z0-9_-]` become `-`, a name not
/// starting with a letter gets `prefix`, and it is cut to `max` characters
/// (docs/openclaw-agent.md 3.4).
pub fn safe_name(raw: &str, prefix: &str, max: usize) -> String {
    let mut s: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s = format!("{prefix}{s}");
    }
    s.chars().take(max).collect()
}

/// Server name parts are at most this long.
pub const SERVER_PART_MAX: usize = 30;

pub(crate) fn build_mcp(
    section: Option<&McpSection>,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> McpConfig {
    let Some(section) = section else {
        return McpConfig::default();
    };
    let at = ConfigPath::root().key("mcp");
    if section.session_idle_ttl_ms.is_some() {
        diags.warn(
            at.key("sessionIdleTtlMs"),
            "ignored: each MCP server runs once for the whole gateway (not per session) and stays up while it runs",
        );
    }
    let mut servers: Vec<McpServerConfig> = Vec::new();
    for (name, e) in section.servers.iter().flatten() {
        let p = at.key("servers").key(name);
        if name.trim().is_empty() || name == "__proto__" {
            diags.error(p.clone(), "not a usable server name");
            continue;
        }
        if let Some(server) = build_server(name, e, &p, env, unresolved, diags) {
            servers.push(server);
        }
    }
    // Two names that make the same safe part: later ones get -2, -3, ...
    let mut taken: Vec<String> = Vec::new();
    for s in &mut servers {
        let base = s.prefix.clone();
        let mut n = 1;
        while taken.contains(&s.prefix) {
            n += 1;
            let suffix = format!("-{n}");
            let keep = SERVER_PART_MAX.saturating_sub(suffix.len());
            s.prefix = format!("{}{suffix}", base.chars().take(keep).collect::<String>());
        }
        taken.push(s.prefix.clone());
    }
    McpConfig { servers }
}

fn values(
    map: Option<&IndexMap<String, McpValue>>,
    at: &ConfigPath,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> IndexMap<String, Secret> {
    let mut out = IndexMap::new();
    for (k, v) in map.into_iter().flatten() {
        let value = match v {
            McpValue::Text(input) => {
                let state = resolve_secret(input, &at.key(k), env, unresolved);
                state.into_secret()
            }
            McpValue::Number(n) => Secret::new(n.to_string()),
            McpValue::Bool(b) => Secret::new(b.to_string()),
        };
        if k.trim().is_empty() {
            diags.error(at.clone(), "an empty name");
            continue;
        }
        out.insert(k.clone(), value);
    }
    out
}

fn build_server(
    name: &str,
    e: &McpServerEntry,
    at: &ConfigPath,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> Option<McpServerConfig> {
    let enabled = match (e.enabled, e.disabled) {
        (Some(en), Some(dis)) if en == dis => {
            diags.error(at.key("disabled"), "contradicts enabled");
            return None;
        }
        (Some(en), _) => en,
        (None, Some(dis)) => !dis,
        (None, None) => true,
    };
    let command = e
        .command
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let transport = if let Some(command) = command {
        if e.url.is_some() {
            diags.warn(
                at.key("url"),
                "ignored: the server has a command, so it is started as a stdio server (as OpenClaw does)",
            );
        }
        let mut vars = values(e.env.as_ref(), &at.key("env"), env, unresolved, diags);
        vars.retain(|k, _| {
            let bad = hijacks(k);
            if bad {
                diags.warn(
                    at.key("env").key(k),
                    "dropped: this variable could make the server's runtime load other code before it starts",
                );
            }
            !bad
        });
        let cwd = e.cwd.as_ref().or(e.working_directory.as_ref());
        McpTransport::Stdio {
            command: command.to_owned(),
            args: e.args.clone().unwrap_or_default(),
            env: vars,
            cwd: cwd.map(|c| expand_home(c, env)),
        }
    } else {
        let Some(url) = e.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
            diags.error(at.clone(), "needs a command (stdio) or a url (HTTP)");
            return None;
        };
        match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            Ok(u) => {
                diags.error(
                    at.key("url"),
                    format!("only http and https addresses, not {}:", u.scheme()),
                );
                return None;
            }
            Err(err) => {
                diags.error(at.key("url"), format!("\"{url}\" is not a URL: {err}"));
                return None;
            }
        }
        let headers = values(
            e.headers.as_ref(),
            &at.key("headers"),
            env,
            unresolved,
            diags,
        );
        let kind = e
            .transport
            .as_deref()
            .or(match e.kind.as_deref() {
                Some("http" | "streamable-http" | "streamableHttp") => Some("streamable-http"),
                Some("sse") => Some("sse"),
                _ => None,
            })
            .unwrap_or("sse");
        match kind {
            "streamable-http" | "streamableHttp" | "http" => McpTransport::StreamableHttp {
                url: url.to_owned(),
                headers,
            },
            "sse" => McpTransport::Sse {
                url: url.to_owned(),
                headers,
            },
            other => {
                diags.error(
                    at.key("transport"),
                    format!("unknown transport \"{other}\" (streamable-http or sse)"),
                );
                return None;
            }
        }
    };
    for (key, set, why) in [
        (
            "auth",
            e.auth.is_some() || e.oauth.is_some(),
            "OAuth sign-in is not supported; give the server a token in headers instead",
        ),
        (
            "sslVerify",
            e.ssl_verify == Some(false),
            "certificates are always verified",
        ),
        (
            "clientCert",
            e.client_cert.is_some() || e.client_key.is_some(),
            "client certificates are not supported",
        ),
        (
            "supportsParallelToolCalls",
            e.supports_parallel_tool_calls.is_some(),
            "not needed: the calls of one turn run one after another",
        ),
        (
            "codex",
            e.codex.is_some(),
            "there are no Codex app-server threads in dingclaw",
        ),
    ] {
        if set {
            diags.warn(at.key(key), format!("ignored: {why}"));
        }
    }
    let ms = |v: Option<u64>, d: Duration| v.map_or(d, Duration::from_millis);
    let filter = e.tool_filter.as_ref();
    Some(McpServerConfig {
        name: name.to_owned(),
        prefix: safe_name(name, "mcp-", SERVER_PART_MAX),
        enabled,
        transport,
        connect_timeout: ms(
            e.connection_timeout_ms.or(e.connect_timeout),
            DEFAULT_CONNECT_TIMEOUT,
        ),
        request_timeout: ms(e.request_timeout_ms.or(e.timeout), DEFAULT_REQUEST_TIMEOUT),
        include: filter.and_then(|f| f.include.clone()).unwrap_or_default(),
        exclude: filter.and_then(|f| f.exclude.clone()).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MapEnv;

    fn build(json: serde_json::Value) -> (McpConfig, Diagnostics) {
        let section: McpSection = serde_json::from_value(json).unwrap();
        let mut d = Diagnostics::default();
        let env = MapEnv::new();
        let c = build_mcp(Some(&section), &env, &Unresolved::default(), &mut d);
        (c, d)
    }

    #[test]
    fn both_versions_spellings_and_transports() {
        let (c, d) = build(serde_json::json!({"servers": {
            "fs": {"command": "npx", "args": ["-y", "x"], "env": {"A": 1, "B": true, "NODE_OPTIONS": "--require evil"},
                   "workingDirectory": "/srv", "disabled": false},
            "docs": {"url": "https://mcp.example.com/mcp", "type": "http",
                     "headers": {"Authorization": "Bearer t0ken"}, "connectTimeout": 5000, "timeout": 20000,
                     "toolFilter": {"include": ["search", "read_*"], "exclude": ["read_secret"]}},
            "old": {"url": "http://127.0.0.1:3001/sse"},
            "Outlook Graph": {"url": "https://x.example/mcp", "transport": "streamable-http", "enabled": false},
            "9lives": {"command": "nine"},
        }}));
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert!(
            d.warnings
                .iter()
                .any(|w| w.to_string().contains("NODE_OPTIONS"))
        );
        let fs = c.get("fs").unwrap();
        match &fs.transport {
            McpTransport::Stdio { env, cwd, .. } => {
                assert_eq!(env.get("A").unwrap().expose(), "1");
                assert_eq!(env.get("B").unwrap().expose(), "true");
                assert!(!env.contains_key("NODE_OPTIONS"));
                assert_eq!(cwd.as_deref(), Some(std::path::Path::new("/srv")));
            }
            other => panic!("{other:?}"),
        }
        let docs = c.get("docs").unwrap();
        assert_eq!(docs.transport.kind(), "streamable-http");
        assert_eq!(docs.connect_timeout, Duration::from_millis(5000));
        assert_eq!(docs.request_timeout, Duration::from_millis(20000));
        assert!(docs.keeps("search") && docs.keeps("read_file"));
        assert!(!docs.keeps("read_secret") && !docs.keeps("delete"));
        assert_eq!(
            c.get("old").unwrap().transport.kind(),
            "sse",
            "OpenClaw's default"
        );
        let outlook = c.get("Outlook Graph").unwrap();
        assert_eq!(outlook.prefix, "Outlook-Graph");
        assert!(!outlook.enabled);
        assert_eq!(c.get("9lives").unwrap().prefix, "mcp-9lives");
        // Secrets stay out of what the config shows.
        let shown = serde_json::to_string(&c).unwrap();
        assert!(!shown.contains("t0ken"), "{shown}");
    }

    #[test]
    fn bad_servers_are_errors_and_colliding_names_get_suffixes() {
        let (c, d) = build(serde_json::json!({"servers": {
            "a b": {"command": "x"}, "a-b": {"command": "y"},
            "nothing": {}, "ftp": {"url": "ftp://x/"}, "odd": {"url": "http://x/", "transport": "carrier-pigeon"},
        }}));
        let errors: Vec<String> = d.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 3, "{errors:?}");
        let prefixes: Vec<&str> = c.servers.iter().map(|s| s.prefix.as_str()).collect();
        assert_eq!(prefixes, ["a-b", "a-b-2"]);
    }
}
