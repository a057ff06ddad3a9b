//! Pictures and files in and out (docs/dingtalk-protocol.md 3.2, 4.2, 4.3):
//!
//! - a user's file: `POST /v1.0/robot/messageFiles/download {robotCode, downloadCode}` gives a
//!   short-lived URL, fetched with a plain GET (no `Content-Type`, so the storage signature
//!   stays valid), within a size cap and a deadline;
//! - the bot's file: uploaded with `POST {oapi}/media/upload?access_token=&type=` (multipart
//!   field `media`) for a `media_id`, then sent as `sampleImageMsg` or `sampleFile` through the
//!   robot OpenAPI (the sessionWebhook takes text and markdown only);
//! - the "thinking" reaction: `POST /v1.0/robot/emotion/reply`, taken off with `/recall`.
//!
//! The upload uses the same access token as the new API (DingTalk issues one kind of token to
//! an internal app; the older `gettoken` call is not needed). The upload goes through
//! `reqwest`, whose multipart builder awc lacks.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::routing::ChatType;

use super::api::{DingTalkApi, ReplyTarget};
use super::error::DingTalkError;

/// Longest a download may take, URL and body together.
pub const DOWNLOAD_DEADLINE: Duration = Duration::from_secs(120);

/// The largest file DingTalk takes in `media/upload` (images and files alike).
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

/// Why a user's file could not be had.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DownloadError {
    /// Bigger than `mediaMaxMb` allows; not downloaded (or not further).
    #[error("it is {size} bytes, over the {max}-byte limit (mediaMaxMb)")]
    TooLarge {
        /// Its size (or how much had come when the limit was passed).
        size: u64,
        /// The limit.
        max: u64,
    },
    /// DingTalk did not give a download URL (an expired code, a missing permission).
    #[error("DingTalk would not give it: {0}")]
    Refused(String),
    /// The download itself failed.
    #[error("the download failed: {0}")]
    Failed(String),
    /// The download took too long.
    #[error("the download took longer than {} s", DOWNLOAD_DEADLINE.as_secs())]
    Timeout,
}

/// A file sent by the bot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaMessage {
    /// `sampleImageMsg` with an uploaded image's media id (or an https URL).
    Image {
        /// The media id, or an https URL.
        photo: String,
    },
    /// `sampleFile`.
    File {
        /// The uploaded file's media id.
        media_id: String,
        /// The name users see.
        file_name: String,
        /// Its extension (`pdf`, `xlsx`...).
        file_type: String,
    },
}

impl MediaMessage {
    fn template(&self) -> (&'static str, String) {
        match self {
            MediaMessage::Image { photo } => {
                ("sampleImageMsg", json!({"photoURL": photo}).to_string())
            }
            MediaMessage::File {
                media_id,
                file_name,
                file_type,
            } => (
                "sampleFile",
                json!({"mediaId": media_id, "fileName": file_name, "fileType": file_type})
                    .to_string(),
            ),
        }
    }
}

impl DingTalkApi {
    /// The bytes of a user's file, at most `max_bytes`.
    pub async fn download(
        &self,
        download_code: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, DownloadError> {
        let work = async {
            let body =
                json!({"robotCode": self.account().client_id, "downloadCode": download_code});
            let answer = self
                .openapi_post(
                    "messageFiles/download",
                    "/v1.0/robot/messageFiles/download",
                    &body,
                )
                .await
                .map_err(|e| match e {
                    DingTalkError::Http { status, .. } if (400..500).contains(&status) => {
                        DownloadError::Refused(e.to_string())
                    }
                    other => DownloadError::Failed(other.to_string()),
                })?;
            let url = answer
                .get("downloadUrl")
                .and_then(Value::as_str)
                .filter(|u| u.starts_with("http"))
                .ok_or_else(|| DownloadError::Failed("no downloadUrl in the answer".into()))?
                .to_owned();
            let mut last = DownloadError::Failed("not tried".into());
            for attempt in 0..2 {
                match self.fetch(&url, max_bytes).await {
                    Ok(bytes) => return Ok(bytes),
                    Err(e @ (DownloadError::TooLarge { .. } | DownloadError::Refused(_))) => {
                        return Err(e);
                    }
                    Err(e) => {
                        tracing::warn!(account = %self.account().id, attempt, error = %e, "file download failed");
                        last = e;
                    }
                }
            }
            Err(last)
        };
        tokio::time::timeout(DOWNLOAD_DEADLINE, work)
            .await
            .map_err(|_| DownloadError::Timeout)?
    }

    async fn fetch(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, DownloadError> {
        let mut resp = self
            .http()
            .get(url)
            .timeout(DOWNLOAD_DEADLINE)
            .send()
            .await
            .map_err(|e| DownloadError::Failed(e.to_string()))?;
        let status = resp.status().as_u16();
        if status == 403 || status == 404 {
            return Err(DownloadError::Refused(format!(
                "HTTP {status} from the file server"
            )));
        }
        if status != 200 {
            return Err(DownloadError::Failed(format!(
                "HTTP {status} from the file server"
            )));
        }
        // A file that says it is too big is refused before its bytes are read.
        if let Some(len) = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && len > max_bytes
        {
            return Err(DownloadError::TooLarge {
                size: len,
                max: max_bytes,
            });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.next().await {
            let chunk = chunk.map_err(|e| DownloadError::Failed(e.to_string()))?;
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(DownloadError::TooLarge {
                    size: (bytes.len() + chunk.len()) as u64,
                    max: max_bytes,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// Uploads a file for sending; its `media_id`. `kind` is `image` or `file`.
    pub async fn upload(
        &self,
        kind: &str,
        file_name: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<String, DingTalkError> {
        const API: &str = "media/upload";
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(DingTalkError::Protocol {
                api: API,
                message: format!(
                    "{} bytes is over DingTalk's 20 MB upload limit",
                    bytes.len()
                ),
            });
        }
        let token = self.token().await?;
        crate::tls::ensure_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(self.account().stream.connect_timeout)
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| DingTalkError::Transport {
                api: API,
                message: e.to_string(),
            })?;
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str(mime)
            .map_err(|e| DingTalkError::Protocol {
                api: API,
                message: e.to_string(),
            })?;
        let form = reqwest::multipart::Form::new().part("media", part);
        let url = url::Url::parse_with_params(
            &format!("{}/media/upload", self.account().oapi_endpoint),
            &[("access_token", token.expose()), ("type", kind)],
        )
        .map_err(|e| DingTalkError::Protocol {
            api: API,
            message: e.to_string(),
        })?;
        let resp = client.post(url).multipart(form).send().await.map_err(|e| {
            DingTalkError::Transport {
                api: API,
                // The URL holds the token.
                message: e.without_url().to_string(),
            }
        })?;
        let status = resp.status().as_u16();
        let answer: Value = resp.json().await.unwrap_or(Value::Null);
        if status != 200 {
            return Err(DingTalkError::from_answer(API, status, &answer));
        }
        match answer.get("errcode").and_then(Value::as_i64) {
            Some(0) | None => answer
                .get("media_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| DingTalkError::Protocol {
                    api: API,
                    message: "no media_id in the answer".into(),
                }),
            Some(errcode) => Err(DingTalkError::rejected(API, errcode, &answer)),
        }
    }

    /// Sends a picture or file into the conversation of `target`, through the robot OpenAPI.
    pub async fn send_media(
        &self,
        target: &ReplyTarget,
        media: &MediaMessage,
    ) -> Result<(), DingTalkError> {
        let (msg_key, msg_param) = media.template();
        match target.chat {
            ChatType::Group => {
                self.send_group_template(&target.conversation_id, msg_key, &msg_param)
                    .await
            }
            ChatType::Direct => {
                let staff = target
                    .sender_staff_id
                    .clone()
                    .ok_or(DingTalkError::NoStaffId)?;
                self.send_direct_template(&[staff], msg_key, &msg_param)
                    .await
            }
        }
    }

    /// Puts (`add`) or takes off the "thinking" reaction on a user message.
    pub async fn react(
        &self,
        msg_id: &str,
        conversation_id: &str,
        text: &str,
        add: bool,
    ) -> Result<(), DingTalkError> {
        let body = json!({
            "robotCode": self.account().client_id,
            "openMsgId": msg_id,
            "openConversationId": conversation_id,
            "emotionType": 2,
            "emotionName": text,
            // DingTalk-Real-AI's values (docs/dingtalk-protocol.md 4.3).
            "textEmotion": {"emotionId": "2659900", "emotionName": text, "text": text, "backgroundId": "im_bg_1"},
        });
        let (api, path) = if add {
            ("emotion/reply", "/v1.0/robot/emotion/reply")
        } else {
            ("emotion/recall", "/v1.0/robot/emotion/recall")
        };
        self.openapi_post(api, path, &body).await.map(drop)
    }
}
