//! TLS for every outgoing HTTPS call (DingTalk, model providers, webhooks): rustls with the
//! `ring` crypto provider, installed as the process default before the first client is built.
//! rustls refuses to guess when a build enables two providers (another crate in the same
//! program may enable `aws-lc-rs`), so the choice is made here, explicitly.

use std::sync::Once;

/// Installs `ring` as the process's rustls provider unless one is installed already.
pub fn ensure_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first (an embedder's); that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// An HTTP client with defaults suited to a short call (webhooks, the command line).
///
/// It follows no redirect: a webhook address is checked against `cron.webhookAllowHosts`
/// before the call, and a 307 would replay the POST, body and headers, to wherever it points
/// (127.0.0.1 included). A redirect is an answer like any other non-2xx.
pub fn client(timeout: std::time::Duration) -> awc::Client {
    ensure_crypto_provider();
    awc::Client::builder()
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
