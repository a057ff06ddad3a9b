//! The operator's web page: four static files built into the binary (plain HTML, CSS and
//! JavaScript of our own, no build step). The page holds no secret; it asks for the token.

use actix_web::HttpResponse;

const INDEX: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const I18N_JS: &str = include_str!("assets/i18n.js");
const STYLE: &str = include_str!("assets/style.css");

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(body)
}

pub(super) async fn index() -> HttpResponse {
    let mut resp = asset("text/html; charset=utf-8", INDEX);
    resp.headers_mut().insert(
        actix_web::http::header::CONTENT_SECURITY_POLICY,
        actix_web::http::header::HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'",
        ),
    );
    resp
}

pub(super) async fn app_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", APP_JS)
}

pub(super) async fn i18n_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", I18N_JS)
}

pub(super) async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE)
}
