//! The configuration for the operator: the effective config (secrets as `***`) and reloading
//! the file on request.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::WebState;
use super::auth::Operator;

pub(super) async fn config(_: Operator, state: web::Data<WebState>) -> HttpResponse {
    HttpResponse::Ok().json(state.rt.config().as_ref())
}

pub(super) async fn reload(_: Operator, state: web::Data<WebState>) -> HttpResponse {
    let Some(reloader) = state.reloader.clone() else {
        return HttpResponse::Conflict()
            .json(json!({"error": "this gateway was not started from a config file"}));
    };
    // Loading reads files and applying starts actors: off the server's thread.
    let status = match actix_rt::task::spawn_blocking(move || {
        reloader.reload_now("requested by the operator")
    })
    .await
    {
        Ok(s) => s,
        Err(e) => return HttpResponse::InternalServerError().json(json!({"error": e.to_string()})),
    };
    if status.ok {
        HttpResponse::Ok().json(status)
    } else {
        HttpResponse::UnprocessableEntity().json(status)
    }
}
