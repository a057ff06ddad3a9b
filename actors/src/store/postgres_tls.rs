//! TLS to the PostgreSQL server. Asked for with `sslmode=require` in `storeUrl` (or by
//! naming the server's CA in `dingclaw.storeCaFile`): rustls with the `ring` provider, the
//! server's certificate checked against that CA file, else against Mozilla's roots, and its
//! name against the URL's host. A managed server's own CA (Alibaba Cloud RDS offers its CA
//! bundle for download) goes in `storeCaFile`. Without either, the connection is plain, as
//! before: most gateways reach their database inside one VPC.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_postgres::config::SslMode;
use tokio_postgres::{AsyncMessage, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::StoreError;

/// How the store's connections are made.
#[derive(Clone)]
pub(super) enum Tls {
    /// Plain TCP (or a Unix socket).
    Off,
    /// TLS, the server's certificate verified.
    On(MakeRustlsConnect),
}

/// The TLS the URL and `storeCaFile` ask for.
pub(super) fn tls_for(
    config: &tokio_postgres::Config,
    ca_file: Option<&Path>,
    target: &str,
) -> Result<Tls, StoreError> {
    if config.get_ssl_mode() != SslMode::Require && ca_file.is_none() {
        return Ok(Tls::Off);
    }
    let unreachable = |message: String| StoreError::Unreachable {
        target: target.to_owned(),
        message,
    };
    crate::tls::ensure_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| {
                    unreachable(format!(
                        "dingclaw.storeCaFile {}: cannot read it: {e}",
                        path.display()
                    ))
                })?
                .collect::<Result<_, _>>()
                .map_err(|e| {
                    unreachable(format!(
                        "dingclaw.storeCaFile {}: not a PEM certificate: {e}",
                        path.display()
                    ))
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(unreachable(format!(
                    "dingclaw.storeCaFile {}: holds no usable certificate",
                    path.display()
                )));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let client = rustls::ClientConfig::builder()
        .with_root_certificates(Arc::new(roots))
        .with_no_client_auth();
    Ok(Tls::On(MakeRustlsConnect::new(client)))
}

/// A pool's connection maker for `tls`.
pub(super) fn manager(config: &tokio_postgres::Config, tls: &Tls) -> deadpool_postgres::Manager {
    let recycling = || deadpool_postgres::ManagerConfig {
        recycling_method: deadpool_postgres::RecyclingMethod::Fast,
    };
    match tls {
        Tls::Off => deadpool_postgres::Manager::from_config(config.clone(), NoTls, recycling()),
        Tls::On(t) => {
            deadpool_postgres::Manager::from_config(config.clone(), t.clone(), recycling())
        }
    }
}

/// One connection outside the pool (the gateway lock's, the wake-up listener's), driven by a
/// task of the current runtime that hands each notification's payload to `notes`.
pub(super) async fn connect_one(
    config: &tokio_postgres::Config,
    tls: &Tls,
    notes: Option<mpsc::UnboundedSender<String>>,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), tokio_postgres::Error> {
    Ok(match tls {
        Tls::Off => {
            let (client, connection) = config.connect(NoTls).await?;
            (client, tokio::spawn(drive(connection, notes)))
        }
        Tls::On(t) => {
            let (client, connection) = config.connect(t.clone()).await?;
            (client, tokio::spawn(drive(connection, notes)))
        }
    })
}

async fn drive<S, T>(
    mut connection: tokio_postgres::Connection<S, T>,
    notes: Option<mpsc::UnboundedSender<String>>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
{
    while let Some(Ok(message)) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
        if let (AsyncMessage::Notification(n), Some(notes)) = (message, &notes)
            && notes.send(n.payload().to_owned()).is_err()
        {
            return;
        }
    }
}
