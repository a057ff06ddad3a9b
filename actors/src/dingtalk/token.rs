//! The account's OpenAPI access token (docs/dingtalk-protocol.md 4.2): fetched from
//! `POST /v1.0/oauth2/accessToken`, cached, refreshed five minutes before it expires, and
//! dropped when an API answers 401. One cache per account, shared by every arbiter.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use crate::config::{DingTalkAccount, Secret};

use super::error::DingTalkError;
use super::http::post_json;

/// Refresh this long before the token expires (the Python SDK's margin).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

const API: &str = "oauth2/accessToken";

#[derive(Clone)]
struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// The cached token of one account.
#[derive(Default)]
pub struct AccessTokenCache {
    current: Mutex<Option<Cached>>,
    /// Held while fetching, so that concurrent callers wait for one fetch instead of each
    /// asking DingTalk for a token.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenAnswer {
    access_token: String,
    expire_in: u64,
}

impl AccessTokenCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn cached(&self) -> Option<Secret> {
        let guard = self.current.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .filter(|c| Instant::now() < c.refresh_at)
            .map(|c| c.token.clone())
    }

    /// A valid token, fetching one if needed.
    pub async fn get(
        &self,
        http: &awc::Client,
        account: &DingTalkAccount,
    ) -> Result<Secret, DingTalkError> {
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        let _one_fetch = self.fetching.lock().await;
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        let url = format!("{}/v1.0/oauth2/accessToken", account.endpoint);
        let body = json!({
            "appKey": account.client_id,
            "appSecret": account.client_secret.expose(),
        });
        let (status, value) = post_json(http.post(&url), API, &body).await?;
        if status != 200 {
            return Err(DingTalkError::from_credentials_answer(
                API,
                &account.id,
                status,
                &value,
            ));
        }
        let answer: TokenAnswer =
            serde_json::from_value(value).map_err(|e| DingTalkError::Protocol {
                api: API,
                message: e.to_string(),
            })?;
        let lifetime = Duration::from_secs(answer.expire_in);
        let token = Secret::new(answer.access_token);
        let mut guard = self.current.lock().unwrap_or_else(|p| p.into_inner());
        *guard = Some(Cached {
            token: token.clone(),
            // A token shorter-lived than the margin is still used for half its life.
            refresh_at: Instant::now()
                + lifetime.checked_sub(REFRESH_MARGIN).unwrap_or(lifetime / 2),
        });
        Ok(token)
    }

    /// Forgets the token after DingTalk refused it.
    pub fn invalidate(&self) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
