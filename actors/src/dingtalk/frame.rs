//! Stream-mode WebSocket frames (docs/dingtalk-protocol.md 2.1-2.2): what the server
//! pushes, and the ACK the client answers with on the same socket.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The callback topic that carries bot messages.
pub const TOPIC_BOT_MESSAGE: &str = "/v1.0/im/bot/messages/get";
/// SYSTEM health check; the ACK echoes its data.
pub const TOPIC_PING: &str = "ping";
/// SYSTEM notice that the server will drop this connection in about 10 s.
pub const TOPIC_DISCONNECT: &str = "disconnect";

/// SYSTEM, EVENT or CALLBACK; anything else is kept as `Unknown` and acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum FrameKind {
    /// Keep-alive and connection management (`ping`, `disconnect`).
    System,
    /// An event (answered with `SUCCESS` or `LATER`).
    Event,
    /// A callback: bot messages, card interactions.
    Callback,
    /// A type this client does not know (acknowledged, ignored).
    #[serde(other)]
    Unknown,
}

/// A server frame. `data` is itself a JSON document encoded as a string.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Frame {
    /// `1.0` so far.
    #[serde(default)]
    pub spec_version: Option<String>,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: FrameKind,
    /// Its headers.
    pub headers: FrameHeaders,
    /// The payload, a JSON document encoded as a string.
    #[serde(default)]
    pub data: String,
}

/// Frame headers: a flat map, open to new keys (EVENT frames add `eventType`, `eventId`, ...).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameHeaders {
    /// What the frame is about (`ping`, `/v1.0/im/bot/messages/get`...).
    #[serde(default)]
    pub topic: String,
    /// Identifies one delivery; the ACK must echo it.
    #[serde(default)]
    pub message_id: String,
    /// `application/json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Milliseconds since the epoch, sent as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// The app the frame is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The socket that carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// Headers this client does not name, kept.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A frame that could not be parsed. Keeps the delivery id when it could be read, so the
/// frame can still be acknowledged and the log line names it.
#[derive(Debug, thiserror::Error)]
#[error("malformed frame (messageId {}): {reason}", message_id.as_deref().unwrap_or("unknown"))]
pub struct MalformedFrame {
    /// The frame's `messageId`, if it could be read.
    pub message_id: Option<String>,
    /// What was wrong.
    pub reason: String,
}

impl Frame {
    /// Parses one text frame.
    pub fn parse(text: &str) -> Result<Frame, MalformedFrame> {
        super::lossy_json::from_str_lossy(text).map_err(|e| MalformedFrame {
            message_id: serde_json::from_str::<Value>(text).ok().and_then(|v| {
                v.get("headers")?
                    .get("messageId")?
                    .as_str()
                    .map(str::to_owned)
            }),
            reason: e.to_string(),
        })
    }

    /// The frame's `messageId` (empty if it has none).
    pub fn message_id(&self) -> &str {
        &self.headers.message_id
    }

    /// The frame's topic.
    pub fn topic(&self) -> &str {
        &self.headers.topic
    }

    /// The ACK this frame needs, in the shapes of the spec (2.2).
    pub fn ack(&self) -> Ack {
        match self.kind {
            FrameKind::System if self.topic() == TOPIC_PING => {
                Ack::ok(self.message_id(), self.data.clone())
            }
            FrameKind::System | FrameKind::Unknown => Ack::ok(self.message_id(), "{}".to_owned()),
            FrameKind::Event => Ack::ok(self.message_id(), EVENT_SUCCESS.to_owned()),
            FrameKind::Callback => Ack::ok(self.message_id(), CALLBACK_RESPONSE.to_owned()),
        }
    }
}

/// EVENT ACK data: processed, no redelivery wanted.
const EVENT_SUCCESS: &str = r#"{"status":"SUCCESS","message":"success"}"#;
/// CALLBACK ACK data; the server ignores the response value (developerpedia protocol page).
const CALLBACK_RESPONSE: &str = r#"{"response":null}"#;

/// The client's answer to a frame.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Ack {
    /// 200 when handled; 404 or 500 otherwise.
    pub code: u16,
    /// The frame's `messageId`, echoed.
    pub headers: AckHeaders,
    /// Free text (`OK`).
    pub message: String,
    /// A JSON document encoded as a string.
    pub data: String,
}

/// Headers of an acknowledgement.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AckHeaders {
    /// Always `application/json`.
    pub content_type: String,
    /// The acknowledged frame's `messageId`.
    pub message_id: String,
}

impl Ack {
    /// A 200 acknowledgement of frame `message_id` with `data`.
    pub fn ok(message_id: &str, data: String) -> Ack {
        Ack {
            code: 200,
            headers: AckHeaders {
                content_type: "application/json".to_owned(),
                message_id: message_id.to_owned(),
            },
            message: "OK".to_owned(),
            data,
        }
    }

    /// The acknowledgement as sent.
    pub fn to_json(&self) -> String {
        // A struct of strings and an integer always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PING: &str = r#"{"specVersion":"1.0","type":"SYSTEM","headers":{"appId":"a","connectionId":"c","contentType":"application/json","messageId":"m-ping","time":"1769851697756","topic":"ping"},"data":"{\"opaque\":\"123-dsfs\"}"}"#;

    #[test]
    fn ping_ack_echoes_the_opaque_data() {
        let f = Frame::parse(PING).unwrap();
        assert_eq!(f.kind, FrameKind::System);
        let ack: Value = serde_json::from_str(&f.ack().to_json()).unwrap();
        assert_eq!(
            ack,
            serde_json::json!({"code":200,"headers":{"contentType":"application/json","messageId":"m-ping"},
                               "message":"OK","data":"{\"opaque\":\"123-dsfs\"}"})
        );
    }

    #[test]
    fn callback_and_event_ack_shapes() {
        let cb = Frame::parse(r#"{"type":"CALLBACK","headers":{"topic":"/v1.0/im/bot/messages/get","messageId":"m1"},"data":"{}"}"#).unwrap();
        let data: Value = serde_json::from_str(&cb.ack().data).unwrap();
        assert!(data.as_object().unwrap().contains_key("response"));
        let ev = Frame::parse(r#"{"type":"EVENT","headers":{"topic":"*","messageId":"m2","eventType":"x"},"data":"{}"}"#).unwrap();
        assert_eq!(ev.headers.extra["eventType"], "x");
        let data: Value = serde_json::from_str(&ev.ack().data).unwrap();
        assert_eq!(data["status"], "SUCCESS");
    }

    #[test]
    fn unknown_types_parse_and_malformed_frames_keep_their_id() {
        let f =
            Frame::parse(r#"{"type":"NEWKIND","headers":{"topic":"t","messageId":"m3"}}"#).unwrap();
        assert_eq!(f.kind, FrameKind::Unknown);
        let e = Frame::parse(r#"{"type":"CALLBACK","headers":{"messageId":"m4"},"data":5}"#)
            .unwrap_err();
        assert_eq!(e.message_id.as_deref(), Some("m4"));
        let e = Frame::parse("not json").unwrap_err();
        assert!(e.message_id.is_none());
    }
}
