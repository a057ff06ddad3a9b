//! `dingclaw.cluster`: several gateways on one PostgreSQL store share the bots and the
//! sessions (README "Several gateways"). Each instance heartbeats; a session is answered by
//! the instance that holds its lease; bots keep connections on `botReplicas` instances.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::environment::Environment;
use super::issue::{ConfigPath, Diagnostics};
use super::runtime::StoreKind;

/// How often an instance says it is alive, unless `heartbeatMs` says otherwise.
pub const DEFAULT_HEARTBEAT_MS: u64 = 1_000;

/// An instance silent this long is taken for dead and its sessions are taken over.
pub const DEFAULT_LEASE_TTL_MS: u64 = 5_000;

/// Instances that keep a connection open for each bot.
pub const DEFAULT_BOT_REPLICAS: usize = 2;

/// `dingclaw.cluster` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterSection {
    /// This gateway's name in the cluster (default: the host name). Unique per process.
    pub instance_id: Option<String>,
    /// How often the instance renews its heartbeat (ms, default 1000).
    pub heartbeat_ms: Option<u64>,
    /// Silence after which an instance is dead and its leases go (ms, default 5000; at least
    /// three heartbeats).
    pub lease_ttl_ms: Option<u64>,
    /// Instances that connect each bot (default 2).
    pub bot_replicas: Option<usize>,
}

/// `dingclaw.cluster`, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfig {
    /// This gateway's name in the cluster.
    pub instance_id: String,
    /// How often the heartbeat is renewed.
    #[serde(serialize_with = "millis")]
    pub heartbeat: Duration,
    /// Silence after which an instance counts as dead.
    #[serde(serialize_with = "millis")]
    pub lease_ttl: Duration,
    /// Instances that connect each bot.
    pub bot_replicas: usize,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// The host's name, the default instance id (a restarted gateway takes its place again).
fn host_name(env: &dyn Environment) -> String {
    env.var("HOSTNAME")
        .filter(|h| !h.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "dingclaw".to_owned())
}

/// Checks `dingclaw.cluster`; `None` when it is absent or wrong (the error is reported).
pub(crate) fn build_cluster(
    section: Option<&ClusterSection>,
    store: StoreKind,
    env: &dyn Environment,
    diags: &mut Diagnostics,
) -> Option<ClusterConfig> {
    let c = section?;
    let at = ConfigPath::root().key("dingclaw").key("cluster");
    if store != StoreKind::Postgres {
        diags.error(
            at,
            "needs dingclaw.store \"postgres\" (the instances share their sessions through it)",
        );
        return None;
    }
    let instance_id = match c.instance_id.as_deref().map(str::trim) {
        Some("") => {
            diags.error(at.key("instanceId"), "must not be empty");
            return None;
        }
        Some(id) if id.len() > 64 || id.chars().any(|ch| ch.is_control() || ch == '\n') => {
            diags.error(
                at.key("instanceId"),
                "at most 64 characters, no control characters",
            );
            return None;
        }
        Some(id) => id.to_owned(),
        None => host_name(env),
    };
    let heartbeat = c.heartbeat_ms.unwrap_or(DEFAULT_HEARTBEAT_MS);
    if heartbeat < 50 {
        diags.error(at.key("heartbeatMs"), "must be at least 50");
        return None;
    }
    let ttl = c.lease_ttl_ms.unwrap_or(DEFAULT_LEASE_TTL_MS);
    if ttl < heartbeat * 3 {
        diags.error(
            at.key("leaseTtlMs"),
            format!(
                "must be at least three heartbeats ({} ms): a late heartbeat must not cost an instance its sessions",
                heartbeat * 3
            ),
        );
        return None;
    }
    let replicas = c.bot_replicas.unwrap_or(DEFAULT_BOT_REPLICAS);
    if replicas == 0 {
        diags.error(at.key("botReplicas"), "must be at least 1");
        return None;
    }
    Some(ClusterConfig {
        instance_id,
        heartbeat: Duration::from_millis(heartbeat),
        lease_ttl: Duration::from_millis(ttl),
        bot_replicas: replicas,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::environment::MapEnv;

    fn build(json: &str, store: StoreKind) -> (Option<ClusterConfig>, Diagnostics) {
        let section: ClusterSection = serde_json::from_str(json).unwrap();
        let mut diags = Diagnostics::default();
        let env = MapEnv::new().with_var("HOSTNAME", "gw-a");
        (
            build_cluster(Some(&section), store, &env, &mut diags),
            diags,
        )
    }

    #[test]
    fn defaults_and_host_name() {
        let (c, d) = build("{}", StoreKind::Postgres);
        assert!(!d.has_errors());
        let c = c.unwrap();
        assert_eq!(c.instance_id, "gw-a");
        assert_eq!(c.heartbeat, Duration::from_millis(DEFAULT_HEARTBEAT_MS));
        assert_eq!(c.lease_ttl, Duration::from_millis(DEFAULT_LEASE_TTL_MS));
        assert_eq!(c.bot_replicas, 2);
    }

    #[test]
    fn mistakes_are_reported_at_their_path() {
        for (json, store, path) in [
            ("{}", StoreKind::Sqlite, "dingclaw.cluster"),
            (
                r#"{"instanceId": " "}"#,
                StoreKind::Postgres,
                "dingclaw.cluster.instanceId",
            ),
            (
                r#"{"heartbeatMs": 10}"#,
                StoreKind::Postgres,
                "dingclaw.cluster.heartbeatMs",
            ),
            (
                r#"{"heartbeatMs": 1000, "leaseTtlMs": 2000}"#,
                StoreKind::Postgres,
                "dingclaw.cluster.leaseTtlMs",
            ),
            (
                r#"{"botReplicas": 0}"#,
                StoreKind::Postgres,
                "dingclaw.cluster.botReplicas",
            ),
        ] {
            let (c, d) = build(json, store);
            assert!(c.is_none(), "{json}");
            assert!(
                d.errors.iter().any(|i| i.path.as_str() == path),
                "{json}: {:?}",
                d.errors
            );
        }
    }
}
