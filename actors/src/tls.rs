//! TLS for every outgoing HTTPS call (DingTalk, model providers, webhooks): rustls with the
//! `ring` crypto provider, installed as the process default before the first client is built.
//! rustls refuses to guess when a build enables two providers (another crate in the same
//! program may enable `aws-lc-rs`), so the choice is made here, explicitly.

use std::sync::{Arc, Once, OnceLock};

/// Installs `ring` as the process's rustls provider unless one is installed already.
pub fn ensure_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first (an embedder's); that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The TLS settings every awc client of the process shares (Mozilla's roots, HTTP/2 or
/// HTTP/1.1 by ALPN). awc's `Connector::new()` builds its own root store and settings; with
/// two clients per DingTalk account that was memory per bot for identical settings.
pub fn client_tls() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            ensure_crypto_provider();
            let mut config = rustls::ClientConfig::builder()
                .with_root_certificates(actix_tls::connect::rustls_0_23::webpki_roots_cert_store())
                .with_no_client_auth();
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            Arc::new(config)
        })
        .clone()
}

/// An HTTP client with defaults suited to a short call (webhooks, the command line).
///
/// It follows no redirect: a webhook address is checked against `cron.webhookAllowHosts`
/// before the call, and a 307 would replay the POST, body and headers, to wherever it points
/// (127.0.0.1 included). A redirect is an answer like any other non-2xx.
pub fn client(timeout: std::time::Duration) -> awc::Client {
    // The provider must be in place before `Connector::new()`, which builds TLS settings.
    let tls = client_tls();
    awc::Client::builder()
        .connector(awc::Connector::new().rustls_0_23(tls))
        .timeout(timeout)
        .disable_redirects()
        .finish()
}

thread_local! {
    /// One client per thread for calls to addresses the operator configured (search APIs).
    static SHARED: awc::Client = client(std::time::Duration::from_secs(60));
}

/// This thread's client for calls to operator-configured services (each request sets its own
/// timeout); it follows no redirect.
pub fn shared_client() -> awc::Client {
    SHARED.with(Clone::clone)
}
