//! Credentials as a type that never prints: client secrets, API keys, tokens.
//!
//! `Debug`, `Display` and `Serialize` all show `***`, so a secret cannot reach a log line, an
//! error message or `config show` by accident; code that needs the value calls `expose()`.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};

use super::environment::Environment;
use super::issue::ConfigPath;
use super::substitute::Unresolved;

/// What every secret prints as.
pub const REDACTED: &str = "***";

/// A credential value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// A secret holding `value`.
    pub fn new(value: impl Into<Arc<str>>) -> Self {
        Self(value.into())
    }

    /// The real value, for the one place that sends it (an HTTP header, a signature).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// It is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

/// Is `value` a placeholder copied from an example (`YOUR_BOT1_CLIENT_SECRET`, `xxx`,
/// `sk-xxxx`, `<your key>`, `REPLACE_ME`, `changeme`)? Such a value passes every syntax check
/// and then fails at DingTalk or the provider with an error that does not say why.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    let squashed: String = lower
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .collect();
    let body = lower.strip_prefix("sk-").unwrap_or(&lower);
    lower.starts_with("your_")
        || lower.starts_with("your-")
        || lower.starts_with("your ")
        || (v.len() > 2 && v.starts_with('<') && v.ends_with('>'))
        || (body.len() >= 3 && body.chars().all(|c| c == 'x' || c == '*'))
        || matches!(
            squashed.as_str(),
            "replaceme" | "changeme" | "placeholder" | "todo" | "yourkey" | "yourapikey"
        )
}

/// The error for a placeholder in a credential that would be used, naming what to put there.
pub(crate) fn placeholder_error(what: &str, who: &str) -> String {
    format!(
        "looks like a placeholder from an example (YOUR_..., xxx, <...>, REPLACE_ME, changeme), not a real {what}; {who} cannot start with it"
    )
}

/// How a secret is written in openclaw.json: a plain string (usually `${VAR}`), or a secret
/// reference `{ source, provider, id }` (docs/openclaw-routing.md 1.4).
#[derive(Clone, Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "a string or a secret reference { source, provider, id }"
)]
pub enum SecretInput {
    Plain(String),
    Reference(SecretRef),
}

/// A secret reference. dingclaw resolves `source: "env"` (the variable named by `id`);
/// `file` and `exec` references are accepted so an OpenClaw config loads, and refused when the
/// account or provider using them would start.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    pub source: SecretSource,
    pub provider: Option<String>,
    pub id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretSource {
    Env,
    File,
    Exec,
}

/// A secret after resolution: ready to use, or unavailable with the reason. Unavailable is an
/// error only for an account or provider that would start, so a disabled bot with a missing
/// variable does not stop the gateway.
#[derive(Clone, Debug)]
pub enum SecretState {
    Ready(Secret),
    Unavailable(String),
}

impl SecretState {
    /// The secret, or an empty one for a component that will not start.
    pub fn into_secret(self) -> Secret {
        match self {
            SecretState::Ready(s) => s,
            SecretState::Unavailable(_) => Secret::new(""),
        }
    }
}

/// Resolves a secret written at `at`. `unresolved` lists the paths whose `${VAR}` placeholders
/// found no variable.
pub(crate) fn resolve_secret(
    input: &SecretInput,
    at: &ConfigPath,
    env: &dyn Environment,
    unresolved: &Unresolved,
) -> SecretState {
    match input {
        SecretInput::Plain(value) => {
            if let Some(names) = unresolved.get(at) {
                let names = names
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                SecretState::Unavailable(format!("environment variable {names} is not set"))
            } else if value.trim().is_empty() {
                SecretState::Unavailable("is empty".to_owned())
            } else {
                SecretState::Ready(Secret::new(value.as_str()))
            }
        }
        SecretInput::Reference(r) => match r.source {
            SecretSource::Env => match env.var(&r.id) {
                Some(v) => SecretState::Ready(Secret::new(v)),
                None => SecretState::Unavailable(format!(
                    "environment variable \"{}\" (secret reference) is not set",
                    r.id
                )),
            },
            SecretSource::File | SecretSource::Exec => SecretState::Unavailable(format!(
                "secret reference {{ source: \"{}\", provider: \"{}\" }} is not supported by dingclaw; use a \"${{VAR}}\" placeholder or source \"env\"",
                if r.source == SecretSource::File {
                    "file"
                } else {
                    "exec"
                },
                r.provider.as_deref().unwrap_or("default")
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = Secret::new("s3cr3t-value");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "s3cr3t-value");
    }

    #[test]
    fn placeholders_from_examples_are_recognised() {
        for p in [
            "YOUR_BOT1_CLIENT_ID",
            "YOUR_BOT1_CLIENT_SECRET",
            "your-api-key",
            "xxx",
            "XXXXXXXX",
            "sk-xxxxxxxx",
            "<your key>",
            "REPLACE_ME",
            "changeme",
            "change-me",
            " TODO ",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for real in [
            "dingxkx7bz0jjmnpqrst",
            "sk-3f8a9b2c",
            "AbCdEf123456",
            "xx",
            "yourcompany-bot",
            "ding-your_app",
        ] {
            assert!(!is_placeholder(real), "{real}");
        }
    }

    #[test]
    fn input_accepts_string_or_reference() {
        let p: SecretInput = serde_json::from_str("\"x\"").unwrap();
        assert!(matches!(p, SecretInput::Plain(ref s) if s == "x"));
        let r: SecretInput =
            serde_json::from_str(r#"{"source":"env","provider":"default","id":"K"}"#).unwrap();
        assert!(matches!(
            r,
            SecretInput::Reference(SecretRef {
                source: SecretSource::Env,
                ..
            })
        ));
        assert!(serde_json::from_str::<SecretInput>("3").is_err());
    }
}
