//! `web_fetch` and `web_search` against real HTTP servers on 127.0.0.1: Chinese pages in
//! UTF-8 and GBK, the caps (a 10 MB page, a page that never ends, one that stalls, a binary
//! file), bad arguments from the model, every SSRF case the issue names, and each search
//! provider against a server that answers as that provider does.

mod support;

use std::net::ToSocketAddrs;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bytes::Bytes;
use dingclaw_actors::config::{MapEnv, load_str};
use dingclaw_actors::routing::ChatType;
use dingclaw_actors::tools::{Tool, ToolContext, ToolError, WebFetch, WebSearch};
use serde_json::{Value, json};

const UTF8_PAGE: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>上海天气</title></head><body><nav>首页</nav><article><h1>上海天气预报</h1><p>上海 明天 多云转小雨，最高 12°C，最低 7°C，东南风 2 级。出门请带伞。</p></article></body></html>";

fn gbk_page() -> Vec<u8> {
    let html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"><title>北京天气</title></head><body><article><h1>北京天气预报</h1><p>北京 今天 晴，最高 6°C，最低 零下 3°C，北风 3 级，空气质量良。</p></article></body></html>";
    encoding_rs::GBK.encode(html).0.into_owned()
}

/// Pages for the tests; `/to-loopback` redirects to 127.0.0.1.
struct Pages {
    port: u16,
    handle: actix_web::dev::ServerHandle,
}

impl Pages {
    async fn start() -> Pages {
        let server = HttpServer::new(|| {
            App::new()
                .route(
                    "/utf8",
                    web::get().to(|| async {
                        HttpResponse::Ok()
                            .content_type("text/html; charset=utf-8")
                            .body(UTF8_PAGE)
                    }),
                )
                .route(
                    "/gbk",
                    web::get().to(|| async {
                        // No charset in the header: only the <meta> says GB2312.
                        HttpResponse::Ok().content_type("text/html").body(gbk_page())
                    }),
                )
                .route(
                    "/json",
                    web::get().to(|| async {
                        HttpResponse::Ok().json(json!({"城市": "杭州", "温度": 9}))
                    }),
                )
                .route(
                    "/big",
                    web::get().to(|| async {
                        let para = "<p>天气 weather forecast paragraph, repeated to make a big page.</p>\n";
                        let body = para.repeat(10 * 1024 * 1024 / para.len() + 1);
                        HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
                    }),
                )
                .route(
                    "/binary",
                    web::get().to(|| async {
                        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
                        png.extend(std::iter::repeat_n(0u8, 2048));
                        HttpResponse::Ok().content_type("image/png").body(png)
                    }),
                )
                .route(
                    "/endless",
                    web::get().to(|| async {
                        let chunks = futures_util::stream::unfold((), |_| async {
                            actix_rt::time::sleep(Duration::from_millis(1)).await;
                            Some((Ok::<_, actix_web::Error>(Bytes::from(vec![b'a'; 16 * 1024])), ()))
                        });
                        HttpResponse::Ok().content_type("text/plain").streaming(chunks)
                    }),
                )
                .route(
                    "/stall",
                    web::get().to(|| async {
                        let first = futures_util::stream::once(async {
                            Ok::<_, actix_web::Error>(Bytes::from_static(b"<html><body>starting"))
                        });
                        let never = futures_util::stream::pending();
                        HttpResponse::Ok()
                            .content_type("text/html")
                            .streaming(futures_util::StreamExt::chain(first, never))
                    }),
                )
                .route(
                    "/to-loopback",
                    web::get().to(|req: HttpRequest| async move {
                        let port = req.app_config().local_addr().port();
                        HttpResponse::Found()
                            .insert_header(("Location", format!("http://127.0.0.1:{port}/utf8")))
                            .finish()
                    }),
                )
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind");
        let port = server.addrs()[0].port();
        let running = server.run();
        let handle = running.handle();
        actix_rt::spawn(running);
        Pages { port, handle }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// A tool context for agent `a` with `tools` as the config's tools section.
fn context(tools: &str, ws: &Path) -> ToolContext {
    let text = format!(
        r#"{{ agents: {{ list: [ {{ id: "a", workspace: "{}" }} ] }}, tools: {tools} }}"#,
        ws.display()
    );
    let config = load_str(&text, Path::new("/"), &MapEnv::new())
        .unwrap_or_else(|e| panic!("config: {e}"))
        .config;
    ToolContext {
        agent_id: "a".into(),
        session_key: "agent:a:test".into(),
        channel: "dingtalk-connector".into(),
        account: "bot1".into(),
        chat: ChatType::Direct,
        conversation_id: "cid".into(),
        sender_id: "alice".into(),
        timezone: "Asia/Shanghai".into(),
        job: None,
        workspace: ws.to_path_buf(),
        owner: false,
        read_roots: Arc::default(),
        config: Arc::new(config),
    }
}

const LOOPBACK_ALLOWED: &str =
    r#"{ web: { fetch: { timeoutSeconds: 3, ssrfPolicy: { allowedHostnames: ["127.0.0.1"] } } } }"#;

async fn fetch(ctx: &ToolContext, args: Value) -> Result<Value, ToolError> {
    WebFetch::default().call(args, ctx.clone()).await
}

fn page_text(v: &Value) -> &str {
    dingclaw_actors::tools::untrusted::unwrap(v["text"].as_str().unwrap_or(""))
}

#[actix_rt::test]
async fn chinese_pages_come_back_as_chinese_text_in_utf8_and_gbk() {
    let pages = Pages::start().await;
    let ws = tempfile::tempdir().unwrap();
    let ctx = context(LOOPBACK_ALLOWED, ws.path());
    let utf8 = fetch(&ctx, json!({"url": pages.url("/utf8")}))
        .await
        .unwrap();
    assert!(page_text(&utf8).contains("上海 明天 多云转小雨"), "{utf8}");
    assert!(
        !page_text(&utf8).contains("首页"),
        "navigation dropped: {utf8}"
    );
    assert_eq!(utf8["externalContent"]["untrusted"], true);
    assert!(
        utf8["text"]
            .as_str()
            .unwrap()
            .starts_with("<<<EXTERNAL_UNTRUSTED_CONTENT"),
        "marked as untrusted"
    );
    let gbk = fetch(
        &ctx,
        json!({"url": pages.url("/gbk"), "extractMode": "text"}),
    )
    .await
    .unwrap();
    assert!(page_text(&gbk).contains("北京 今天 晴，最高 6°C"), "{gbk}");
    let j = fetch(&ctx, json!({"url": pages.url("/json")}))
        .await
        .unwrap();
    assert!(page_text(&j).contains("\"城市\": \"杭州\""), "{j}");
    // A second fetch of the same page comes from the cache.
    let again = fetch(&ctx, json!({"url": pages.url("/utf8")})).await;
    assert!(again.is_ok());
    pages.handle.stop(false).await;
}

#[actix_rt::test]
async fn size_time_and_type_are_capped_and_bad_arguments_are_errors() {
    let pages = Pages::start().await;
    let ws = tempfile::tempdir().unwrap();
    let ctx = context(LOOPBACK_ALLOWED, ws.path());

    let big = fetch(&ctx, json!({"url": pages.url("/big"), "maxChars": 5000}))
        .await
        .unwrap();
    assert_eq!(big["truncated"], true);
    assert!(big["length"].as_u64().unwrap() <= 5000);
    assert!(
        big["warning"].as_str().unwrap().contains("larger than"),
        "{big}"
    );

    let started = Instant::now();
    let endless = fetch(&ctx, json!({"url": pages.url("/endless")}))
        .await
        .unwrap();
    assert_eq!(endless["truncated"], true, "cut at maxResponseBytes");
    assert!(started.elapsed() < Duration::from_secs(10));

    let started = Instant::now();
    let stalled = fetch(&ctx, json!({"url": pages.url("/stall")})).await;
    let err = stalled.expect_err("a stalled page is an error").to_string();
    assert!(err.contains("did not finish loading within 3 s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(8));

    let bin = fetch(&ctx, json!({"url": pages.url("/binary")})).await;
    assert!(
        bin.expect_err("binary")
            .to_string()
            .contains("not a text page")
    );

    for (args, want) in [
        (json!({}), "`url` is required"),
        (json!({"url": ""}), "`url` is required"),
        (json!({"url": "not a url"}), "not a valid address"),
        (json!({"url": "ftp://127.0.0.1/x"}), "only http and https"),
        (json!({"url": "file:///etc/passwd"}), "only http and https"),
        (
            json!({"url": pages.url("/utf8"), "extractMode": "pdf"}),
            "extractMode",
        ),
    ] {
        let err = fetch(&ctx, args.clone()).await.expect_err("bad arguments");
        assert!(err.to_string().contains(want), "{args}: {err}");
    }
    pages.handle.stop(false).await;
}

/// Names that resolve to a private or loopback address on this machine (its host name
/// usually does: 127.0.1.1, or a container's private address).
fn private_names() -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        names.push(h.trim().to_owned());
    }
    names.extend(["ip6-localhost".to_owned(), "ip6-loopback".to_owned()]);
    names
        .into_iter()
        .filter(|n| !n.is_empty())
        .filter(|n| {
            (n.as_str(), 80).to_socket_addrs().is_ok_and(|mut a| {
                a.all(|a| match a.ip() {
                    std::net::IpAddr::V4(v4) => {
                        v4.is_loopback() || v4.is_private() || v4.is_link_local()
                    }
                    std::net::IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local(),
                })
            })
        })
        .collect()
}

#[actix_rt::test]
async fn private_destinations_are_refused_without_an_explicit_allowance() {
    let pages = Pages::start().await;
    let ws = tempfile::tempdir().unwrap();
    let ctx = context("{}", ws.path());
    let port = pages.port;
    for url in [
        format!("http://127.0.0.1:{port}/utf8"),
        format!("http://localhost:{port}/utf8"),
        format!("http://[::1]:{port}/utf8"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://2130706433:{port}/utf8"),
        format!("http://0x7f.0.0.1:{port}/utf8"),
        format!("http://0177.0.0.1:{port}/utf8"),
        format!("http://[::ffff:127.0.0.1]:{port}/utf8"),
        "http://10.1.2.3/".to_owned(),
        "http://192.168.0.1/".to_owned(),
        "http://100.64.0.1/".to_owned(),
        "http://metadata.google.internal/".to_owned(),
    ] {
        let err = fetch(&ctx, json!({"url": url}))
            .await
            .expect_err(&url)
            .to_string();
        assert!(
            err.contains("cannot be fetched") || err.contains("local name"),
            "{url}: {err}"
        );
    }
    // A name that resolves to a private address is refused by the address it resolves to.
    let names = private_names();
    assert!(
        !names.is_empty(),
        "this machine has no name resolving to a private address to test with"
    );
    for name in names {
        let url = format!("http://{name}:{port}/utf8");
        let err = fetch(&ctx, json!({"url": url}))
            .await
            .expect_err(&url)
            .to_string();
        assert!(
            err.contains("cannot be fetched") || err.contains("local name"),
            "{url}: {err}"
        );
    }
    // Allowing one name does not allow where it redirects: the hop to 127.0.0.1 is refused.
    let ctx = context(
        r#"{ web: { fetch: { ssrfPolicy: { allowedHostnames: ["localhost"] } } } }"#,
        ws.path(),
    );
    let via = format!("http://localhost:{port}/to-loopback");
    let err = fetch(&ctx, json!({"url": via}))
        .await
        .expect_err("redirect")
        .to_string();
    assert!(
        err.contains("127.0.0.1") && err.contains("cannot be fetched"),
        "{err}"
    );
    // The private network allowed as a whole: the same redirect is followed.
    let ctx = context(
        r#"{ web: { fetch: { ssrfPolicy: { dangerouslyAllowPrivateNetwork: true } } } }"#,
        ws.path(),
    );
    let ok = fetch(
        &ctx,
        json!({"url": format!("http://localhost:{port}/to-loopback")}),
    )
    .await
    .unwrap();
    assert!(
        ok["finalUrl"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1")
    );
    pages.handle.stop(false).await;
}

/// One server answering as each search provider does.
async fn search_server() -> (u16, actix_web::dev::ServerHandle) {
    let server = HttpServer::new(|| {
        App::new()
            // Brave: GET with the key in X-Subscription-Token.
            .route(
                "/res/v1/web/search",
                web::get().to(|req: HttpRequest, q: web::Query<Value>| async move {
                    if req.headers().get("x-subscription-token").and_then(|v| v.to_str().ok())
                        != Some("brave-key")
                    {
                        return HttpResponse::Unauthorized().finish();
                    }
                    HttpResponse::Ok().json(json!({"web": {"results": [
                        {"title": format!("Brave: {}", q["q"].as_str().unwrap_or("")), "url": "https://weather.example/bj",
                         "description": "北京 晴", "age": "1 hour ago"}]}}))
                }),
            )
            // Tavily: POST /search with a bearer key.
            .route(
                "/search",
                web::post().to(|req: HttpRequest, body: web::Json<Value>| async move {
                    if req.headers().get("authorization").and_then(|v| v.to_str().ok())
                        != Some("Bearer tavily-key")
                    {
                        return HttpResponse::Unauthorized().finish();
                    }
                    HttpResponse::Ok().json(json!({"results": [
                        {"title": format!("Tavily: {}", body["query"].as_str().unwrap_or("")), "url": "https://t.example/", "content": "杭州 多云"}]}))
                }),
            )
            // SearXNG: GET /search?format=json, no key.
            .route(
                "/search",
                web::get().to(|q: web::Query<Value>| async move {
                    if q["format"] != "json" {
                        return HttpResponse::Forbidden().finish();
                    }
                    HttpResponse::Ok().json(json!({"results": [
                        {"title": format!("SearXNG: {}", q["q"].as_str().unwrap_or("")), "url": "https://s.example/", "content": "深圳 阵雨", "engine": "bing"}]}))
                }),
            )
            // MiniMax's coding plan search.
            .route(
                "/v1/coding_plan/search",
                web::post().to(|body: web::Json<Value>| async move {
                    HttpResponse::Ok().json(json!({"organic": [
                        {"title": format!("MiniMax: {}", body["q"].as_str().unwrap_or("")), "link": "https://m.example/", "snippet": "广州 晴", "date": "2026-11-30"}],
                        "base_resp": {"status_code": 0, "status_msg": "success"}}))
                }),
            )
            // Kimi: the model asks for $web_search, then answers once the call is echoed back.
            .route(
                "/v1/chat/completions",
                web::post().to(|body: web::Json<Value>| async move {
                    let msgs = body["messages"].as_array().cloned().unwrap_or_default();
                    let builtin = body["tools"][0]["type"] == "builtin_function";
                    if !builtin {
                        return HttpResponse::BadRequest().finish();
                    }
                    if msgs.iter().any(|m| m["role"] == "tool") {
                        return HttpResponse::Ok().json(json!({"choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": "Kimi: 成都 小雨 (https://k.example/)"}}]}));
                    }
                    HttpResponse::Ok().json(json!({"choices": [{"index": 0, "finish_reason": "tool_calls",
                        "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "ws1", "type": "builtin_function",
                            "function": {"name": "$web_search", "arguments": "{\"search_result\":{\"search_id\":\"x\"}}"}}]}}]}))
                }),
            )
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("bind");
    let port = server.addrs()[0].port();
    let running = server.run();
    let handle = running.handle();
    actix_rt::spawn(running);
    (port, handle)
}

#[actix_rt::test]
async fn every_search_provider_is_spoken_and_results_are_marked_untrusted() {
    let (port, handle) = search_server().await;
    let base = format!("http://127.0.0.1:{port}");
    let ws = tempfile::tempdir().unwrap();
    let cases = [
        (
            "brave",
            format!(
                r#"{{ provider: "brave", brave: {{ apiKey: "brave-key", baseUrl: "{base}" }} }}"#
            ),
            "Brave: 北京天气",
        ),
        (
            "tavily",
            format!(
                r#"{{ provider: "tavily", tavily: {{ apiKey: "tavily-key", baseUrl: "{base}" }} }}"#
            ),
            "Tavily: 北京天气",
        ),
        (
            "searxng",
            format!(r#"{{ provider: "searxng", searxng: {{ baseUrl: "{base}" }} }}"#),
            "SearXNG: 北京天气",
        ),
        (
            "minimax",
            format!(
                r#"{{ provider: "minimax", minimax: {{ apiKey: "mm-key", baseUrl: "{base}" }} }}"#
            ),
            "MiniMax: 北京天气",
        ),
        (
            "kimi",
            format!(
                r#"{{ provider: "kimi", kimi: {{ apiKey: "kimi-key", baseUrl: "{base}/v1" }} }}"#
            ),
            "Kimi: 成都 小雨",
        ),
    ];
    for (id, search, want) in cases {
        let ctx = context(&format!("{{ web: {{ search: {search} }} }}"), ws.path());
        let v = WebSearch::default()
            .call(json!({"query": "北京天气", "count": 3}), ctx)
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(v["provider"], id, "{v}");
        let text = v.to_string();
        assert!(text.contains(want), "{id}: {v}");
        assert!(text.contains("EXTERNAL_UNTRUSTED_CONTENT"), "{id}: {v}");
        assert_eq!(v["externalContent"]["untrusted"], true);
    }
    // A refused key is an error the model reads, not a crash.
    let ctx = context(
        &format!(
            r#"{{ web: {{ search: {{ provider: "brave", brave: {{ apiKey: "wrong", baseUrl: "{base}" }} }} }} }}"#
        ),
        ws.path(),
    );
    let err = WebSearch::default()
        .call(json!({"query": "x"}), ctx.clone())
        .await
        .expect_err("refused key");
    assert!(err.to_string().contains("401"), "{err}");
    let err = WebSearch::default()
        .call(json!({}), ctx)
        .await
        .expect_err("no query");
    assert!(err.to_string().contains("query"), "{err}");
    handle.stop(false).await;
}
