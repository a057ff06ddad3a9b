//! The operator check on every API request: `Authorization: Bearer <token>`, compared in
//! constant time (a timing difference must not tell an attacker how much of a guess was
//! right). An empty configured secret admits nobody.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use subtle::ConstantTimeEq;

use super::token::OperatorAuth;

/// Proof that the request comes from the operator; take it as a handler argument.
pub struct Operator;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
#[error("unauthorized: send the operator token as `Authorization: Bearer <token>`")]
pub struct Unauthorized;

impl ResponseError for Unauthorized {
    fn error_response(&self) -> HttpResponse {
        HttpResponse::Unauthorized()
            .insert_header(("WWW-Authenticate", "Bearer"))
            .json(serde_json::json!({"error": self.to_string()}))
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

impl FromRequest for Operator {
    type Error = Unauthorized;
    type Future = std::future::Ready<Result<Operator, Unauthorized>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ok = req
            .app_data::<web::Data<OperatorAuth>>()
            .is_some_and(|auth| is_operator(req, auth));
        std::future::ready(if ok { Ok(Operator) } else { Err(Unauthorized) })
    }
}
