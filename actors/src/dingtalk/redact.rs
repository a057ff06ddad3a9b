//! Credentials that must not be shown: URLs with credentials in their query (`access_token`,
//! `sign`, `session`, `ticket`) print with those values replaced by `***`, and free text (a
//! transcript: users paste their group robot's address and its `SEC...` signing secret into
//! the chat so a scheduled task can post there) prints with the robot tokens and signing
//! secrets masked. What the model sees is not masked: it needs the address to make the job.

use std::borrow::Cow;
use std::sync::LazyLock;

use percent_encoding::percent_decode_str;
use regex::Regex;

/// Query parameters whose values are credentials.
const SECRET_PARAMS: [&str; 5] = ["access_token", "sign", "session", "ticket", "token"];

/// `access_token=...` in text, its name and `=` percent-encoded or not (`access%5Ftoken`,
/// `%3D`), any case.
// The patterns are literals that compile; the tests below exercise them.
static TOKEN_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(access(?:_|%5f)token(?:=|%3d))[A-Za-z0-9%._~+/\-]+").expect("literal regex")
});

/// A custom robot's signing secret: `SEC` and at least 20 letters and digits (DingTalk's are
/// `SEC` and 64 hex digits).
static ROBOT_SECRET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bSEC[0-9A-Za-z]{20,}\b").expect("literal regex"));

/// The URL with credential values hidden, safe for logs and errors.
pub fn redact_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret_param(k) => format!("{k}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

/// A parameter name is compared decoded (`access%5Ftoken` is `access_token`) and in any case.
fn is_secret_param(name: &str) -> bool {
    let decoded = percent_decode_str(name)
        .decode_utf8_lossy()
        .to_ascii_lowercase();
    SECRET_PARAMS.contains(&decoded.as_str())
}

/// Text with robot access tokens and signing secrets masked, for showing a transcript to
/// the operator or writing it to a log. Borrowed when there is nothing to mask.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let tokens = TOKEN_IN_TEXT.replace_all(text, "${1}***");
    match ROBOT_SECRET.replace_all(&tokens, "SEC***") {
        Cow::Borrowed(_) => tokens,
        Cow::Owned(s) => Cow::Owned(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_credentials_only() {
        assert_eq!(
            redact_url(
                "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1&sign=x%2B"
            ),
            "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1&sign=***"
        );
        assert_eq!(redact_url("https://a/b"), "https://a/b");
        assert_eq!(
            redact_url("http://127.0.0.1:1/robot/sendBySession?session=s1"),
            "http://127.0.0.1:1/robot/sendBySession?session=***"
        );
    }

    /// Found by probing: `access%5Ftoken=` (the same parameter, percent-encoded) escaped
    /// redaction.
    #[test]
    fn encoded_parameter_names_are_hidden_too() {
        assert_eq!(
            redact_url("https://oapi.dingtalk.com/robot/send?access%5Ftoken=abc&x=1"),
            "https://oapi.dingtalk.com/robot/send?access%5Ftoken=***&x=1"
        );
        assert_eq!(
            redact_url("https://oapi.dingtalk.com/robot/send?ACCESS_TOKEN=abc"),
            "https://oapi.dingtalk.com/robot/send?ACCESS_TOKEN=***"
        );
    }

    #[test]
    fn tokens_and_signing_secrets_in_text_are_masked() {
        let said = "Check the weather at 9, webhook https://oapi.dingtalk.com/robot/send?access_token=6a1f00c9e2b34d5f and secret SEC5e5b1f0a0e6c4d3b2a19f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2";
        let shown = redact_text(said);
        assert_eq!(
            shown,
            "Check the weather at 9, webhook https://oapi.dingtalk.com/robot/send?access_token=*** and secret SEC***"
        );
        assert_eq!(
            redact_text("see access%5Ftoken%3Dabc123 and Access_Token=XYZ"),
            "see access%5Ftoken%3D*** and Access_Token=***"
        );
        assert!(matches!(
            redact_text("nothing here, SECOND place"),
            Cow::Borrowed(_)
        ));
    }
}
