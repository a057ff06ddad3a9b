//! Which addresses a request the model (or a chat user) can steer may reach. A chat message
//! that makes the gateway fetch `http://169.254.169.254/` reads the cloud's metadata, and one
//! that fetches `http://127.0.0.1:18789/` talks to the operator API; so loopback, private,
//! link-local, CGNAT, multicast, reserved and documentation addresses are refused, in every
//! spelling (the URL parser turns `2130706433` and `0x7f.1` into `127.0.0.1`, and IPv4 inside
//! IPv6 is checked as IPv4), and so are names that are local by convention (`localhost`,
//! `*.local`, `*.internal`). Names are checked again by the address DNS gives them
//! (`client::GuardedResolver`), and that is the address connected to, so a name cannot
//! resolve to something else between the check and the connection
//! (docs/openclaw-agent.md 2.1).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::SsrfPolicy;

/// Why a destination is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not `http` or `https`.
    #[error("only http and https addresses can be fetched, not \"{0}\"")]
    Scheme(String),
    /// The address has no host.
    #[error("the address has no host")]
    NoHost,
    /// A local name (`localhost`, `*.local`, `*.internal`...).
    #[error("\"{0}\" is a local name and cannot be fetched")]
    LocalName(String),
    /// A host the operator blocked.
    #[error("\"{0}\" is blocked by tools.web.fetch.ssrfPolicy.blockedHostnames")]
    Blocked(String),
    #[error(
        "\"{host}\" is {kind} address {ip}, which cannot be fetched (allow it in tools.web.fetch.ssrfPolicy.allowedHostnames)"
    )]
    /// The host is, or resolves to, an address that is not public.
    Address {
        /// The host asked for.
        host: String,
        /// The address it is or resolved to.
        ip: IpAddr,
        /// What kind of address (loopback, private, link-local...).
        kind: &'static str,
    },
}

/// Names refused whatever they resolve to (OpenClaw's list).
const LOCAL_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "metadata.google.internal",
];
const LOCAL_SUFFIXES: &[&str] = &[".localhost", ".local", ".internal"];

/// Does `pattern` (`host` or `*.domain`) name `host`?
fn host_matches(pattern: &str, host: &str) -> bool {
    pattern == host
        || pattern
            .strip_prefix("*.")
            .is_some_and(|suffix| host.ends_with(&format!(".{suffix}")))
}

/// The host's own checks: scheme, blocked names, local names (unless allowed), and for an
/// address literal its range. Names are checked by address when resolved.
pub fn check_url(policy: &SsrfPolicy, url: &url::Url) -> Result<(), Refused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refused::Scheme(url.scheme().to_owned()));
    }
    match url.host().ok_or(Refused::NoHost)? {
        url::Host::Domain(name) => check_name(policy, &name.to_lowercase()),
        url::Host::Ipv4(ip) => check_ip(policy, &ip.to_string(), IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => check_ip(policy, &format!("[{ip}]"), IpAddr::V6(ip)),
    }
}

fn allowed_host(policy: &SsrfPolicy, host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    policy
        .allowed_hostnames
        .iter()
        .any(|p| host_matches(p, host) || host_matches(p, bare))
}

/// A host name, before resolving it.
pub fn check_name(policy: &SsrfPolicy, host: &str) -> Result<(), Refused> {
    let host = host.trim_end_matches('.');
    if policy
        .blocked_hostnames
        .iter()
        .any(|p| host_matches(p, host))
    {
        return Err(Refused::Blocked(host.to_owned()));
    }
    if policy.allow_private_network || allowed_host(policy, host) {
        return Ok(());
    }
    if LOCAL_NAMES.contains(&host) || LOCAL_SUFFIXES.iter().any(|s| host.ends_with(s)) {
        return Err(Refused::LocalName(host.to_owned()));
    }
    Ok(())
}

/// An address `host` is (a literal) or resolved to. A name is allowed when it is listed, or
/// when the address it resolved to is listed.
pub fn check_ip(policy: &SsrfPolicy, host: &str, ip: IpAddr) -> Result<(), Refused> {
    let host = host.trim_end_matches('.');
    if policy
        .blocked_hostnames
        .iter()
        .any(|p| host_matches(p, host))
    {
        return Err(Refused::Blocked(host.to_owned()));
    }
    if policy.allow_private_network
        || allowed_host(policy, host)
        || allowed_host(policy, &ip.to_string())
    {
        return Ok(());
    }
    match special(ip, policy) {
        None => Ok(()),
        Some(kind) => Err(Refused::Address {
            host: host.to_owned(),
            ip,
            kind,
        }),
    }
}

/// What kind of not-public address `ip` is, `None` for a public one.
pub fn special(ip: IpAddr, policy: &SsrfPolicy) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4, policy),
        IpAddr::V6(v6) => special_v6(v6, policy),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn special_v4(ip: Ipv4Addr, policy: &SsrfPolicy) -> Option<&'static str> {
    const RANGES: &[([u8; 4], u32, &str)] = &[
        ([0, 0, 0, 0], 8, "an unspecified"),
        ([10, 0, 0, 0], 8, "a private"),
        ([100, 64, 0, 0], 10, "a carrier-grade NAT"),
        ([127, 0, 0, 0], 8, "a loopback"),
        ([169, 254, 0, 0], 16, "a link-local"),
        ([172, 16, 0, 0], 12, "a private"),
        ([192, 0, 0, 0], 24, "a reserved"),
        ([192, 0, 2, 0], 24, "a documentation"),
        ([192, 88, 99, 0], 24, "a reserved"),
        ([192, 168, 0, 0], 16, "a private"),
        ([198, 51, 100, 0], 24, "a documentation"),
        ([203, 0, 113, 0], 24, "a documentation"),
        ([224, 0, 0, 0], 4, "a multicast"),
        ([240, 0, 0, 0], 4, "a reserved"),
    ];
    if let Some((_, _, kind)) = RANGES.iter().find(|(net, p, _)| in_v4(ip, *net, *p)) {
        return Some(kind);
    }
    if in_v4(ip, [198, 18, 0, 0], 15) && !policy.allow_rfc2544 {
        return Some("a benchmarking");
    }
    None
}

fn special_v6(ip: Ipv6Addr, policy: &SsrfPolicy) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("an unspecified");
    }
    if ip.is_loopback() {
        return Some("a loopback");
    }
    // IPv4 inside IPv6 is that IPv4 address: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d),
    // NAT64 (64:ff9b::/96) and 6to4 (2002:ab:cd::/16).
    if let Some(v4) = ip.to_ipv4_mapped() {
        return special_v4(v4, policy);
    }
    if s[..6] == [0; 6] {
        return special_v4(
            Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8),
            policy,
        );
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        return special_v4(
            Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8),
            policy,
        );
    }
    if s[0] == 0x2002 {
        return special_v4(
            Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8),
            policy,
        );
    }
    match s[0] {
        0xfe80..=0xfebf => Some("a link-local"),
        0xfec0..=0xfeff => Some("a site-local"),
        0xff00..=0xffff => Some("a multicast"),
        0xfc00..=0xfdff if !policy.allow_ipv6_unique_local => Some("a unique-local"),
        0x2001 if s[1] == 0x0db8 => Some("a documentation"),
        0x0100 if s[1..4] == [0; 3] => Some("a discard"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> bool {
        let u = url::Url::parse(url).unwrap();
        check_url(&SsrfPolicy::default(), &u).is_err()
    }

    #[test]
    fn local_and_private_destinations_in_every_spelling_are_refused() {
        for url in [
            "http://127.0.0.1/",
            "http://localhost:18789/",
            "http://LOCALHOST./",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://224.0.0.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:7f00:1::]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://metadata.google.internal/",
            "http://printer.local/",
            "http://db.internal/",
            "http://198.18.0.1/",
            "ftp://example.com/",
            "file:///etc/passwd",
        ] {
            assert!(refused(url), "{url}");
        }
        for url in [
            "https://example.com/",
            "http://8.8.8.8/",
            "https://[2606:4700::1111]/",
            "https://www.weather.com.cn/",
        ] {
            assert!(!refused(url), "{url}");
        }
    }

    #[test]
    fn explicit_allowances_open_named_hosts_or_everything() {
        let policy = SsrfPolicy {
            allowed_hostnames: vec!["127.0.0.1".into(), "*.corp.example".into()],
            ..SsrfPolicy::default()
        };
        let ok = |u: &str| check_url(&policy, &url::Url::parse(u).unwrap()).is_ok();
        assert!(ok("http://127.0.0.1:8080/x"));
        assert!(!ok("http://127.0.0.2/"));
        assert!(check_ip(&policy, "wiki.corp.example", "10.0.0.5".parse().unwrap()).is_ok());
        assert!(check_ip(&policy, "evil.example", "10.0.0.5".parse().unwrap()).is_err());
        let open = SsrfPolicy {
            allow_private_network: true,
            blocked_hostnames: vec!["169.254.169.254".into()],
            ..SsrfPolicy::default()
        };
        assert!(check_ip(&open, "x", "10.0.0.5".parse().unwrap()).is_ok());
        assert!(matches!(
            check_url(&open, &url::Url::parse("http://169.254.169.254/").unwrap()),
            Err(Refused::Blocked(_))
        ));
    }
}
