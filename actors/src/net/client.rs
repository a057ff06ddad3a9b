//! An HTTP client for requests whose destination comes from a chat: every name is resolved
//! here and each address checked (`guard`) before awc connects to exactly those addresses, so
//! a name that resolves to a private address is refused however it is spelled, and DNS cannot
//! answer differently between the check and the connection. Redirects are followed by hand,
//! each hop checked like the first.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::Duration;

use actix_tls::connect::{Connector as TcpConnector, Resolve, Resolver};
use futures_util::future::LocalBoxFuture;

use crate::config::SsrfPolicy;

use super::guard::{Refused, check_ip, check_url};

/// Resolves names and refuses any answer the policy does not allow.
struct GuardedResolver {
    policy: SsrfPolicy,
}

impl Resolve for GuardedResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> LocalBoxFuture<'a, Result<Vec<SocketAddr>, Box<dyn std::error::Error>>> {
        Box::pin(async move {
            let name = format!("{host}:{port}");
            let addrs: Vec<SocketAddr> = actix_rt::task::spawn_blocking(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&name).map(Iterator::collect)
            })
            .await
            .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)??;
            // One refused answer refuses the name: a rebinding name may mix good and bad.
            for a in &addrs {
                check_ip(&self.policy, &host.to_lowercase(), a.ip())
                    .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)?;
            }
            Ok(addrs)
        })
    }
}

thread_local! {
    /// One client per thread (awc clients cannot cross threads), rebuilt when the policy
    /// changes (a config reload).
    static CLIENT: RefCell<Option<(SsrfPolicy, awc::Client)>> = const { RefCell::new(None) };
}

/// The guarded client for `policy`, on this thread.
pub fn guarded_client(policy: &SsrfPolicy) -> awc::Client {
    CLIENT.with(|cell| {
        let mut cell = cell.borrow_mut();
        if let Some((p, c)) = cell.as_ref()
            && p == policy
        {
            return c.clone();
        }
        let tls = crate::tls::client_tls();
        let resolver = Resolver::custom(GuardedResolver {
            policy: policy.clone(),
        });
        let connector = awc::Connector::new()
            .rustls_0_23(tls)
            .connector(TcpConnector::new(resolver).service())
            .timeout(Duration::from_secs(10));
        let client = awc::Client::builder()
            .connector(connector)
            .disable_redirects()
            .disable_timeout()
            .finish();
        *cell = Some((policy.clone(), client.clone()));
        client
    })
}

/// Why a guarded request failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The destination is not allowed (a private address, a local name...).
    #[error("{0}")]
    Refused(#[from] Refused),
    /// The address cannot be parsed.
    #[error("not a valid address: {0}")]
    BadUrl(String),
    /// Redirects went on past the limit.
    #[error("more than {0} redirects")]
    TooManyRedirects(u32),
    /// The connection or the request failed.
    #[error("{0}")]
    Transport(String),
}

/// A response after redirects, with the address it came from.
pub struct Fetched {
    /// The last response.
    pub response: awc::ClientResponse,
    /// The address it came from, after redirects.
    pub final_url: url::Url,
}

/// GETs `url`, following up to `max_redirects` redirects, each hop checked by the policy
/// (and each name by its resolved addresses).
pub async fn get(
    client: &awc::Client,
    policy: &SsrfPolicy,
    url: &str,
    headers: &[(String, String)],
    max_redirects: u32,
    timeout: Duration,
) -> Result<Fetched, FetchError> {
    let mut current = url::Url::parse(url.trim()).map_err(|e| FetchError::BadUrl(e.to_string()))?;
    for _ in 0..=max_redirects {
        check_url(policy, &current)?;
        let mut req = client.get(current.as_str()).timeout(timeout);
        for (k, v) in headers {
            req = req.insert_header((k.as_str(), v.as_str()));
        }
        let response = req.send().await.map_err(|e| {
            // A refusal by the resolver arrives wrapped in a connect error.
            let text = e.to_string();
            FetchError::Transport(text)
        })?;
        if response.status().is_redirection()
            && let Some(location) = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
        {
            current = current
                .join(location)
                .map_err(|e| FetchError::BadUrl(format!("redirect to \"{location}\": {e}")))?;
            continue;
        }
        return Ok(Fetched {
            response,
            final_url: current,
        });
    }
    Err(FetchError::TooManyRedirects(max_redirects))
}
