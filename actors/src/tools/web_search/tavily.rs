//! Tavily: `POST /search` with the key as a bearer token.

use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use serde_json::json;

use crate::config::SearchProviderConfig;

use super::{
    SearchHit, SearchOutcome, SearchProvider, SearchRequest, answer_json, hits_at, opt_str, str_of,
};

pub struct Tavily;

impl SearchProvider for Tavily {
    fn search<'a>(
        &'a self,
        http: &'a awc::Client,
        cfg: &'a SearchProviderConfig,
        req: &'a SearchRequest,
        timeout: Duration,
    ) -> LocalBoxFuture<'a, Result<SearchOutcome, String>> {
        Box::pin(async move {
            let mut body =
                json!({"query": req.query, "max_results": req.count, "topic": "general"});
            if let Some(f) = &req.freshness {
                body["time_range"] = json!(f);
            }
            let mut request = http
                .post(format!("{}/search", cfg.base_url))
                .timeout(timeout);
            if let Some(key) = &cfg.api_key {
                request =
                    request.insert_header(("Authorization", format!("Bearer {}", key.expose())));
            }
            let resp = request
                .send_json(&body)
                .await
                .map_err(|e| format!("tavily: {e}"))?;
            let v = answer_json(resp, "tavily").await?;
            let hits = hits_at(&v, "/results", |r| SearchHit {
                title: str_of(r, "title"),
                url: str_of(r, "url"),
                snippet: str_of(r, "content"),
                published: opt_str(r, "/published_date"),
                site_name: None,
            });
            Ok(SearchOutcome::Results(hits))
        })
    }
}
