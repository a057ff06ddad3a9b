//! SearXNG, self-hosted: `GET /search?format=json` (the instance must allow the JSON format).

use std::time::Duration;

use futures_util::future::LocalBoxFuture;

use crate::config::SearchProviderConfig;

use super::{
    SearchHit, SearchOutcome, SearchProvider, SearchRequest, answer_json, hits_at, opt_str, str_of,
};

pub struct SearXng;

impl SearchProvider for SearXng {
    fn search<'a>(
        &'a self,
        http: &'a awc::Client,
        cfg: &'a SearchProviderConfig,
        req: &'a SearchRequest,
        timeout: Duration,
    ) -> LocalBoxFuture<'a, Result<SearchOutcome, String>> {
        Box::pin(async move {
            let mut query: Vec<(&str, &str)> = vec![("q", &req.query), ("format", "json")];
            if let Some(c) = &cfg.categories {
                query.push(("categories", c));
            }
            if let Some(l) = req.language.as_ref().or(cfg.language.as_ref()) {
                query.push(("language", l));
            }
            if let Some(f) = &req.freshness {
                query.push(("time_range", f));
            }
            let request = http
                .get(format!("{}/search", cfg.base_url))
                .timeout(timeout)
                .insert_header(("Accept", "application/json"))
                .query(&query)
                .map_err(|e| e.to_string())?;
            let resp = request.send().await.map_err(|e| format!("searxng: {e}"))?;
            let v = answer_json(resp, "searxng").await?;
            let hits = hits_at(&v, "/results", |r| SearchHit {
                title: str_of(r, "title"),
                url: str_of(r, "url"),
                snippet: str_of(r, "content"),
                published: opt_str(r, "/publishedDate"),
                site_name: opt_str(r, "/engine"),
            });
            Ok(SearchOutcome::Results(hits))
        })
    }
}
