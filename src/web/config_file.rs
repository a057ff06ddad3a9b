//! The config file as the web page edits it: `GET /api/config/file` gives its text with every
//! secret written in it replaced by a placeholder (`***secret-1***`), `POST
//! /api/config/file/check` validates an edited text, and `PUT /api/config/file` validates it,
//! writes it (atomically, with the file's own permissions) and reloads. Nothing is written
//! unless the whole config is valid, and a file changed on disk since the page read it is not
//! overwritten (the `digest` the page sends back must still match).
//!
//! Placeholders are put back from the file on disk when the text is checked or saved, so a
//! secret never travels to the browser and an untouched placeholder keeps its value. Secrets
//! are found by key (`clientSecret`, `apiKey`, `token`, `password`, anything ending in
//! `secret`, `token`, `key` or `password`, and every value under `headers` or `env`), as
//! literal strings; `${VAR}` references are not secrets and stay as written.

use std::path::Path;

use actix_web::{HttpResponse, web};
use dingclaw_actors::config::{ConfigError, Environment, load_str, parse_json5};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::WebState;
use super::auth::Operator;

fn placeholder(i: usize) -> String {
    format!("***secret-{}***", i + 1)
}

fn is_secret_key(key: &str, parent: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let p = parent.to_ascii_lowercase();
    p == "headers"
        || p == "env"
        || ["secret", "token", "key", "password", "authorization"]
            .iter()
            .any(|s| k.ends_with(s))
}

/// Literal secret strings in `doc`, in document order.
fn secrets(doc: &Value, parent: &str, out: &mut Vec<String>) {
    match doc {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s)
                        if is_secret_key(k, parent) && !s.is_empty() && !s.contains("${") =>
                    {
                        if !out.contains(s) {
                            out.push(s.clone());
                        }
                    }
                    other => secrets(other, k, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| secrets(v, parent, out)),
        _ => {}
    }
}

/// Why the file cannot be shown for editing.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("the config file cannot be read: {0}")]
    Read(String),
    #[error("the config file is not valid JSON5 ({0}); edit it on the server")]
    Parse(String),
    #[error(
        "a secret in the config file is written with escapes or spread over lines, so it cannot be hidden; edit the file on the server, or move the secret to an environment variable"
    )]
    Unhideable,
}

/// `text` with each literal secret replaced by its placeholder, and the secrets in order.
pub fn mask(text: &str) -> Result<(String, Vec<String>), EditError> {
    let doc = parse_json5(text).map_err(EditError::Parse)?;
    let mut found = Vec::new();
    secrets(&doc, "", &mut found);
    let mut masked = text.to_owned();
    for (i, s) in found.iter().enumerate() {
        let mut hidden = false;
        for quote in ['"', '\''] {
            let literal = format!("{quote}{s}{quote}");
            if masked.contains(&literal) {
                masked = masked.replace(&literal, &format!("{quote}{}{quote}", placeholder(i)));
                hidden = true;
            }
        }
        if !hidden {
            return Err(EditError::Unhideable);
        }
    }
    Ok((masked, found))
}

/// `text` with placeholders put back.
pub fn unmask(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    // Highest first, so `***secret-1***` never matches inside `***secret-12***`.
    for (i, s) in secrets.iter().enumerate().rev() {
        out = out.replace(&placeholder(i), s);
    }
    out
}

fn digest(text: &str) -> String {
    let d = Sha256::digest(text.as_bytes());
    d.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn refuse(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": message, "code": code}))
}

/// The file and the environment it is read with; `None` when the gateway did not start from
/// a file.
fn source(state: &WebState) -> Option<(&Path, &dyn Environment)> {
    state.reloader.as_deref().map(|r| (r.path(), r.env()))
}

fn no_file() -> HttpResponse {
    refuse(
        actix_web::http::StatusCode::CONFLICT,
        "no_file",
        "this gateway was not started from a config file",
    )
}

pub(super) async fn get(_: Operator, state: web::Data<WebState>) -> HttpResponse {
    let Some((path, _)) = source(&state) else {
        return no_file();
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return refuse(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "read",
                &EditError::Read(e.to_string()).to_string(),
            );
        }
    };
    match mask(&text) {
        Ok((masked, found)) => HttpResponse::Ok().json(json!({
            "path": path,
            "text": masked,
            "digest": digest(&text),
            "secrets": found.len(),
        })),
        Err(e) => refuse(
            actix_web::http::StatusCode::CONFLICT,
            "unhideable",
            &e.to_string(),
        ),
    }
}

#[derive(Deserialize)]
pub(super) struct Edit {
    text: String,
    digest: String,
}

/// The edited text with its secrets back, checked; or the answer refusing it.
fn prepared(state: &WebState, edit: &Edit) -> Result<(String, Value), Box<HttpResponse>> {
    let (path, env) = source(state).ok_or_else(|| Box::new(no_file()))?;
    let current = std::fs::read_to_string(path).map_err(|e| {
        Box::new(refuse(
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            "read",
            &e.to_string(),
        ))
    })?;
    if digest(&current) != edit.digest {
        return Err(Box::new(refuse(
            actix_web::http::StatusCode::CONFLICT,
            "changed",
            "the file changed on the server since it was opened; open it again",
        )));
    }
    let (_, found) = mask(&current).map_err(|e| {
        Box::new(refuse(
            actix_web::http::StatusCode::CONFLICT,
            "unhideable",
            &e.to_string(),
        ))
    })?;
    let text = unmask(&edit.text, &found);
    let base = path.parent().unwrap_or(Path::new("."));
    let verdict = match load_str(&text, base, env) {
        Ok(loaded) => json!({
            "ok": true,
            "summary": loaded.config.summary(),
            "warnings": loaded.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "errors": [],
        }),
        Err(ConfigError::Invalid {
            errors, warnings, ..
        }) => json!({
            "ok": false,
            "errors": errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "warnings": warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }),
        Err(e) => json!({"ok": false, "errors": [e.to_string()], "warnings": []}),
    };
    Ok((text, verdict))
}

pub(super) async fn check(
    _: Operator,
    state: web::Data<WebState>,
    edit: web::Json<Edit>,
) -> HttpResponse {
    match prepared(&state, &edit) {
        Ok((_, verdict)) => HttpResponse::Ok().json(verdict),
        Err(resp) => *resp,
    }
}

/// Writes beside the file and renames over it, with the file's permissions: a reader (the
/// watcher, an editor) never sees half a file.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("dingclaw-edit");
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(&tmp, meta.permissions())?;
    }
    std::fs::rename(&tmp, path)
}

pub(super) async fn save(
    _: Operator,
    state: web::Data<WebState>,
    edit: web::Json<Edit>,
) -> HttpResponse {
    let (text, verdict) = match prepared(&state, &edit) {
        Ok(v) => v,
        Err(resp) => return *resp,
    };
    if verdict["ok"] != true {
        return HttpResponse::UnprocessableEntity().json(verdict);
    }
    let Some(reloader) = state.reloader.clone() else {
        return no_file();
    };
    if let Err(e) = write_atomically(reloader.path(), &text) {
        return refuse(
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            "write",
            &format!("the config file cannot be written: {e}"),
        );
    }
    tracing::info!(file = %reloader.path().display(), "config file saved from the web page");
    let status =
        match actix_rt::task::spawn_blocking(move || reloader.reload_now("saved on the web page"))
            .await
        {
            Ok(s) => s,
            Err(e) => {
                return refuse(
                    actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "reload",
                    &e.to_string(),
                );
            }
        };
    HttpResponse::Ok().json(json!({"ok": status.ok, "reload": status, "digest": digest(&text)}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_and_put_back() {
        let text = r#"{ // bots
  channels: { "dingtalk-connector": { accounts: { bot1: { clientId: "dingabc", clientSecret: 'very-secret-1' } } } },
  models: { providers: { p: { apiKey: "sk-123456", headers: { "X-Org": "org-9" } } } },
  gateway: { auth: { token: "${GW_TOKEN}" } },
}"#;
        let (masked, found) = mask(text).unwrap();
        assert_eq!(found, vec!["very-secret-1", "sk-123456", "org-9"]);
        for s in &found {
            assert!(!masked.contains(s.as_str()), "{masked}");
        }
        assert!(masked.contains("'***secret-1***'") && masked.contains("\"${GW_TOKEN}\""));
        assert!(
            masked.contains("clientId: \"dingabc\""),
            "ids are not secrets"
        );
        assert_eq!(unmask(&masked, &found), text);
    }

    #[test]
    fn a_secret_that_cannot_be_hidden_is_refused() {
        let text = r#"{ models: { providers: { p: { apiKey: "sk-\u0041bc" } } } }"#;
        assert!(matches!(mask(text), Err(EditError::Unhideable)));
    }
}
