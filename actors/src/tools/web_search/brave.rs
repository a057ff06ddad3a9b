//! Brave Search: `GET /res/v1/web/search` with the key in `X-Subscription-Token`.

use std::time::Duration;

use futures_util::future::LocalBoxFuture;

use crate::config::SearchProviderConfig;

use super::{
    SearchHit, SearchOutcome, SearchProvider, SearchRequest, answer_json, hits_at, opt_str, str_of,
};

pub struct Brave;

impl SearchProvider for Brave {
    fn search<'a>(
        &'a self,
        http: &'a awc::Client,
        cfg: &'a SearchProviderConfig,
        req: &'a SearchRequest,
        timeout: Duration,
    ) -> LocalBoxFuture<'a, Result<SearchOutcome, String>> {
        Box::pin(async move {
            let count = req.count.to_string();
            let mut query: Vec<(&str, &str)> = vec![("q", &req.query), ("count", &count)];
            if let Some(c) = &req.country {
                query.push(("country", c));
            }
            if let Some(l) = &req.language {
                query.push(("search_lang", l));
            }
            let fresh = req.freshness.as_deref().and_then(|f| match f {
                "day" => Some("pd"),
                "week" => Some("pw"),
                "month" => Some("pm"),
                "year" => Some("py"),
                _ => None,
            });
            if let Some(f) = fresh {
                query.push(("freshness", f));
            }
            let mut request = http
                .get(format!("{}/res/v1/web/search", cfg.base_url))
                .timeout(timeout)
                .insert_header(("Accept", "application/json"));
            if let Some(key) = &cfg.api_key {
                request = request.insert_header(("X-Subscription-Token", key.expose()));
            }
            let request = request.query(&query).map_err(|e| e.to_string())?;
            let resp = request.send().await.map_err(|e| format!("brave: {e}"))?;
            let v = answer_json(resp, "brave").await?;
            let hits = hits_at(&v, "/web/results", |r| SearchHit {
                title: str_of(r, "title"),
                url: str_of(r, "url"),
                snippet: str_of(r, "description"),
                published: opt_str(r, "/age"),
                site_name: opt_str(r, "/profile/name").or_else(|| opt_str(r, "/meta_url/hostname")),
            });
            Ok(SearchOutcome::Results(hits))
        })
    }
}
