//! `web_fetch {url, extractMode?, maxChars?}`: GET a page and give the model its readable
//! text (docs/openclaw-agent.md 2.1). HTML goes through a Readability port
//! (`dom_smoothie`) and then to Markdown (`htmd`); JSON is pretty-printed; plain text and
//! Markdown pass as they are. Charsets are decoded properly (`encoding_rs`): the HTTP header's
//! charset, else the page's `<meta charset>`, else a detector (`chardetng`), because many
//! Chinese sites are GBK or GB18030. Downloads stop at `maxResponseBytes`, the text at
//! `maxChars`; answers are cached for `cacheTtlMinutes`. Every hop goes through `net`
//! (private addresses refused by their resolved address), and the text is marked as untrusted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use crate::config::WebFetchConfig;

use super::untrusted;
use super::{Tool, ToolContext, ToolError};

/// Pages kept in the cache (OpenClaw keeps 100).
const CACHE_ENTRIES: usize = 100;

/// Bytes looked at for a `<meta charset>`.
const SNIFF_BYTES: usize = 4096;

/// The tool, with its cache.
#[derive(Default)]
pub struct WebFetch {
    cache: Arc<Mutex<HashMap<String, (Instant, Value)>>>,
}

/// A page as downloaded.
struct Page {
    final_url: String,
    status: u16,
    content_type: String,
    body: Vec<u8>,
    /// The download stopped at the byte limit.
    cut: bool,
}

/// The text extracted from a page.
struct Extracted {
    title: Option<String>,
    text: String,
    extractor: &'static str,
}

async fn download(settings: &WebFetchConfig, url: &str) -> Result<Page, ToolError> {
    let client = crate::net::guarded_client(&settings.ssrf);
    let mut headers = vec![
        ("User-Agent".to_owned(), settings.user_agent.clone()),
        (
            "Accept".to_owned(),
            "text/html,application/xhtml+xml,application/json;q=0.9,text/plain;q=0.8,*/*;q=0.5"
                .to_owned(),
        ),
        (
            "Accept-Language".to_owned(),
            "zh-CN,zh;q=0.9,en;q=0.8".to_owned(),
        ),
    ];
    for (k, v) in &settings.headers {
        headers.push((k.clone(), v.expose().to_owned()));
    }
    let fetched = crate::net::get(
        &client,
        &settings.ssrf,
        url,
        &headers,
        settings.max_redirects,
        settings.timeout,
    )
    .await
    .map_err(|e| ToolError::Failed(format!("web fetch refused or failed: {e}")))?;
    let mut resp = fetched.response;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut body = Vec::new();
    let mut cut = false;
    // The body has its own time limit: a server that sends headers and then trickles (or
    // nothing) must not hold the call until the tool's deadline.
    let read = async {
        while let Some(chunk) = resp.next().await {
            let chunk = chunk.map_err(|e| ToolError::Failed(format!("reading the page: {e}")))?;
            let room = settings.max_response_bytes.saturating_sub(body.len());
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                cut = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok::<(), ToolError>(())
    };
    tokio::time::timeout(settings.timeout, read)
        .await
        .map_err(|_| {
            ToolError::Failed(format!(
                "the page did not finish loading within {} s (tools.web.fetch.timeoutSeconds)",
                settings.timeout.as_secs()
            ))
        })??;
    Ok(Page {
        final_url: fetched.final_url.to_string(),
        status,
        content_type,
        body,
        cut,
    })
}

/// The charset a page says it is in: the header's, else its `<meta>`'s.
fn declared_charset(content_type: &str, body: &[u8]) -> Option<String> {
    let from_header = content_type
        .split(';')
        .skip(1)
        .filter_map(|p| p.trim().strip_prefix("charset="))
        .map(|c| c.trim_matches(['"', '\'', ' ']).to_owned())
        .next();
    if from_header.is_some() {
        return from_header;
    }
    static META: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        // A literal that compiles; tests below exercise it.
        regex::bytes::Regex::new(r#"(?i)<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)"#)
            .expect("literal regex")
    });
    let head = &body[..body.len().min(SNIFF_BYTES)];
    META.captures(head)
        .and_then(|c| c.get(1))
        .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
}

/// The page's bytes as text: the declared charset (header, then `<meta>`), else what the
/// bytes look like (`charset::decode`).
pub(super) fn decode(content_type: &str, body: &[u8]) -> String {
    crate::charset::decode(declared_charset(content_type, body).as_deref(), body)
}

/// Collapses runs of blank lines and trailing spaces.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned()
}

fn extract(
    page: &Page,
    text: &str,
    markdown: bool,
    readability: bool,
) -> Result<Extracted, ToolError> {
    let mime = page
        .content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_lowercase();
    let looks_html = mime.contains("html")
        || (mime.is_empty()
            && text.trim_start().get(..15).is_some_and(|s| {
                s.to_lowercase().starts_with("<!doctype html")
                    || s.to_lowercase().starts_with("<html")
            }));
    if looks_html {
        if readability
            && let Ok(mut r) = dom_smoothie::Readability::new(text, Some(&page.final_url), None)
            && let Ok(article) = r.parse()
            && article.text_content.trim().chars().count() >= 20
        {
            let body = if markdown {
                htmd::convert(&article.content).unwrap_or_else(|_| article.text_content.to_string())
            } else {
                article.text_content.to_string()
            };
            return Ok(Extracted {
                title: Some(article.title).filter(|t| !t.trim().is_empty()),
                text: tidy(&body),
                extractor: "readability",
            });
        }
        let converter = htmd::HtmlToMarkdown::builder()
            .skip_tags(vec!["script", "style", "noscript", "head"])
            .build();
        let md = converter
            .convert(text)
            .map_err(|e| ToolError::Failed(format!("the page could not be read: {e}")))?;
        return Ok(Extracted {
            title: None,
            text: tidy(&md),
            extractor: "htmd",
        });
    }
    if mime.contains("json") {
        let pretty = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| text.to_owned());
        return Ok(Extracted {
            title: None,
            text: pretty,
            extractor: "json",
        });
    }
    let textual = mime.starts_with("text/")
        || mime.is_empty()
        || mime.contains("xml")
        || mime.contains("javascript");
    if !textual || page.body.iter().take(4096).any(|b| *b == 0) {
        return Err(ToolError::Failed(format!(
            "{} is not a text page ({}); web_fetch reads pages, not files",
            page.final_url,
            if mime.is_empty() {
                "no content type"
            } else {
                &mime
            }
        )));
    }
    Ok(Extracted {
        title: None,
        text: tidy(text),
        extractor: "raw",
    })
}

impl WebFetch {
    fn cached(&self, key: &str, ttl: Duration) -> Option<Value> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(key)
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, v)| v.clone())
    }

    fn remember(&self, key: String, value: &Value) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_ENTRIES
            && let Some(oldest) = cache
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
        {
            cache.remove(&oldest);
        }
        cache.insert(key, (Instant::now(), value.clone()));
    }
}

impl Tool for WebFetch {
    fn name(&self) -> &str {
        "web_fetch"
    }

    fn description(&self) -> &str {
        "Fetch a web page (http or https) and read its main text as markdown (or plain text with extractMode=\"text\"). Use it to look things up: weather, news, documentation. maxChars limits the text returned."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "url": {"type": "string", "description": "http(s) address"},
                "extractMode": {"type": "string", "enum": ["markdown", "text"]},
                "maxChars": {"type": "integer", "minimum": 100}
            },
            "required": ["url"]
        })
    }

    fn deadline(&self, ctx: &ToolContext) -> Duration {
        // Each hop has the timeout; leave room for redirects and extraction.
        ctx.config.tools.web.fetch.timeout * 2 + Duration::from_secs(5)
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        let settings = ctx.config.tools.web.fetch.clone();
        let cache = WebFetch {
            cache: Arc::clone(&self.cache),
        };
        Box::pin(async move {
            let url = args
                .get("url")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| ToolError::BadArguments("`url` is required".to_owned()))?
                .to_owned();
            let markdown = match args.get("extractMode").and_then(Value::as_str) {
                None | Some("markdown") => true,
                Some("text") => false,
                Some(other) => {
                    return Err(ToolError::BadArguments(format!(
                        "extractMode is \"markdown\" or \"text\", not \"{other}\""
                    )));
                }
            };
            let max_chars = match args.get("maxChars").and_then(Value::as_u64) {
                Some(n) => (n as usize).clamp(100, settings.max_chars_cap),
                None => settings.max_chars,
            };
            let key = format!("{markdown}|{max_chars}|{url}");
            if let Some(mut hit) = cache.cached(&key, settings.cache_ttl) {
                hit["cached"] = json!(true);
                return Ok(hit);
            }
            let started = Instant::now();
            let page = download(&settings, &url).await?;
            let readability = settings.readability;
            // Parsing a large page is CPU work: off the actor's thread.
            let (page, extracted) = actix_rt::task::spawn_blocking(move || {
                let text = decode(&page.content_type, &page.body);
                let extracted = extract(&page, &text, markdown, readability);
                (page, extracted)
            })
            .await
            .map_err(|e| ToolError::Failed(format!("extraction failed: {e}")))?;
            let extracted = extracted?;
            if !(200..300).contains(&page.status) {
                let detail: String = extracted.text.chars().take(300).collect();
                return Err(ToolError::Failed(format!(
                    "Web fetch failed ({}): {}",
                    page.status,
                    untrusted::wrap("web_fetch", &detail)
                )));
            }
            let raw_length = extracted.text.chars().count();
            let truncated = raw_length > max_chars || page.cut;
            let text: String = extracted.text.chars().take(max_chars).collect();
            let mut answer = json!({
                "url": url,
                "finalUrl": page.final_url,
                "status": page.status,
                "contentType": page.content_type,
                "extractMode": if markdown { "markdown" } else { "text" },
                "extractor": extracted.extractor,
                "externalContent": {"untrusted": true, "source": "web_fetch", "wrapped": true},
                "truncated": truncated,
                "length": text.chars().count(),
                "rawLength": raw_length,
                "fetchedAt": chrono::Utc::now().to_rfc3339(),
                "tookMs": started.elapsed().as_millis() as u64,
                "notice": untrusted::NOTICE,
                "text": untrusted::wrap("web_fetch", &text),
            });
            if let Some(title) = extracted.title {
                answer["title"] = json!(untrusted::wrap("web_fetch", &title));
            }
            if page.cut {
                answer["warning"] = json!(format!(
                    "the page is larger than {} bytes; only its start was read",
                    settings.max_response_bytes
                ));
            }
            cache.remember(key, &answer);
            Ok(answer)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets_come_from_the_header_the_meta_tag_or_detection() {
        let (gbk, _, _) = encoding_rs::GBK.encode("北京 晴 -3°C");
        let html = [
            b"<html><head><meta charset=\"gbk\"></head><body>".as_slice(),
            &gbk,
            b"</body></html>",
        ]
        .concat();
        assert!(decode("text/html", &html).contains("北京 晴"));
        assert!(decode("text/html; charset=GB18030", &gbk).contains("北京 晴"));
        let (sjis_free, _, _) =
            encoding_rs::GB18030.encode("今天天气很好，明天有雨，气温十五度左右，请注意添加衣物。");
        assert!(
            decode("text/plain", &sjis_free).contains("今天天气很好"),
            "detected"
        );
        assert_eq!(decode("text/plain", "utf-8 北京".as_bytes()), "utf-8 北京");
    }

    #[test]
    fn html_becomes_markdown_and_binaries_are_refused() {
        let page = |ct: &str, body: &[u8]| Page {
            final_url: "https://example.com/a".into(),
            status: 200,
            content_type: ct.into(),
            body: body.to_vec(),
            cut: false,
        };
        let html = "<html><head><title>Weather</title><script>x()</script></head><body><nav>menu</nav><article><h1>Beijing</h1><p>Sunny today, high of 8 degrees, low of minus 3. North wind, level 3. Good air quality all day long.</p></article></body></html>";
        let p = page("text/html; charset=utf-8", html.as_bytes());
        let e = extract(&p, html, true, true).unwrap();
        assert!(e.text.contains("Sunny today"), "{}", e.text);
        assert!(!e.text.contains("x()"), "{}", e.text);
        let e = extract(&p, html, true, false).unwrap();
        assert_eq!(e.extractor, "htmd");
        assert!(
            e.text.contains("# Beijing") || e.text.contains("Beijing\n"),
            "{}",
            e.text
        );
        let j = page("application/json", b"{\"a\":1}");
        assert!(
            extract(&j, "{\"a\":1}", true, true)
                .unwrap()
                .text
                .contains("\"a\": 1")
        );
        let bin = page("image/png", b"\x89PNG\r\n\x1a\n\0\0");
        assert!(extract(&bin, "", true, true).is_err());
    }
}
