//! The operator's secret for the web page and API: `gateway.auth.token` (or
//! `OPENCLAW_GATEWAY_TOKEN`) when set; otherwise one generated at first start and kept in
//! `<stateDir>/dingclaw/gateway-token` (readable by its owner only), where `dingclaw cron` and
//! the operator find it.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use dingclaw_actors::config::{AuthMode, Config, Secret};
use rand::RngCore;

/// How the operator proves who they are.
#[derive(Clone, Debug)]
pub enum OperatorAuth {
    /// `gateway.auth.mode: "none"` (loopback-only setups).
    None,
    /// A bearer token (or the password, in `password` mode).
    Secret(Secret),
}

/// Where a generated token is kept.
pub fn token_file(config: &Config) -> PathBuf {
    config.state_dir.join("dingclaw").join("gateway-token")
}

/// The auth the gateway enforces, generating and storing a token when none is configured.
/// `generated` says a token was made just now (first start): the caller shows its login URL.
pub fn operator_auth(config: &Config) -> std::io::Result<(OperatorAuth, bool)> {
    let auth = &config.gateway.auth;
    Ok(match auth.mode {
        AuthMode::None => (OperatorAuth::None, false),
        // `config check` refuses password mode without a password; an empty one admits nobody.
        AuthMode::Password => (
            OperatorAuth::Secret(auth.password.clone().unwrap_or_else(|| Secret::new(""))),
            false,
        ),
        _ => match &auth.token {
            Some(t) => (OperatorAuth::Secret(t.clone()), false),
            None => {
                let (token, generated) = stored_or_new(&token_file(config))?;
                (OperatorAuth::Secret(token), generated)
            }
        },
    })
}

/// The token a command-line client should send: configured, else the stored one.
pub fn client_token(config: &Config) -> Option<Secret> {
    let auth = &config.gateway.auth;
    match auth.mode {
        AuthMode::None => None,
        AuthMode::Password => auth.password.clone(),
        _ => auth.token.clone().or_else(|| {
            std::fs::read_to_string(token_file(config))
                .ok()
                .map(|t| Secret::new(t.trim()))
                .filter(|t| !t.is_empty())
        }),
    }
}

/// The token in `path`, or a new one written there (`true`).
fn stored_or_new(path: &Path) -> std::io::Result<(Secret, bool)> {
    if let Ok(t) = std::fs::read_to_string(path)
        && !t.trim().is_empty()
    {
        return Ok((Secret::new(t.trim()), false));
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    if let Some(dir) = path.parent() {
        dingclaw_actors::config::create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(token.as_bytes())?;
    Ok((Secret::new(token), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d/gateway-token");
        let (a, first) = stored_or_new(&path).unwrap();
        let (b, again) = stored_or_new(&path).unwrap();
        assert!(first && !again);
        assert_eq!(a.expose(), b.expose());
        assert!(a.expose().len() >= 40);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
