//! The custom group robot's signature (docs/dingtalk-protocol.md 5):
//! `sign = urlencode(base64(HMAC-SHA256(key = secret, msg = "<timestamp>\n<secret>")))`.

use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;

/// The base64 signature for `timestamp_ms`, before URL encoding.
pub fn signature(secret: &str, timestamp_ms: i64) -> String {
    let message = format!("{timestamp_ms}\n{secret}");
    // HMAC accepts keys of any length, so new_from_slice cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The `sign` query value: the signature URL-encoded like Python's `quote_plus`
/// (`+` → `%2B`, `/` → `%2F`, `=` → `%3D`).
pub fn url_sign(secret: &str, timestamp_ms: i64) -> String {
    utf8_percent_encode(&signature(secret, timestamp_ms), NON_ALPHANUMERIC).to_string()
}

/// Checks a received signature in constant time (used by the simulator).
pub fn verify(secret: &str, timestamp_ms: i64, sign_b64: &str) -> bool {
    let Ok(tag) = base64::engine::general_purpose::STANDARD.decode(sign_b64) else {
        return false;
    };
    let message = format!("{timestamp_ms}\n{secret}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(message.as_bytes());
    mac.verify_slice(&tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_test_vectors() {
        assert_eq!(
            signature("SEC0123456789abcdef", 1_700_000_000_000),
            "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk="
        );
        assert_eq!(
            url_sign("SEC0123456789abcdef", 1_700_000_000_000),
            "TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D"
        );
        assert_eq!(
            url_sign("this is secret", 1_577_262_236_757),
            "hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D"
        );
    }

    #[test]
    fn verify_accepts_only_the_right_signature() {
        let s = signature("SECabc", 42);
        assert!(verify("SECabc", 42, &s));
        assert!(!verify("SECabc", 43, &s));
        assert!(!verify("SECabd", 42, &s));
        assert!(!verify("SECabc", 42, "not base64!"));
    }
}
