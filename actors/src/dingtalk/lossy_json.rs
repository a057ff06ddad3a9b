//! JSON that carries a lone UTF-16 surrogate escape (`\ud800` with no partner). Java and
//! JavaScript strings may hold one (a client that cut an emoji in half), and DingTalk writes
//! it into its JSON as it is; serde_json, rightly strict, refuses the whole document, which
//! left such a message without any answer. Read lossily instead: each lone surrogate becomes
//! U+FFFD, as `String::from_utf8_lossy` does for bad bytes, and the rest is read as sent.

use std::borrow::Cow;

use serde::de::DeserializeOwned;

/// Parses `text`, replacing lone surrogate escapes with `\ufffd` when (and only when) the
/// strict parse failed and the text has a surrogate escape at all.
pub fn from_str_lossy<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    match serde_json::from_str(text) {
        Err(e) if e.is_syntax() && has_surrogate_escape(text) => {
            serde_json::from_str(&replace_lone_surrogates(text))
        }
        other => other,
    }
}

fn has_surrogate_escape(text: &str) -> bool {
    text.contains("\\ud") || text.contains("\\uD")
}

fn hex4(b: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(b.get(..4)?).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// The text with every `\uD800`-`\uDFFF` escape that is not half of a valid pair replaced by
/// `\ufffd`. Other escapes (an escaped backslash before `ud800` included) are left alone.
pub fn replace_lone_surrogates(text: &str) -> Cow<'_, str> {
    const HIGH: std::ops::Range<u32> = 0xD800..0xDC00;
    const LOW: std::ops::Range<u32> = 0xDC00..0xE000;
    let b = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(cp) = (b.get(i + 1) == Some(&b'u'))
            .then(|| hex4(&b[(i + 2).min(b.len())..]))
            .flatten()
        else {
            // Any other escape: skip it whole, so `\\` never starts a new one.
            i += 2;
            continue;
        };
        let paired = HIGH.contains(&cp)
            && b.get(i + 6) == Some(&b'\\')
            && b.get(i + 7) == Some(&b'u')
            && hex4(&b[(i + 8).min(b.len())..]).is_some_and(|lo| LOW.contains(&lo));
        if paired {
            i += 12;
        } else if HIGH.contains(&cp) || LOW.contains(&cp) {
            // Byte offsets of ASCII characters are char boundaries.
            out.push_str(&text[copied..i]);
            out.push_str("\\ufffd");
            i += 6;
            copied = i;
        } else {
            i += 6;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(
            replace_lone_surrogates(r#"{"t":"a\ud800b"}"#),
            r#"{"t":"a\ufffdb"}"#
        );
        assert_eq!(
            replace_lone_surrogates(r#"{"t":"\udc00\uD83D"}"#),
            r#"{"t":"\ufffd\ufffd"}"#
        );
        let v: Value = from_str_lossy(r#"{"t":"hi \ud800!"}"#).unwrap();
        assert_eq!(v["t"], "hi \u{fffd}!");
    }

    #[test]
    fn pairs_escaped_backslashes_and_other_escapes_are_kept() {
        for kept in [
            r#"{"t":"\ud83d\ude00"}"#,
            r#"{"t":"\\ud800"}"#,
            r#"{"t":"\n\u0041\"\\"}"#,
            r#"{"t":"钉钉 \u4e2d"}"#,
        ] {
            assert!(
                matches!(replace_lone_surrogates(kept), Cow::Borrowed(_)),
                "{kept}"
            );
        }
        let v: Value = from_str_lossy(r#"{"t":"\ud83d\ude00 \\ud800"}"#).unwrap();
        assert_eq!(v["t"], "😀 \\ud800");
    }

    #[test]
    fn truncated_escapes_do_not_panic() {
        for t in [r#""\ud8"#, r#""\u"#, r#""\"#, "\\ud800", "\\ud800\\u"] {
            let _ = replace_lone_surrogates(t);
            let _ = from_str_lossy::<Value>(t);
        }
    }
}
