//! The operator check on every API request: `Authorization: Bearer <token>`, compared in
//! constant time (a timing difference must not tell an attacker how much of a guess was
//! right). An empty configured secret admits nobody. Failed attempts count towards the
//! address's lockout (`lockout`).

use std::net::IpAddr;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use subtle::ConstantTimeEq;

use super::WebState;
use super::token::OperatorAuth;

/// Proof that the request comes from the operator; take it as a handler argument.
pub struct Operator;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("unauthorized: send the operator token as `Authorization: Bearer <token>`")]
    Unauthorized,
    #[error("too many failed logins from this address; try again in {} s", .0.as_secs().max(1))]
    LockedOut(Duration),
}

impl ResponseError for Refused {
    fn error_response(&self) -> HttpResponse {
        let body = serde_json::json!({"error": self.to_string()});
        match self {
            Refused::Unauthorized => HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer"))
                .json(body),
            Refused::LockedOut(left) => HttpResponse::TooManyRequests()
                .insert_header(("Retry-After", left.as_secs().max(1).to_string()))
                .json(body),
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Does the request carry the operator's secret?
pub fn is_operator(req: &HttpRequest, auth: &OperatorAuth) -> bool {
    match auth {
        OperatorAuth::None => true,
        OperatorAuth::Secret(secret) => {
            let expected = secret.expose().as_bytes();
            !expected.is_empty()
                && bearer(req).is_some_and(|given| given.as_bytes().ct_eq(expected).into())
        }
    }
}

/// The client's address (the peer; no proxy headers are trusted).
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// Checks a request: lockout first, then the secret.
pub fn check(req: &HttpRequest, state: &WebState) -> Result<(), Refused> {
    let ip = client_ip(req);
    if let Some(left) = ip.and_then(|ip| state.lockout.locked(ip)) {
        return Err(Refused::LockedOut(left));
    }
    if is_operator(req, &state.auth) {
        return Ok(());
    }
    // Only a wrong secret is a guess; a request with none (a page not logged in yet) is not.
    if let Some(ip) = ip
        && bearer(req).is_some()
    {
        state.lockout.failed(ip);
    }
    Err(Refused::Unauthorized)
}

impl FromRequest for Operator {
    type Error = Refused;
    type Future = std::future::Ready<Result<Operator, Refused>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.app_data::<web::Data<WebState>>() {
            Some(state) => check(req, state).map(|()| Operator),
            None => Err(Refused::Unauthorized),
        };
        std::future::ready(result)
    }
}
