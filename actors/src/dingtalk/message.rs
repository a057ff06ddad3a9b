//! Outbound message bodies, in the three places they go: the sessionWebhook and the custom
//! robot take `{msgtype, text|markdown, at}`; the robot OpenAPI takes `msgKey` plus `msgParam`
//! as a JSON *string* (docs/dingtalk-protocol.md 4.1, 4.3, 5).

use serde_json::{Value, json};

/// Text or markdown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutboundMessage {
    /// Plain text.
    Text(String),
    /// Markdown, with the title the chat list shows.
    Markdown {
        /// What the chat list shows.
        title: String,
        /// The markdown.
        text: String,
    },
}

/// Longest markdown title shown in the chat list.
const MAX_TITLE_CHARS: usize = 30;

impl OutboundMessage {
    /// Markdown whose title is the text's first line, without markdown marks.
    pub fn markdown(text: impl Into<String>) -> Self {
        let text = text.into();
        let title: String = text
            .lines()
            .map(|l| l.replace(['*', '`', '_'], ""))
            .map(|l| l.trim().trim_start_matches(['#', '>', '-', ' ']).to_owned())
            .find(|l| !l.is_empty())
            .unwrap_or_else(|| "Reply".to_owned())
            .chars()
            .take(MAX_TITLE_CHARS)
            .collect();
        OutboundMessage::Markdown { title, text }
    }

    /// The text or markdown as users read it.
    pub fn text(&self) -> &str {
        match self {
            OutboundMessage::Text(t) => t,
            OutboundMessage::Markdown { text, .. } => text,
        }
    }

    /// With `suffix` appended to the text (an @mention).
    pub fn with_suffix(&self, suffix: &str) -> Self {
        match self {
            OutboundMessage::Text(t) => OutboundMessage::Text(format!("{t}{suffix}")),
            OutboundMessage::Markdown { title, text } => OutboundMessage::Markdown {
                title: title.clone(),
                text: format!("{text}{suffix}"),
            },
        }
    }

    /// Body for a sessionWebhook or custom robot, mentioning `at_user_ids`.
    pub fn webhook_body(&self, at_user_ids: &[String]) -> Value {
        let mut body = match self {
            OutboundMessage::Text(t) => json!({"msgtype": "text", "text": {"content": t}}),
            OutboundMessage::Markdown { title, text } => {
                json!({"msgtype": "markdown", "markdown": {"title": title, "text": text}})
            }
        };
        body["at"] = json!({"atUserIds": at_user_ids, "isAtAll": false});
        body
    }

    /// `msgKey` and `msgParam` (a JSON string) for the robot OpenAPI.
    pub fn openapi_template(&self) -> (&'static str, String) {
        match self {
            OutboundMessage::Text(t) => ("sampleText", json!({"content": t}).to_string()),
            OutboundMessage::Markdown { title, text } => (
                "sampleMarkdown",
                json!({"title": title, "text": text}).to_string(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_spec() {
        let m = OutboundMessage::markdown("## **Done** today\nall good");
        assert_eq!(
            m,
            OutboundMessage::Markdown {
                title: "Done today".into(),
                text: "## **Done** today\nall good".into()
            }
        );
        let body = OutboundMessage::Text("hi".into()).webhook_body(&["manager807".into()]);
        assert_eq!(
            body,
            json!({"msgtype":"text","text":{"content":"hi"},"at":{"atUserIds":["manager807"],"isAtAll":false}})
        );
        let (key, param) = OutboundMessage::Text("hi".into()).openapi_template();
        assert_eq!(key, "sampleText");
        assert_eq!(param, r#"{"content":"hi"}"#);
    }
}
