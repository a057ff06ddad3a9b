//! The operator check on every API request: `Authorization: Bearer <token>` (the scheme in
//! any case, RFC 7235), compared in constant time (a timing difference must not tell an
//! attacker how much of a guess was right). An empty configured secret admits nobody. Failed
//! attempts count towards the client's lockout (`lockout`).
//!
//! With `gateway.auth.mode: "none"` (allowed on loopback only, unless the operator opts out)
//! the browser is the risk: a web page the operator visits can make it send requests to
//! 127.0.0.1. So such a gateway answers only requests whose `Host` is an address or
//! `localhost` (a DNS-rebinding page names its own domain), and refuses state-changing
//! requests that a browser marks as cross-site (`Sec-Fetch-Site`, `Origin`).

use std::net::IpAddr;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use subtle::ConstantTimeEq;

use super::WebState;
use super::token::OperatorAuth;

/// Proof that the request comes from the operator; take it as a handler argument.
pub struct Operator;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("unauthorized: send the operator token as `Authorization: Bearer <token>`")]
    Unauthorized,
    #[error("too many failed logins from this address; try again in {} s", .0.as_secs().max(1))]
    LockedOut(Duration),
    #[error(
        "this gateway has no operator auth and answers only requests to 127.0.0.1 or localhost, not \"{0}\""
    )]
    ForeignHost(String),
    #[error(
        "cross-site request refused: this gateway has no operator auth, so only its own page may change anything"
    )]
    CrossSite,
}

impl ResponseError for Refused {
    fn error_response(&self) -> HttpResponse {
        let body = serde_json::json!({"error": self.to_string()});
        match self {
            Refused::Unauthorized => HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer"))
                .json(body),
            Refused::LockedOut(left) => HttpResponse::TooManyRequests()
                .insert_header(("Retry-After", left.as_secs().max(1).to_string()))
                .json(body),
            Refused::ForeignHost(_) | Refused::CrossSite => HttpResponse::Forbidden().json(body),
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get("authorization")?.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// Does the request carry the operator's secret?
pub fn is_operator(req: &HttpRequest, auth: &OperatorAuth) -> bool {
    match auth {
        OperatorAuth::None => true,
        OperatorAuth::Secret(secret) => {
            let expected = secret.expose().as_bytes();
            !expected.is_empty()
                && bearer(req).is_some_and(|given| given.as_bytes().ct_eq(expected).into())
        }
    }
}

/// The peer's address (the TCP connection's other end).
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// Who a request comes from, for the lockout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    pub ip: IpAddr,
    /// Named by a proxy's `X-Forwarded-For`: never the loopback exemption, whatever the
    /// address (a local reverse proxy would otherwise exempt the whole internet).
    pub forwarded: bool,
}

/// The client of a request. The peer, unless the peer is a proxy we trust (loopback, or one
/// of `gateway.trustedProxies`) that says whom it forwards for: then the nearest address in
/// `X-Forwarded-For` (`X-Real-IP`) that is not itself a trusted proxy. Keyed this way, one
/// attacker behind the proxy neither locks the operator out nor escapes the lockout.
pub fn client(req: &HttpRequest, trusted: &[IpAddr]) -> Option<Client> {
    let peer = client_ip(req)?;
    let is_proxy = |ip: &IpAddr| ip.is_loopback() || trusted.contains(ip);
    if !is_proxy(&peer) {
        return Some(Client {
            ip: peer,
            forwarded: false,
        });
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let forwarded_for = header("x-forwarded-for").or_else(|| header("x-real-ip"));
    let Some(chain) = forwarded_for else {
        return Some(Client {
            ip: peer,
            forwarded: false,
        });
    };
    let hops: Vec<IpAddr> = chain
        .split(',')
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    let ip = hops
        .iter()
        .rev()
        .find(|ip| !is_proxy(ip))
        .or(hops.first())
        .copied()
        .unwrap_or(peer);
    Some(Client {
        ip,
        forwarded: true,
    })
}

/// A gateway without operator auth answers only its own page and local scripts.
fn check_local_request(req: &HttpRequest) -> Result<(), Refused> {
    let host = req
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !is_local_host(host) {
        return Err(Refused::ForeignHost(host.chars().take(100).collect()));
    }
    let safe = matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
    if safe {
        return Ok(());
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return match site {
            "same-origin" | "none" => Ok(()),
            _ => Err(Refused::CrossSite),
        };
    }
    match header("origin") {
        // Scripts (curl, the command line) send no Origin; browsers do on every POST.
        None => Ok(()),
        Some(origin) => {
            let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
            if origin_host.eq_ignore_ascii_case(host) {
                Ok(())
            } else {
                Err(Refused::CrossSite)
            }
        }
    }
}

/// `127.0.0.1:18789`, `[::1]:18789`, `localhost:18789`, `app.localhost`: yes. A name (what a
/// DNS-rebinding page's requests carry): no.
fn is_local_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => {
            return v6
                .split(']')
                .next()
                .is_some_and(|a| a.parse::<IpAddr>().is_ok());
        }
        None => host.rsplit_once(':').map(|(n, _)| n).unwrap_or(host),
    };
    let name = name.to_ascii_lowercase();
    name.parse::<IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost")
}

/// Checks a request: lockout first, then the secret (or, without auth, where it comes from).
pub fn check(req: &HttpRequest, state: &WebState) -> Result<(), Refused> {
    let gateway = &state.rt.config().gateway;
    if matches!(state.auth, OperatorAuth::None) {
        return if gateway.bind.is_loopback() {
            check_local_request(req)
        } else {
            // `dangerouslyAllowUnauthenticatedNetwork`: the operator chose this.
            Ok(())
        };
    }
    let who = client(req, &gateway.trusted_proxies);
    if let Some(left) = who.and_then(|c| state.lockout.locked(c)) {
        return Err(Refused::LockedOut(left));
    }
    if is_operator(req, &state.auth) {
        if let Some(c) = who {
            state.lockout.succeeded(c);
        }
        return Ok(());
    }
    // Only a wrong secret is a guess; a request with none (a page not logged in yet) is not.
    if let Some(c) = who
        && bearer(req).is_some()
    {
        state.lockout.failed(c);
    }
    Err(Refused::Unauthorized)
}

impl FromRequest for Operator {
    type Error = Refused;
    type Future = std::future::Ready<Result<Operator, Refused>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.app_data::<web::Data<WebState>>() {
            Some(state) => check(req, state).map(|()| Operator),
            None => Err(Refused::Unauthorized),
        };
        std::future::ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for header in ["Bearer tok", "bearer tok", "BEARER  tok "] {
            let req = TestRequest::default()
                .insert_header(("Authorization", header))
                .to_http_request();
            assert_eq!(bearer(&req), Some("tok"), "{header}");
        }
        let req = TestRequest::default()
            .insert_header(("Authorization", "Basic dG9r"))
            .to_http_request();
        assert_eq!(bearer(&req), None);
    }

    #[test]
    fn local_hosts_are_addresses_and_localhost() {
        for ok in [
            "127.0.0.1:18789",
            "127.0.0.1",
            "[::1]:18789",
            "localhost:18789",
            "LOCALHOST",
            "dash.localhost:1",
            "192.168.1.5:18789",
        ] {
            assert!(is_local_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:18789",
            "localhost.evil.example",
            "",
            "[nope]:1",
        ] {
            assert!(!is_local_host(bad), "{bad}");
        }
    }

    #[test]
    fn cross_site_writes_are_refused_without_auth() {
        let post = |headers: &[(&str, &str)]| {
            let mut r = TestRequest::post().insert_header(("Host", "127.0.0.1:18789"));
            for h in headers {
                r = r.insert_header(*h);
            }
            check_local_request(&r.to_http_request())
        };
        assert!(post(&[]).is_ok(), "a script");
        assert!(
            post(&[("Origin", "http://127.0.0.1:18789")]).is_ok(),
            "the page"
        );
        assert!(post(&[("Sec-Fetch-Site", "same-origin")]).is_ok());
        assert!(matches!(
            post(&[
                ("Origin", "https://evil.example"),
                ("Content-Type", "text/plain")
            ]),
            Err(Refused::CrossSite)
        ));
        assert!(matches!(
            post(&[("Sec-Fetch-Site", "cross-site")]),
            Err(Refused::CrossSite)
        ));
        let rebinding = TestRequest::get()
            .insert_header(("Host", "rebind.evil.example:18789"))
            .to_http_request();
        assert!(matches!(
            check_local_request(&rebinding),
            Err(Refused::ForeignHost(_))
        ));
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let peer = "127.0.0.1:40000".parse().unwrap();
        let req = TestRequest::default()
            .peer_addr(peer)
            .insert_header(("X-Forwarded-For", "203.0.113.9, 10.0.0.2"))
            .to_http_request();
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            client(&req, &[proxy]),
            Some(Client {
                ip: "203.0.113.9".parse().unwrap(),
                forwarded: true
            })
        );
        // Without trusting 10.0.0.2, it is the nearest untrusted hop.
        assert_eq!(client(&req, &[]).unwrap().ip, proxy);
        let direct = TestRequest::default()
            .peer_addr("198.51.100.4:1".parse().unwrap())
            .insert_header(("X-Forwarded-For", "127.0.0.1"))
            .to_http_request();
        assert_eq!(
            client(&direct, &[]),
            Some(Client {
                ip: "198.51.100.4".parse().unwrap(),
                forwarded: false
            }),
            "an untrusted peer cannot claim to forward"
        );
    }
}
