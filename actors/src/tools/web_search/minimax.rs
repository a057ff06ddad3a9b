//! MiniMax's Coding Plan search: `POST /v1/coding_plan/search {q}` on `api.minimax.io`, or
//! `api.minimaxi.com` for the `cn` region; errors come in `base_resp`.

use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use crate::config::SearchProviderConfig;

use super::{
    SearchHit, SearchOutcome, SearchProvider, SearchRequest, answer_json, hits_at, opt_str, str_of,
};

pub struct MiniMax;

impl SearchProvider for MiniMax {
    fn search<'a>(
        &'a self,
        http: &'a awc::Client,
        cfg: &'a SearchProviderConfig,
        req: &'a SearchRequest,
        timeout: Duration,
    ) -> LocalBoxFuture<'a, Result<SearchOutcome, String>> {
        Box::pin(async move {
            let mut request = http
                .post(format!("{}/v1/coding_plan/search", cfg.base_url))
                .timeout(timeout);
            if let Some(key) = &cfg.api_key {
                request =
                    request.insert_header(("Authorization", format!("Bearer {}", key.expose())));
            }
            let resp = request
                .send_json(&json!({"q": req.query}))
                .await
                .map_err(|e| format!("minimax: {e}"))?;
            let v = answer_json(resp, "minimax").await?;
            if let Some(code) = v.pointer("/base_resp/status_code").and_then(Value::as_i64)
                && code != 0
            {
                let msg = v
                    .pointer("/base_resp/status_msg")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                return Err(format!("minimax refused the search ({code}): {msg}"));
            }
            let mut hits = hits_at(&v, "/organic", |r| SearchHit {
                title: str_of(r, "title"),
                url: str_of(r, "link"),
                snippet: str_of(r, "snippet"),
                published: opt_str(r, "/date"),
                site_name: None,
            });
            hits.retain(|h| !h.title.is_empty());
            Ok(SearchOutcome::Results(hits))
        })
    }
}
