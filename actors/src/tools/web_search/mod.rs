//! `web_search {query, count?, country?, language?, freshness?}`: search the web through the
//! configured provider (docs/openclaw-agent.md 2.2). One trait, one file per provider:
//! Brave, Tavily, SearXNG (self-hosted, common in China), Kimi (Moonshot's built-in
//! `$web_search`) and MiniMax (its Coding Plan search, global or `cn`). List providers answer
//! in 2026.9's `{kind: "results"}` shape, Kimi in `{kind: "answer"}`; titles and snippets are
//! marked as untrusted. Answers are cached for `cacheTtlMinutes`.
//!
//! Provider endpoints are the operator's configuration, not the chat's, so they are called
//! with the plain client (a self-hosted SearXNG on the LAN works).

mod brave;
mod kimi;
mod minimax;
mod searxng;
mod tavily;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use crate::config::SearchProviderConfig;

use super::untrusted;
use super::{Tool, ToolContext, ToolError};

/// What the model asked for.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    /// What to search for.
    pub query: String,
    /// How many results (1-10).
    pub count: u32,
    /// Two letters, e.g. `CN`.
    pub country: Option<String>,
    /// ISO 639-1, e.g. `zh`.
    pub language: Option<String>,
    /// `day`, `week`, `month` or `year`.
    pub freshness: Option<String>,
}

/// One result of a list provider.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchHit {
    /// The page's title.
    pub title: String,
    /// Its address.
    pub url: String,
    /// What the provider quotes of it.
    pub snippet: String,
    /// When it was published, as the provider says.
    pub published: Option<String>,
    /// The site's name.
    pub site_name: Option<String>,
}

/// What a provider found.
#[derive(Clone, Debug, PartialEq)]
pub enum SearchOutcome {
    /// A list of pages.
    Results(Vec<SearchHit>),
    /// An answer written by the provider's own model, with its sources.
    Answer {
        /// The answer.
        content: String,
        /// The pages it cites.
        citations: Vec<String>,
    },
}

/// A search provider.
pub trait SearchProvider {
    /// Searches, within `timeout`.
    fn search<'a>(
        &'a self,
        http: &'a awc::Client,
        cfg: &'a SearchProviderConfig,
        req: &'a SearchRequest,
        timeout: Duration,
    ) -> LocalBoxFuture<'a, Result<SearchOutcome, String>>;
}

/// The provider with this id.
pub fn provider(id: &str) -> Option<&'static dyn SearchProvider> {
    Some(match id {
        "brave" => &brave::Brave,
        "tavily" => &tavily::Tavily,
        "searxng" => &searxng::SearXng,
        "kimi" => &kimi::Kimi,
        "minimax" => &minimax::MiniMax,
        _ => return None,
    })
}

/// A JSON POST or GET answer, or why there is none.
/// A string field of a result, empty when missing.
pub(super) fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}

/// A string at `pointer` in a result, if there.
pub(super) fn opt_str(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The results listed at `pointer` in a provider's answer, each read by `hit`; results
/// without an address are dropped.
pub(super) fn hits_at(
    v: &Value,
    pointer: &str,
    hit: impl Fn(&Value) -> SearchHit,
) -> Vec<SearchHit> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|list| list.iter().map(hit).filter(|h| !h.url.is_empty()).collect())
        .unwrap_or_default()
}

pub(super) async fn answer_json(
    mut resp: awc::ClientResponse,
    provider: &str,
) -> Result<Value, String> {
    let status = resp.status();
    let body = resp
        .body()
        .limit(4 * 1024 * 1024)
        .await
        .map_err(|e| format!("{provider}: reading the answer: {e}"))?;
    if !status.is_success() {
        let text: String = String::from_utf8_lossy(&body).chars().take(300).collect();
        return Err(format!(
            "{provider} answered HTTP {}: {text}",
            status.as_u16()
        ));
    }
    serde_json::from_slice(&body).map_err(|e| format!("{provider}: the answer is not JSON: {e}"))
}

/// The tool, with its cache.
#[derive(Default)]
pub struct WebSearch {
    cache: Arc<Mutex<HashMap<String, (Instant, Value)>>>,
}

fn text_arg(args: &Value, key: &str) -> Option<String> {
    args.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Tool for WebSearch {
    fn name(&self) -> &str {
        "web_search"
    }

    fn description(&self) -> &str {
        "Search the web. query is what to look for; count (1-10) how many results; country (two letters, e.g. CN), language (e.g. zh) and freshness (day, week, month, year) narrow it. Fetch a result with web_fetch to read it."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "count": {"type": "integer", "minimum": 1, "maximum": 10},
                "country": {"type": "string"},
                "language": {"type": "string"},
                "freshness": {"type": "string", "enum": ["day", "week", "month", "year"]}
            },
            "required": ["query"]
        })
    }

    fn deadline(&self, ctx: &ToolContext) -> Duration {
        // Kimi's search is two model calls.
        ctx.config.tools.web.search.timeout * 2 + Duration::from_secs(5)
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        let settings = ctx.config.tools.web.search.clone();
        let cache = Arc::clone(&self.cache);
        Box::pin(async move {
            let Some((id, cfg)) = settings.active() else {
                return Err(ToolError::Failed(
                    "no search provider is configured (tools.web.search)".to_owned(),
                ));
            };
            let query = text_arg(&args, "query")
                .ok_or_else(|| ToolError::BadArguments("`query` is required".to_owned()))?;
            if query.chars().count() > 400 {
                return Err(ToolError::BadArguments(
                    "`query` is longer than 400 characters".to_owned(),
                ));
            }
            let req = SearchRequest {
                count: args
                    .get("count")
                    .and_then(Value::as_u64)
                    .map(|c| c.clamp(1, 10) as u32)
                    .unwrap_or(settings.max_results),
                country: text_arg(&args, "country").map(|c| c.to_uppercase()),
                language: text_arg(&args, "language"),
                freshness: text_arg(&args, "freshness"),
                query,
            };
            let key = format!(
                "{id}|{}|{:?}|{:?}|{:?}|{}",
                req.count, req.country, req.language, req.freshness, req.query
            );
            if let Some((at, hit)) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
                && at.elapsed() < settings.cache_ttl
            {
                let mut hit = hit.clone();
                hit["cached"] = json!(true);
                return Ok(hit);
            }
            let provider =
                provider(id).ok_or_else(|| ToolError::Failed(format!("unknown provider {id}")))?;
            let http = crate::tls::shared_client();
            let started = Instant::now();
            let outcome = provider
                .search(&http, cfg, &req, settings.timeout)
                .await
                .map_err(|e| ToolError::Failed(format!("web search failed: {e}")))?;
            let marker = untrusted::new_id();
            let mark = |t: &str| untrusted::wrap_with(&marker, "web_search", t);
            let external =
                json!({"untrusted": true, "source": "web_search", "provider": id, "wrapped": true});
            let answer = match outcome {
                SearchOutcome::Results(hits) => {
                    let hits: Vec<Value> = hits
                        .into_iter()
                        .take(req.count as usize)
                        .map(|h| {
                            let mut v = json!({"title": mark(&h.title), "url": h.url, "snippet": mark(&h.snippet)});
                            if let Some(p) = h.published {
                                v["published"] = json!(p);
                            }
                            if let Some(s) = h.site_name {
                                v["siteName"] = json!(s);
                            }
                            v
                        })
                        .collect();
                    json!({"kind": "results", "provider": id, "query": req.query, "count": hits.len(),
                           "tookMs": started.elapsed().as_millis() as u64, "notice": untrusted::NOTICE,
                           "results": hits, "externalContent": external})
                }
                SearchOutcome::Answer { content, citations } => json!({
                    "kind": "answer", "provider": id, "query": req.query, "content": mark(&content),
                    "citations": citations.iter().map(|u| json!({"url": u})).collect::<Vec<_>>(),
                    "tookMs": started.elapsed().as_millis() as u64, "notice": untrusted::NOTICE,
                    "externalContent": external,
                }),
            };
            let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= 100 {
                cache.retain(|_, (at, _)| at.elapsed() < settings.cache_ttl);
            }
            cache.insert(key, (Instant::now(), answer.clone()));
            Ok(answer)
        })
    }
}
