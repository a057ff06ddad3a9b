//! What an operator of many bots wants at a glance: `GET /api/status` (accounts with their
//! connection state and last error, agents with their models and tokens, providers with their
//! circuits, MCP servers with their state and tools, counters, the last reload) and the unauthenticated probes `/health` and `/ready`.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use dingclaw_actors::actors::scheduler::{Caller, ListJobs};
use serde_json::{Value, json};

use super::WebState;
use super::auth::{Operator, client, is_operator};

/// Liveness, as OpenClaw answers it (docs/openclaw-routing.md 7.4).
pub(super) async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({"ok": true, "status": "live"}))
}

/// Readiness: the config is loaded (it is, or we would not run) and every enabled account is
/// connected or failing for a stated reason. Details only for local or authenticated callers.
pub(super) async fn ready(req: HttpRequest, state: web::Data<WebState>) -> HttpResponse {
    let accounts = state.rt.account_states().await;
    let ready = accounts.iter().all(|a| a.stream.settled());
    let mut body = json!({"ready": ready});
    let local = client(&req, &state.rt.config().gateway.trusted_proxies)
        .is_some_and(|c| !c.forwarded && c.ip.is_loopback());
    let trusted = local || is_operator(&req, &state.auth);
    if trusted {
        body["accounts"] = json!(accounts
            .iter()
            .map(|a| json!({"account": a.stream.account, "status": a.stream.status, "lastError": a.stream.last_error}))
            .collect::<Vec<_>>());
        body["uptimeMs"] = json!(state.rt.uptime().as_millis() as u64);
    }
    let mut resp = if ready {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    resp.insert_header(("Cache-Control", "no-store")).json(body)
}

pub(super) async fn status(_: Operator, state: web::Data<WebState>) -> HttpResponse {
    HttpResponse::Ok().json(snapshot(&state).await)
}

/// `POST /api/providers/{id}/retry`: close the provider's circuit now.
pub(super) async fn retry_provider(
    _: Operator,
    state: web::Data<WebState>,
    id: web::Path<String>,
) -> HttpResponse {
    if state.rt.retry_provider(&id) {
        HttpResponse::Ok().json(json!({"ok": true}))
    } else {
        HttpResponse::NotFound()
            .json(json!({"error": format!("no provider \"{id}\""), "code": "no_provider"}))
    }
}

/// What is wrong, for the page's badge and `dingclaw status`: `level` is `ok`, `warn` or
/// `error`, and each problem names its kind (the page words it in the reader's language)
/// and its subject. A bot refused or a circuit open is an error; a bot (re)connecting or an
/// MCP server down is a warning.
pub fn health_of(status: &Value) -> Value {
    let mut problems = Vec::new();
    for a in status["accounts"].as_array().into_iter().flatten() {
        if a["enabled"] != true {
            continue;
        }
        // In a cluster, a bot placed on other instances has no connection here.
        if a["placedElsewhere"] == true {
            continue;
        }
        let state = a["stream"]["status"]["state"].as_str().unwrap_or("stopped");
        let kind = match state {
            "connected" => continue,
            "auth_failed" => ("error", "bot_refused"),
            _ => ("warn", "bot_offline"),
        };
        problems.push(json!({"level": kind.0, "kind": kind.1, "subject": a["id"], "detail": a["stream"]["lastError"]}));
    }
    for p in status["providers"].as_array().into_iter().flatten() {
        match p["circuit"]["state"].as_str() {
            Some("open") => problems.push(json!({"level": "error", "kind": "circuit_open", "subject": p["id"], "detail": p["lastError"]["message"]})),
            Some("half-open") => problems.push(json!({"level": "warn", "kind": "circuit_half_open", "subject": p["id"], "detail": p["lastError"]["message"]})),
            _ => {}
        }
    }
    // A reload that happened (`atMs`) and was refused; before the first there is none.
    if status["reload"]["atMs"].as_i64().unwrap_or(0) > 0 && status["reload"]["ok"] == false {
        problems.push(json!({"level": "error", "kind": "reload_refused", "subject": status["config"]["source"], "detail": status["reload"]["errors"][0]}));
    }
    if let Some(c) = status["cluster"].as_object() {
        if c.get("acting") == Some(&json!(false)) {
            problems.push(json!({"level": "error", "kind": "cluster_lapsed", "subject": c["instance"], "detail": c.get("storeError")}));
        }
        for i in c
            .get("store")
            .and_then(|s| s["instances"].as_array())
            .into_iter()
            .flatten()
        {
            if i["live"] == false {
                problems.push(json!({"level": "warn", "kind": "instance_down", "subject": i["id"], "detail": null}));
            }
        }
    }
    for m in status["mcp"].as_array().into_iter().flatten() {
        if m["state"] == "failed" {
            problems.push(json!({"level": "warn", "kind": "mcp_failed", "subject": m["name"], "detail": m["lastError"]}));
        }
    }
    let level = if problems.iter().any(|p| p["level"] == "error") {
        "error"
    } else if problems.is_empty() {
        "ok"
    } else {
        "warn"
    };
    json!({"level": level, "problems": problems})
}

/// The whole status, as `GET /api/status` and the page's live stream send it.
pub(super) async fn snapshot(state: &WebState) -> Value {
    let rt = Arc::clone(&state.rt);
    let config = rt.config();
    let streams = rt.account_states().await;
    let accounts: Vec<Value> = config
        .channels
        .dingtalk
        .accounts
        .values()
        .map(|a| {
            let stream = streams.iter().find(|s| s.stream.account == a.id);
            json!({
                "id": a.id,
                "name": a.name,
                "clientId": a.client_id,
                "channel": a.channel(),
                "enabled": a.enabled && config.channels.dingtalk.enabled,
                "groupReplyMode": a.group_reply_mode,
                "dmReplyMode": a.dm_reply_mode,
                "stream": stream,
            })
        })
        .collect();
    let cluster = rt.cluster_view().await;
    let mut accounts = accounts;
    if cluster.is_some() {
        for a in &mut accounts {
            if a["stream"].is_null() {
                a["placedElsewhere"] = json!(true);
            }
        }
    }
    let usage = rt.agent_usages();
    let agents: Vec<Value> = config
        .agents
        .agents
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "name": dingclaw_actors::actors::agent::persona(a),
                "model": a.model,
                "usage": usage.iter().find(|(id, _)| *id == a.id).map(|(_, u)| u),
            })
        })
        .collect();
    let jobs = match rt.scheduler() {
        Some(s) => s
            .send(ListJobs {
                by: Caller::Operator,
                include_disabled: true,
            })
            .await
            .map(|j| j.len())
            .ok(),
        None => None,
    };
    let mut status = json!({
        "uptimeMs": rt.uptime().as_millis() as u64,
        "config": {"source": config.source, "summary": config.summary()},
        "stats": rt.stats(),
        "replyLatency": dingclaw_actors::latency_window::REPLIES.summary(),
        "accounts": accounts,
        "agents": agents,
        "providers": rt.provider_states(),
        "cron": {"enabled": config.cron.enabled, "jobs": jobs},
        "mcp": rt.catalog().mcp_statuses(),
        "reload": state.reloader.as_ref().map(|r| r.last()),
        "cluster": cluster,
    });
    status["health"] = health_of(&status);
    status
}

/// `GET /api/cluster`: the instances sharing the store, their bots and sessions, and this
/// instance's counters (`{"cluster": null}` for a gateway that runs alone).
pub(super) async fn cluster(_: Operator, state: web::Data<WebState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"cluster": state.rt.cluster_view().await}))
}

/// `GET /api/mcp`: every MCP server, its state, tools, calls and last error (`dingclaw mcp
/// list`). Never its env or headers.
pub(super) async fn mcp(_: Operator, state: web::Data<WebState>) -> HttpResponse {
    HttpResponse::Ok().json(state.rt.catalog().mcp_statuses())
}
