//! A tool result as the model reads it. Text blocks are joined; structured content is kept as
//! JSON; an embedded text resource is shown with its address; images and audio are described
//! (size and type), since dingclaw's model requests carry text (image inputs arrive with media
//! support). A result over `MAX_RESULT_CHARS` is cut with a note, so one call cannot fill the
//! model's context. `isError` makes the call a tool error the model reads as such.
//!
//! Works on the result's wire JSON, so it follows the protocol rather than one SDK version's
//! types.

use serde_json::{Value, json};

use super::error::McpError;

/// Characters of one result given to the model.
pub const MAX_RESULT_CHARS: usize = 60_000;

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// One content block as text.
fn block_text(b: &Value) -> String {
    match str_at(b, "type") {
        "text" => str_at(b, "text").to_owned(),
        kind @ ("image" | "audio") => {
            let data = str_at(b, "data");
            // Base64: four characters carry three bytes.
            let bytes = data.len() / 4 * 3;
            format!(
                "[{kind} {}, about {bytes} bytes: not shown, this conversation is text]",
                str_at(b, "mimeType")
            )
        }
        "resource" => {
            let r = b.get("resource").unwrap_or(&Value::Null);
            match r.get("text").and_then(Value::as_str) {
                Some(text) => format!("[resource {}]\n{text}", str_at(r, "uri")),
                None => format!(
                    "[resource {} ({}): binary, not shown]",
                    str_at(r, "uri"),
                    str_at(r, "mimeType")
                ),
            }
        }
        "resource_link" => format!("[link {} {}]", str_at(b, "name"), str_at(b, "uri")),
        other => format!("[{other} content]"),
    }
}

/// Cuts `text` to `max` characters, saying how much was left out.
fn cut(text: String, max: usize) -> (String, bool) {
    let n = text.chars().count();
    if n <= max {
        return (text, false);
    }
    let kept: String = text.chars().take(max).collect();
    (
        format!("{kept}\n[…cut: the result was {n} characters; only the first {max} are shown]"),
        true,
    )
}

/// The model's view of a `tools/call` result (its wire JSON), or the tool's own error.
pub fn result_for_model(result: &Value, max_chars: usize) -> Result<Value, McpError> {
    let text: Vec<String> = result
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(block_text)
        .collect();
    let text = text.join("\n");
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        let (text, _) = cut(text, 2_000);
        return Err(McpError::Tool(if text.is_empty() {
            "the tool reported an error".to_owned()
        } else {
            text
        }));
    }
    let (text, text_cut) = cut(text, max_chars);
    let mut out = json!({ "text": text });
    if let Some(s) = result.get("structuredContent").filter(|s| !s.is_null()) {
        let raw = s.to_string();
        if raw.chars().count() <= max_chars.saturating_sub(text.chars().count()) {
            out["structuredContent"] = s.clone();
        } else {
            out["structuredContent"] = json!("[cut: too large to show]");
        }
    }
    if text_cut {
        out["truncated"] = json!(true);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_text_and_errors_stay_errors() {
        let r = json!({"content": [
            {"type": "text", "text": "北京 晴"},
            {"type": "image", "data": "AAAA", "mimeType": "image/png"},
            {"type": "resource", "resource": {"uri": "file:///a.txt", "text": "hello"}},
            {"type": "resource_link", "uri": "file:///b", "name": "b"}
        ], "structuredContent": {"temp": 6}});
        let v = result_for_model(&r, 1000).unwrap();
        let text = v["text"].as_str().unwrap();
        assert!(
            text.starts_with("北京 晴\n[image image/png, about 3 bytes"),
            "{text}"
        );
        assert!(text.contains("[resource file:///a.txt]\nhello"));
        assert_eq!(v["structuredContent"]["temp"], 6);
        let err = result_for_model(
            &json!({"content": [{"type": "text", "text": "no such city"}], "isError": true}),
            1000,
        );
        assert_eq!(err.unwrap_err().to_string(), "no such city");
        let big = json!({"content": [{"type": "text", "text": "x".repeat(5_000_000)}]});
        let v = result_for_model(&big, MAX_RESULT_CHARS).unwrap();
        assert_eq!(v["truncated"], true);
        assert!(v["text"].as_str().unwrap().len() < MAX_RESULT_CHARS + 200);
    }
}
