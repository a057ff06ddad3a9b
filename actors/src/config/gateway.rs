//! `gateway`: the operator's HTTP port, its bind address and its token
//! (docs/openclaw-routing.md 1.11, 7).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::environment::Environment;
use super::issue::{ConfigPath, Diagnostics};
use super::secret::{Secret, SecretInput, resolve_secret};
use super::substitute::Unresolved;

/// OpenClaw's gateway port.
pub const DEFAULT_PORT: u16 = 18789;

/// Failed logins allowed per window before the address is locked out (OpenClaw's defaults).
pub const DEFAULT_AUTH_MAX_ATTEMPTS: u32 = 10;
pub const DEFAULT_AUTH_WINDOW_MS: u64 = 60_000;
pub const DEFAULT_AUTH_LOCKOUT_MS: u64 = 300_000;

/// How long file changes settle before a reload.
pub const DEFAULT_RELOAD_DEBOUNCE_MS: u64 = 300;

// ---------------------------------------------------------------------------------------------
// What users write
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewaySection {
    /// HTTP port of the web page and API (default 18789; `OPENCLAW_GATEWAY_PORT` overrides).
    pub port: Option<u16>,
    /// `loopback` (default), `lan` (all interfaces), `auto` (= loopback), `custom` (with
    /// `customBindHost`), or an IP address.
    pub bind: Option<String>,
    pub custom_bind_host: Option<String>,
    pub auth: Option<GatewayAuthEntry>,
    /// Addresses of reverse proxies in front of the gateway: their `X-Forwarded-For` names
    /// the client, for the login lockout. A loopback peer that forwards is trusted too.
    pub trusted_proxies: Option<Vec<String>>,
    pub reload: Option<ReloadEntry>,
    pub control_ui: Option<ControlUiEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayAuthEntry {
    /// `token` (default), `password`, `none`; `trusted-proxy` is not supported.
    pub mode: Option<AuthMode>,
    /// The operator token; `OPENCLAW_GATEWAY_TOKEN` is used when unset.
    pub token: Option<SecretInput>,
    pub password: Option<SecretInput>,
    pub rate_limit: Option<RateLimitEntry>,
    /// dingclaw: allow `mode: "none"` on an address other machines can reach. Without it
    /// that combination is refused: it would open every transcript and the chat to anyone on
    /// the network.
    pub dangerously_allow_unauthenticated_network: Option<bool>,
}

/// `gateway.auth.mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// A token (generated at first start when none is set).
    #[default]
    Token,
    /// A password.
    Password,
    /// Refused by `config check`: dingclaw does not trust identity headers.
    TrustedProxy,
    /// No sign-in; refused off loopback unless `dangerouslyAllowUnauthenticatedNetwork`.
    None,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RateLimitEntry {
    pub max_attempts: Option<u32>,
    pub window_ms: Option<u64>,
    pub lockout_ms: Option<u64>,
    pub exempt_loopback: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReloadEntry {
    /// `hybrid` (default) applies changes live; `off` ignores file changes.
    pub mode: Option<ReloadMode>,
    pub debounce_ms: Option<u64>,
}

/// `gateway.reload.mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReloadMode {
    /// Apply what can be applied, report what needs a restart.
    #[default]
    Hybrid,
    /// Accepted from 2026.3 configs; dingclaw watches the file only in `hybrid` (SIGHUP and
    /// the web page reload in every mode).
    Hot,
    /// As `hot`.
    Restart,
    /// Do not watch the file (SIGHUP and the web page still reload).
    Off,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControlUiEntry {
    pub enabled: Option<bool>,
    pub base_path: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// What dingclaw runs with
// ---------------------------------------------------------------------------------------------

/// `gateway`: the web console and operator API.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayConfig {
    /// `port` (18789).
    pub port: u16,
    /// `bind` (`loopback` by default).
    pub bind: IpAddr,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`gateway.trustedProxies`).
    pub trusted_proxies: Vec<IpAddr>,
    /// `auth`.
    pub auth: GatewayAuth,
    /// `reload.mode`.
    pub reload: ReloadMode,
    /// `reload.debounceMs`.
    pub reload_debounce_ms: u64,
    /// `controlUi.enabled`.
    pub control_ui_enabled: bool,
    /// `controlUi.basePath`: where the console is served (behind a proxy).
    pub base_path: String,
}

/// `gateway.auth`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayAuth {
    /// `mode` (default `token`).
    pub mode: AuthMode,
    /// `None` when neither the config nor the environment sets one: the gateway then
    /// generates a token at first start and keeps it in the state directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// Where the token came from, in words (the config, or the variable and its source), so
    /// the operator can tell which of several places won.
    #[serde(skip)]
    pub token_source: Option<String>,
    /// `password`, for `mode: "password"` (never shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// `rateLimit.maxAttempts`: failed sign-ins allowed in a window.
    pub max_attempts: u32,
    /// `rateLimit.windowMs`.
    pub window_ms: u64,
    /// `rateLimit.lockoutMs`: how long an address is locked out after them.
    pub lockout_ms: u64,
    /// `rateLimit.exemptLoopback`.
    pub exempt_loopback: bool,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        build_gateway(
            None,
            &super::environment::MapEnv::new(),
            &Unresolved::new(),
            &mut Diagnostics::default(),
        )
    }
}

pub(crate) fn build_gateway(
    section: Option<&GatewaySection>,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> GatewayConfig {
    let empty = GatewaySection::default();
    let g = section.unwrap_or(&empty);
    let at = ConfigPath::root().key("gateway");
    let port = match env.var("OPENCLAW_GATEWAY_PORT") {
        Some(p) => p.parse().unwrap_or_else(|_| {
            diags.error(
                at.key("port"),
                format!("OPENCLAW_GATEWAY_PORT=\"{p}\" is not a port number"),
            );
            DEFAULT_PORT
        }),
        None => g.port.unwrap_or(DEFAULT_PORT),
    };
    let bind = parse_bind(g, &at, diags);
    let auth_entry = g.auth.as_ref();
    let auth_at = at.key("auth");
    let secret = |input: Option<&SecretInput>, key: &str, var: &str| -> Option<Secret> {
        match input {
            Some(i) => Some(resolve_secret(i, &auth_at.key(key), env, unresolved).into_secret())
                .filter(|s| !s.is_empty()),
            None => env.var(var).map(Secret::new),
        }
    };
    let mode = auth_entry.and_then(|a| a.mode).unwrap_or_default();
    if mode == AuthMode::TrustedProxy {
        diags.error(
            auth_at.key("mode"),
            "\"trusted-proxy\" is not supported by dingclaw",
        );
    }
    let token_input = auth_entry.and_then(|a| a.token.as_ref());
    let token = secret(token_input, "token", "OPENCLAW_GATEWAY_TOKEN");
    let token_source = token.as_ref().map(|_| match token_input {
        Some(_) => "gateway.auth.token in the config".to_owned(),
        None => format!(
            "OPENCLAW_GATEWAY_TOKEN from {}",
            env.origin("OPENCLAW_GATEWAY_TOKEN")
        ),
    });
    let password = secret(
        auth_entry.and_then(|a| a.password.as_ref()),
        "password",
        "OPENCLAW_GATEWAY_PASSWORD",
    );
    if mode == AuthMode::Password && password.is_none() {
        diags.error(
            auth_at.key("password"),
            "required when mode is \"password\"",
        );
    }
    let open_anyway = auth_entry
        .and_then(|a| a.dangerously_allow_unauthenticated_network)
        .unwrap_or(false);
    if mode == AuthMode::None && !bind.is_loopback() && !open_anyway {
        diags.error(
            auth_at.key("mode"),
            format!(
                "\"none\" on {bind} (gateway.bind) would let anyone who can reach this machine read every transcript and chat as any agent; use a token (the default), bind to loopback, or set gateway.auth.dangerouslyAllowUnauthenticatedNetwork: true"
            ),
        );
    }
    let trusted_proxies = parse_proxies(g, &at, diags);
    let rl = auth_entry.and_then(|a| a.rate_limit.as_ref());
    let reload = g.reload.as_ref();
    GatewayConfig {
        port,
        bind,
        trusted_proxies,
        auth: GatewayAuth {
            mode,
            token,
            token_source,
            password,
            max_attempts: rl
                .and_then(|r| r.max_attempts)
                .unwrap_or(DEFAULT_AUTH_MAX_ATTEMPTS),
            window_ms: rl
                .and_then(|r| r.window_ms)
                .unwrap_or(DEFAULT_AUTH_WINDOW_MS),
            lockout_ms: rl
                .and_then(|r| r.lockout_ms)
                .unwrap_or(DEFAULT_AUTH_LOCKOUT_MS),
            exempt_loopback: rl.and_then(|r| r.exempt_loopback).unwrap_or(true),
        },
        reload: reload.and_then(|r| r.mode).unwrap_or_default(),
        reload_debounce_ms: reload
            .and_then(|r| r.debounce_ms)
            .unwrap_or(DEFAULT_RELOAD_DEBOUNCE_MS),
        control_ui_enabled: g
            .control_ui
            .as_ref()
            .and_then(|c| c.enabled)
            .unwrap_or(true),
        base_path: g
            .control_ui
            .as_ref()
            .and_then(|c| c.base_path.clone())
            .unwrap_or_else(|| "/".to_owned()),
    }
}

fn parse_proxies(g: &GatewaySection, at: &ConfigPath, diags: &mut Diagnostics) -> Vec<IpAddr> {
    let at = at.key("trustedProxies");
    let mut out = Vec::new();
    for (i, entry) in g.trusted_proxies.iter().flatten().enumerate() {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) => out.push(ip),
            Err(_) => diags.error(
                at.index(i),
                format!("\"{entry}\" is not an IP address (list each proxy's address; ranges are not supported)"),
            ),
        }
    }
    out
}

fn parse_bind(g: &GatewaySection, at: &ConfigPath, diags: &mut Diagnostics) -> IpAddr {
    let loopback = IpAddr::from([127, 0, 0, 1]);
    let raw = g.bind.as_deref().map(str::trim).unwrap_or("loopback");
    match raw {
        "loopback" | "auto" => loopback,
        "lan" => IpAddr::from([0, 0, 0, 0]),
        "custom" => match g.custom_bind_host.as_deref().map(str::parse::<IpAddr>) {
            Some(Ok(ip)) => ip,
            _ => {
                diags.error(
                    at.key("customBindHost"),
                    "bind \"custom\" needs customBindHost set to an IP address",
                );
                loopback
            }
        },
        "tailnet" => {
            diags.error(at.key("bind"), "\"tailnet\" is not supported by dingclaw");
            loopback
        }
        other => other.parse().unwrap_or_else(|_| {
            diags.error(
                at.key("bind"),
                format!("\"{other}\" is not loopback, lan, auto, custom or an IP address"),
            );
            loopback
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::environment::MapEnv;

    fn build(json: serde_json::Value, env: &MapEnv) -> (GatewayConfig, Diagnostics) {
        let s: GatewaySection = serde_json::from_value(json).unwrap();
        let mut d = Diagnostics::default();
        (build_gateway(Some(&s), env, &Unresolved::new(), &mut d), d)
    }

    #[test]
    fn defaults_and_environment() {
        let (g, _) = build(serde_json::json!({}), &MapEnv::new());
        assert_eq!(g.port, 18789);
        assert_eq!(g.bind, IpAddr::from([127, 0, 0, 1]));
        assert!(g.auth.token.is_none());
        let env = MapEnv::new()
            .with_var("OPENCLAW_GATEWAY_TOKEN", "tok")
            .with_var("OPENCLAW_GATEWAY_PORT", "9000");
        let (g, _) = build(serde_json::json!({"port": 1234, "bind": "lan"}), &env);
        assert_eq!(g.port, 9000);
        assert_eq!(g.bind, IpAddr::from([0, 0, 0, 0]));
        assert_eq!(g.auth.token.unwrap().expose(), "tok");
    }

    #[test]
    fn no_auth_is_refused_off_loopback_unless_explicitly_allowed() {
        let (_, d) = build(
            serde_json::json!({"bind": "lan", "auth": {"mode": "none"}}),
            &MapEnv::new(),
        );
        let err = d.errors[0].to_string();
        assert!(
            err.starts_with("gateway.auth.mode: \"none\" on 0.0.0.0"),
            "{err}"
        );
        let (_, d) = build(
            serde_json::json!({"bind": "loopback", "auth": {"mode": "none"}}),
            &MapEnv::new(),
        );
        assert!(d.errors.is_empty());
        let (g, d) = build(
            serde_json::json!({"bind": "lan", "auth": {"mode": "none", "dangerouslyAllowUnauthenticatedNetwork": true}}),
            &MapEnv::new(),
        );
        assert!(d.errors.is_empty());
        assert_eq!(g.auth.mode, AuthMode::None);
    }

    #[test]
    fn token_source_is_told() {
        let env = MapEnv::new().with_var("OPENCLAW_GATEWAY_TOKEN", "tok");
        let (g, _) = build(serde_json::json!({}), &env);
        assert_eq!(
            g.auth.token_source.as_deref(),
            Some("OPENCLAW_GATEWAY_TOKEN from the environment")
        );
        let (g, _) = build(serde_json::json!({"auth": {"token": "x"}}), &env);
        assert_eq!(
            g.auth.token_source.as_deref(),
            Some("gateway.auth.token in the config")
        );
    }

    #[test]
    fn trusted_proxies_are_addresses() {
        let (g, d) = build(
            serde_json::json!({"trustedProxies": ["10.0.0.2", "::1", "10.0.0.0/8"]}),
            &MapEnv::new(),
        );
        assert_eq!(g.trusted_proxies.len(), 2);
        assert!(
            d.errors[0]
                .to_string()
                .starts_with("gateway.trustedProxies.2:")
        );
    }

    #[test]
    fn bad_bind_is_reported() {
        let (_, d) = build(serde_json::json!({"bind": "everywhere"}), &MapEnv::new());
        assert_eq!(
            d.errors[0].to_string(),
            "gateway.bind: \"everywhere\" is not loopback, lan, auto, custom or an IP address"
        );
    }
}
