//! The bot message payload of callback topic `/v1.0/im/bot/messages/get`
//! (docs/dingtalk-protocol.md 3), typed for every `msgtype`, tolerant of unknown fields.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::routing::ChatType;

/// One user message delivered to one bot.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotMessage {
    /// Group or DM id, case-sensitive (`openConversationId` in the OpenAPI).
    pub conversation_id: String,
    /// A private chat or a group.
    pub chat: ChatType,
    /// A group's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_title: Option<String>,
    /// Business id of the user message: the same across redeliveries, and the same for every
    /// bot @-mentioned in one group message.
    pub msg_id: String,
    /// What was sent: text, a picture, a file...
    pub content: MessageContent,
    /// The sender's display name.
    pub sender_nick: String,
    /// Org user id; missing for external users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_staff_id: Option<String>,
    /// Encrypted sender id (`$:LWCP_v1:$...`).
    pub sender_id: String,
    /// The sender's organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_corp_id: Option<String>,
    /// The bot's app key, used as `robotCode` in OpenAPI calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub robot_code: Option<String>,
    /// The bot's own encrypted id (to tell its own messages apart).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chatbot_user_id: Option<String>,
    /// The sender administers the organisation.
    pub is_admin: bool,
    /// The bot is @-mentioned (`isInAtList`; a message without the field counts as one:
    /// DingTalk sends most bots only the group messages that mention them).
    pub mentioned: bool,
    /// Milliseconds since the epoch.
    pub create_at: i64,
    /// Temporary reply URL for this conversation.
    pub session_webhook: String,
    /// When `session_webhook` stops working, ms since the epoch (about 90 minutes after
    /// `create_at` in every sample).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_webhook_expired_time: Option<i64>,
    /// The earlier message this one quotes (`text.isReplyMsg` / `text.repliedMsg`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<Quote>,
}

/// A quoted message (docs/dingtalk-protocol.md 3.2: `repliedMsg`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// The quoted message's `msgtype`.
    pub msg_type: String,
    /// Its id, when DingTalk gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<String>,
    /// Its text: `text`, or the rich text's text parts, or a summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A quoted picture or file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_code: Option<String>,
    /// A quoted file's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

/// What kind of file a message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MediaKind {
    /// A picture.
    Picture,
    /// A file.
    File,
    /// A voice message.
    Audio,
    /// A video.
    Video,
}

/// A file of a message, to download by its code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaRef {
    /// What it is.
    pub kind: MediaKind,
    /// Exchanged for a download URL (`messageFiles/download`).
    pub download_code: String,
    /// A file's name, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// It belongs to the quoted message, not this one.
    pub quoted: bool,
}

/// What the user sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "msgtype", rename_all = "camelCase")]
pub enum MessageContent {
    /// Group text arrives with the @bot token removed, leaving a leading space: trimmed here.
    Text {
        /// The text, trimmed.
        text: String,
    },
    /// Text and pictures mixed.
    RichText {
        /// The parts, in order.
        items: Vec<RichTextItem>,
    },
    /// A picture.
    Picture {
        /// Exchanged for a download URL (`messageFiles/download`).
        download_code: String,
    },
    /// A voice message; `recognition` is DingTalk's speech-to-text.
    Audio {
        /// DingTalk's transcript, used as the message's text.
        recognition: Option<String>,
        /// Exchanged for a download URL.
        download_code: String,
        /// Its length in ms, when DingTalk says.
        duration: Option<i64>,
    },
    /// A video.
    Video {
        /// Exchanged for a download URL.
        download_code: String,
        /// Its length in ms, when DingTalk says.
        duration: Option<i64>,
    },
    /// A file.
    File {
        /// Exchanged for a download URL.
        download_code: String,
        /// Its name as the sender had it.
        file_name: Option<String>,
    },
    /// Text longer than `MAX_MESSAGE_CHARS`: the gateway answers that it is too long instead
    /// of sending it to a model (where it would cost its length in tokens, or be refused).
    TooLong {
        /// Characters it had.
        chars: usize,
    },
    /// `unknownMsgType` or a type this version does not know.
    Unsupported {
        /// The `msgtype` as received.
        kind: String,
        /// DingTalk's own description of it (`content.unknownMsgType`), if any.
        notice: Option<String>,
    },
}

/// One part of a rich text message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RichTextItem {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// A picture.
    Picture {
        /// Exchanged for a download URL.
        download_code: String,
    },
}

/// Longest message text (in characters) that goes to a model. DingTalk's own clients send far
/// less; a longer one came from a script, and answering "too long" is better than silence or
/// a paid call of that size.
pub const MAX_MESSAGE_CHARS: usize = 20_000;

/// What the gateway answers a message over `MAX_MESSAGE_CHARS`.
pub fn too_long_reply(chars: usize) -> String {
    format!(
        "⚠️ 消息太长（{chars} 字，上限 {MAX_MESSAGE_CHARS} 字），请分段发送。This message is too long ({chars} characters; the limit is {MAX_MESSAGE_CHARS}); please send it in parts."
    )
}

impl BotMessage {
    /// Parses the `data` string of a bot message callback. A lone surrogate escape in it is
    /// read as U+FFFD (`lossy_json`) rather than losing the message.
    pub fn parse(data: &str) -> Result<BotMessage, serde_json::Error> {
        let raw: RawBotMessage = super::lossy_json::from_str_lossy(data)?;
        raw.into_message().map_err(de::Error::custom)
    }

    /// The reply the gateway gives this message itself, without a model (too long).
    pub fn gateway_answer(&self) -> Option<String> {
        match &self.content {
            MessageContent::TooLong { chars } => Some(too_long_reply(*chars)),
            _ => None,
        }
    }

    /// The files this message carries (and the quoted message's), in order.
    pub fn media(&self) -> Vec<MediaRef> {
        let mut out = Vec::new();
        let mut add = |kind, code: &str, name: Option<&String>, quoted| {
            if !code.is_empty() {
                out.push(MediaRef {
                    kind,
                    download_code: code.to_owned(),
                    file_name: name.cloned(),
                    quoted,
                });
            }
        };
        if let Some(q) = &self.quote
            && let Some(code) = &q.download_code
        {
            let kind = match q.msg_type.as_str() {
                "file" => MediaKind::File,
                "audio" => MediaKind::Audio,
                "video" => MediaKind::Video,
                _ => MediaKind::Picture,
            };
            add(kind, code, q.file_name.as_ref(), true);
        }
        match &self.content {
            MessageContent::Picture { download_code } => {
                add(MediaKind::Picture, download_code, None, false)
            }
            MessageContent::RichText { items } => {
                for i in items {
                    if let RichTextItem::Picture { download_code } = i {
                        add(MediaKind::Picture, download_code, None, false);
                    }
                }
            }
            MessageContent::Audio { download_code, .. } => {
                add(MediaKind::Audio, download_code, None, false)
            }
            MessageContent::Video { download_code, .. } => {
                add(MediaKind::Video, download_code, None, false)
            }
            MessageContent::File {
                download_code,
                file_name,
            } => add(MediaKind::File, download_code, file_name.as_ref(), false),
            _ => {}
        }
        out
    }

    /// The sender id used for routing and policies: `senderStaffId`, else `senderId`.
    pub fn sender(&self) -> &str {
        self.sender_staff_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.sender_id)
    }

    /// The text an agent sees for this message: a quoted message first, as a quote block, so
    /// "OK, delete it" refers to the right thing. Files are added when downloaded.
    pub fn text_for_agent(&self) -> String {
        let own = self.own_text();
        let Some(q) = &self.quote else { return own };
        let quoted = match (&q.text, q.msg_type.as_str()) {
            (Some(t), _) => t.clone(),
            (None, "picture") => "[picture]".to_owned(),
            (None, "file") => format!("[file: {}]", q.file_name.as_deref().unwrap_or("unnamed")),
            (None, other) => format!("[{other} message]"),
        };
        let block: Vec<String> = quoted.lines().map(|l| format!("> {l}")).collect();
        format!(
            "[quoting an earlier message]\n{}\n\n{own}",
            block.join("\n")
        )
    }

    fn own_text(&self) -> String {
        match &self.content {
            MessageContent::Text { text } => text.clone(),
            MessageContent::RichText { items } => items
                .iter()
                .map(|i| match i {
                    RichTextItem::Text { text } => text.trim().to_owned(),
                    RichTextItem::Picture { .. } => "[image]".to_owned(),
                })
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n"),
            MessageContent::Picture { .. } => "[image]".to_owned(),
            MessageContent::Audio { recognition, .. } => recognition
                .clone()
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| "[voice message]".to_owned()),
            MessageContent::Video { .. } => "[video]".to_owned(),
            MessageContent::File { file_name, .. } => {
                format!("[file: {}]", file_name.as_deref().unwrap_or("unnamed"))
            }
            MessageContent::TooLong { chars } => format!("[a message of {chars} characters]"),
            MessageContent::Unsupported { kind, notice } => notice
                .clone()
                .unwrap_or_else(|| format!("[unsupported message: {kind}]")),
        }
    }
}

/// The payload as sent; only what a message cannot do without is required.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBotMessage {
    conversation_id: String,
    #[serde(deserialize_with = "string_or_number")]
    conversation_type: String,
    conversation_title: Option<String>,
    msg_id: String,
    #[serde(default)]
    msgtype: String,
    text: Option<RawText>,
    content: Option<Value>,
    #[serde(default)]
    sender_nick: String,
    sender_staff_id: Option<String>,
    #[serde(default)]
    sender_id: String,
    sender_corp_id: Option<String>,
    robot_code: Option<String>,
    chatbot_user_id: Option<String>,
    #[serde(default)]
    is_admin: bool,
    is_in_at_list: Option<bool>,
    #[serde(default, deserialize_with = "opt_i64")]
    create_at: Option<i64>,
    #[serde(default)]
    session_webhook: String,
    #[serde(default, deserialize_with = "opt_i64")]
    session_webhook_expired_time: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawText {
    #[serde(default)]
    content: String,
    #[serde(default)]
    is_reply_msg: bool,
    replied_msg: Option<Value>,
}

/// `repliedMsg` as DingTalk sends it; fields it lacks stay `None`.
fn parse_quote(v: &Value) -> Quote {
    let content = v.get("content");
    let rich_text: Option<String> = content
        .and_then(|c| c.get("richText"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("")
        })
        .filter(|t| !t.trim().is_empty());
    let rich_picture = content
        .and_then(|c| c.get("richText"))
        .and_then(Value::as_array)
        .and_then(|items| {
            items
                .iter()
                .find_map(|i| i.get("downloadCode").and_then(Value::as_str))
        })
        .map(str::to_owned);
    Quote {
        msg_type: v
            .get("msgType")
            .and_then(Value::as_str)
            .unwrap_or("text")
            .to_owned(),
        msg_id: str_field(Some(v), "msgId"),
        text: str_field(content, "text")
            .or(rich_text)
            .or_else(|| str_field(content, "summary"))
            .or_else(|| str_field(content, "title")),
        download_code: str_field(content, "downloadCode").or(rich_picture),
        file_name: str_field(content, "fileName"),
    }
}

impl RawBotMessage {
    fn into_message(self) -> Result<BotMessage, String> {
        let chat = match self.conversation_type.as_str() {
            "1" => ChatType::Direct,
            "2" => ChatType::Group,
            other => return Err(format!("unknown conversationType \"{other}\"")),
        };
        let quote = self
            .text
            .as_ref()
            .filter(|t| t.is_reply_msg)
            .and_then(|t| t.replied_msg.as_ref())
            .map(parse_quote);
        let mut content = parse_content(&self.msgtype, self.text, self.content.as_ref());
        let chars = match &content {
            MessageContent::Text { text } => text.chars().count(),
            MessageContent::RichText { items } => items
                .iter()
                .map(|i| match i {
                    RichTextItem::Text { text } => text.chars().count(),
                    RichTextItem::Picture { .. } => 0,
                })
                .sum(),
            _ => 0,
        };
        if chars > MAX_MESSAGE_CHARS {
            content = MessageContent::TooLong { chars };
        }
        Ok(BotMessage {
            conversation_id: self.conversation_id,
            chat,
            conversation_title: self.conversation_title,
            msg_id: self.msg_id,
            content,
            sender_nick: self.sender_nick,
            sender_staff_id: self.sender_staff_id.filter(|s| !s.is_empty()),
            sender_id: self.sender_id,
            sender_corp_id: self.sender_corp_id,
            robot_code: self.robot_code,
            chatbot_user_id: self.chatbot_user_id,
            is_admin: self.is_admin,
            mentioned: self.is_in_at_list.unwrap_or(true),
            create_at: self.create_at.unwrap_or_default(),
            session_webhook: self.session_webhook,
            session_webhook_expired_time: self.session_webhook_expired_time,
            quote,
        })
    }
}

fn str_field(v: Option<&Value>, key: &str) -> Option<String> {
    v?.get(key)?.as_str().map(str::to_owned)
}

fn int_field(v: Option<&Value>, key: &str) -> Option<i64> {
    let f = v?.get(key)?;
    f.as_i64().or_else(|| f.as_str()?.parse().ok())
}

fn parse_content(msgtype: &str, text: Option<RawText>, content: Option<&Value>) -> MessageContent {
    let code = |c| str_field(c, "downloadCode").unwrap_or_default();
    match msgtype {
        "text" => MessageContent::Text {
            text: text
                .map(|t| t.content.trim().to_owned())
                .unwrap_or_default(),
        },
        "richText" => MessageContent::RichText {
            items: content
                .and_then(|c| c.get("richText"))
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| {
                            if let Some(t) = item.get("text").and_then(Value::as_str) {
                                Some(RichTextItem::Text { text: t.to_owned() })
                            } else if item.get("type").and_then(Value::as_str) == Some("picture") {
                                Some(RichTextItem::Picture {
                                    download_code: code(Some(item)),
                                })
                            } else {
                                None
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
        },
        "picture" => MessageContent::Picture {
            download_code: code(content),
        },
        "audio" => MessageContent::Audio {
            recognition: str_field(content, "recognition"),
            download_code: code(content),
            duration: int_field(content, "duration"),
        },
        "video" => MessageContent::Video {
            download_code: code(content),
            duration: int_field(content, "duration"),
        },
        "file" => MessageContent::File {
            download_code: code(content),
            file_name: str_field(content, "fileName"),
        },
        other => MessageContent::Unsupported {
            kind: other.to_owned(),
            notice: str_field(content, "unknownMsgType"),
        },
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(de::Error::custom(format!("expected a string, got {other}"))),
    }
}

fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(extra: &str) -> String {
        format!(
            r#"{{"conversationId":"cidXyZ==","conversationType":"2","msgId":"msgQ1==","senderNick":"Li Lei",
               "senderStaffId":"manager807","senderId":"$:LWCP_v1:$S","robotCode":"dingkey","isAdmin":false,
               "createAt":1769851697611,"sessionWebhook":"https://oapi.dingtalk.com/robot/sendBySession?session=x",
               "sessionWebhookExpiredTime":1769857097611,"futureField":{{"a":1}},{extra}}}"#
        )
    }

    #[test]
    fn group_text_is_trimmed_and_unknown_fields_are_ignored() {
        let m = BotMessage::parse(&msg(
            r#""msgtype":"text","text":{"content":" summarize today's standup"}"#,
        ))
        .unwrap();
        assert_eq!(m.chat, ChatType::Group);
        assert_eq!(m.text_for_agent(), "summarize today's standup");
        assert_eq!(m.sender(), "manager807");
        assert_eq!(m.session_webhook_expired_time, Some(1769857097611));
    }

    #[test]
    fn every_msgtype_is_typed() {
        let cases = [
            (
                r#""msgtype":"picture","content":{"downloadCode":"d1","pictureDownloadCode":"p"}"#,
                "[image]",
            ),
            (
                r#""msgtype":"richText","content":{"richText":[{"text":"look "},{"type":"picture","downloadCode":"d"},{"text":"here"}]}"#,
                "look\n[image]\nhere",
            ),
            (
                r#""msgtype":"audio","content":{"downloadCode":"d","recognition":"北京天气","duration":"3000"}"#,
                "北京天气",
            ),
            (
                r#""msgtype":"audio","content":{"downloadCode":"d"}"#,
                "[voice message]",
            ),
            (
                r#""msgtype":"video","content":{"downloadCode":"d","duration":10,"videoType":"mp4"}"#,
                "[video]",
            ),
            (
                r#""msgtype":"file","content":{"downloadCode":"d","fileName":"a.pdf","spaceId":"s","fileId":"f"}"#,
                "[file: a.pdf]",
            ),
            (
                r#""msgtype":"unknownMsgType","content":{"unknownMsgType":"请升级钉钉"}"#,
                "请升级钉钉",
            ),
            (
                r#""msgtype":"interactiveCard""#,
                "[unsupported message: interactiveCard]",
            ),
        ];
        for (extra, want) in cases {
            let m = BotMessage::parse(&msg(extra)).unwrap();
            assert_eq!(m.text_for_agent(), want, "{extra}");
        }
        let m = BotMessage::parse(&msg(
            r#""msgtype":"audio","content":{"downloadCode":"d","duration":"3000"}"#,
        ))
        .unwrap();
        assert!(matches!(
            m.content,
            MessageContent::Audio {
                duration: Some(3000),
                ..
            }
        ));
    }

    #[test]
    fn dm_without_staff_id_uses_the_encrypted_sender() {
        let data = r#"{"conversationId":"cidDm","conversationType":1,"msgId":"m","senderId":"$:LWCP_v1:$S",
                      "msgtype":"text","text":{"content":"hi"},"sessionWebhook":"u"}"#;
        let m = BotMessage::parse(data).unwrap();
        assert_eq!(m.chat, ChatType::Direct);
        assert_eq!(m.sender(), "$:LWCP_v1:$S");
    }

    #[test]
    fn missing_ids_or_bad_type_are_errors() {
        assert!(BotMessage::parse(r#"{"conversationType":"2","msgId":"m"}"#).is_err());
        assert!(
            BotMessage::parse(r#"{"conversationId":"c","conversationType":"3","msgId":"m"}"#)
                .is_err()
        );
    }
}
