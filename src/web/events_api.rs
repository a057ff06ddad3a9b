//! `GET /api/events`: one server-sent event stream for the whole page, so every tab and the
//! header badge show the same moment. `event: status` carries the whole status (as
//! `GET /api/status`, with `health`) whenever something in it changed, checked every
//! `TICK`; a comment line every `KEEPALIVE` keeps proxies from closing a quiet stream.
//!
//! The page reads it with `fetch` (an `EventSource` cannot send the `Authorization` header).

use std::time::Duration;

use actix_web::{HttpResponse, web};
use bytes::Bytes;
use serde_json::Value;

use super::WebState;
use super::auth::Operator;
use super::status_api::snapshot;

const TICK: Duration = Duration::from_millis(500);
const KEEPALIVE: Duration = Duration::from_secs(15);

/// What changes on its own every tick (the clock, countdowns), left out of the comparison.
fn comparable(status: &Value) -> String {
    let mut s = status.clone();
    if let Some(o) = s.as_object_mut() {
        o.remove("uptimeMs");
    }
    for p in s["providers"].as_array_mut().into_iter().flatten() {
        if let Some(c) = p["circuit"].as_object_mut() {
            c.remove("retryInMs");
        }
    }
    for a in s["accounts"].as_array_mut().into_iter().flatten() {
        if let Some(st) = a["stream"]["status"].as_object_mut() {
            st.remove("retry_in_ms");
        }
    }
    s.to_string()
}

struct Feed {
    state: web::Data<WebState>,
    last: String,
    quiet: Duration,
    first: bool,
}

pub(super) async fn events(_: Operator, state: web::Data<WebState>) -> HttpResponse {
    let feed = Feed {
        state,
        last: String::new(),
        quiet: Duration::ZERO,
        first: true,
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        loop {
            if !feed.first {
                actix_rt::time::sleep(TICK).await;
            }
            feed.first = false;
            let status = snapshot(&feed.state).await;
            let key = comparable(&status);
            if key != feed.last {
                feed.last = key;
                feed.quiet = Duration::ZERO;
                let chunk = Bytes::from(format!("event: status\ndata: {status}\n\n"));
                return Some((Ok::<_, actix_web::Error>(chunk), feed));
            }
            feed.quiet += TICK;
            if feed.quiet >= KEEPALIVE {
                feed.quiet = Duration::ZERO;
                return Some((Ok(Bytes::from_static(b": keepalive\n\n")), feed));
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}
