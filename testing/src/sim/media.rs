//! Files in the simulator (docs/dingtalk-protocol.md 3.2, 4.2, 4.3): what users send
//! (pictures, files, voice, video) is downloadable by its `downloadCode` through
//! `POST /v1.0/robot/messageFiles/download`, which answers a short-lived URL on the simulator's
//! file server (`GET /sim/files/{id}`), as DingTalk answers an OSS URL; what bots upload with
//! `POST /media/upload?access_token=` (multipart `media`) gets a `media_id` that
//! `sampleImageMsg` and `sampleFile` sends refer to. Reactions (`/v1.0/robot/emotion/reply`
//! and `/recall`) are recorded.
//!
//! Knobs: a file can be big (served as zeros without being held in memory), its code can be
//! expired, its download can fail.

use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use dingclaw_actors::dingtalk::api::now_ms;

use super::model::*;
use super::openapi::api_error;
use super::state::{Inner, Sim};

/// A download URL works this long, as DingTalk's OSS URLs do for a short while.
const URL_TTL_MS: i64 = 5 * 60 * 1000;

/// A downloadCode works this long after the message was sent.
pub const CODE_TTL_MS: i64 = 24 * 3600 * 1000;

/// Uploads DingTalk takes: 20 MB for images and files.
const MAX_UPLOAD: usize = 20 * 1024 * 1024;

/// A 1x1 PNG, the picture of a message that names none.
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A file the simulator holds.
#[derive(Clone)]
pub struct SimFile {
    /// Its file name.
    pub name: String,
    /// Its media type.
    pub mime: String,
    /// `None`: `size` zeros.
    pub data: Option<Arc<Vec<u8>>>,
    /// Its size in bytes.
    pub size: u64,
    /// When its download URL stops working (ms since the epoch).
    pub expires_ms: i64,
    /// Downloading it fails (to test the gateway's handling).
    pub fail: bool,
}

impl SimFile {
    /// Hex SHA-256 of the bytes; a synthetic file (zeros, possibly hundreds of MB) is not
    /// hashed (that would hold the simulator's lock for seconds) and says what it is instead.
    fn sha256(&self) -> String {
        match &self.data {
            Some(d) => hex(&Sha256::digest(d.as_slice())),
            None => format!("zeros-{}", self.size),
        }
    }

    /// The file behind a download code or a media id, as recorded.
    pub fn media(&self, download_code: Option<String>, media_id: Option<String>) -> SimMedia {
        SimMedia {
            name: self.name.clone(),
            mime: self.mime.clone(),
            size: self.size,
            sha256: self.sha256(),
            download_code,
            media_id,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The file a user message carries: the attachment given, or a small default of its type.
pub fn user_file(msgtype: &str, text: &str, a: Option<&Attachment>) -> Result<SimFile, String> {
    let (default_name, default_mime, default_data): (String, &str, Vec<u8>) = match msgtype {
        "picture" | "richText" => ("image.png".into(), "image/png", TINY_PNG.to_vec()),
        "audio" => ("voice.amr".into(), "audio/amr", b"#!AMR\n\0\0\0\0".to_vec()),
        "video" => ("video.mp4".into(), "video/mp4", vec![0u8; 64]),
        _ => (
            if text.trim().is_empty() {
                "file.txt".into()
            } else {
                text.trim().to_owned()
            },
            "text/plain",
            b"hello from the simulator\n".to_vec(),
        ),
    };
    let a = a.cloned().unwrap_or_default();
    let data = match (&a.data_base64, a.size) {
        (Some(b64), _) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| format!("attachment.dataBase64 is not base64: {e}"))?,
        ),
        (None, Some(_)) => None,
        (None, None) => Some(default_data),
    };
    let size = data
        .as_ref()
        .map_or(a.size.unwrap_or(0), |d| d.len() as u64);
    Ok(SimFile {
        name: a.name.unwrap_or(default_name),
        mime: a.mime.unwrap_or_else(|| default_mime.to_owned()),
        data: data.map(Arc::new),
        size,
        expires_ms: if a.expired { 0 } else { now_ms() + CODE_TTL_MS },
        fail: a.fail,
    })
}

impl Sim {
    /// `POST /v1.0/robot/messageFiles/download` → `{downloadUrl}`.
    fn download(&self, req: &HttpRequest, body: &Value) -> HttpResponse {
        let mut inner = self.lock();
        let bot = match self.token_bot(&mut inner, req) {
            Ok(b) => b,
            Err(e) => return e.response(),
        };
        if body.get("robotCode").and_then(Value::as_str) != Some(bot.as_str()) {
            return api_error(
                400,
                "invalidParameter.robotCode.auth",
                "robotCode does not belong to the token's app",
            )
            .response();
        }
        let code = body
            .get("downloadCode")
            .and_then(Value::as_str)
            .unwrap_or("");
        let file = match inner.files.get(code) {
            Some(f) if f.expires_ms > now_ms() => f.clone(),
            Some(_) => {
                inner.stats.download_refused += 1;
                return api_error(
                    400,
                    "InvalidParameter.DownloadCode",
                    "downloadCode 已过期 (expired)",
                )
                .response();
            }
            None => {
                inner.stats.download_refused += 1;
                return api_error(
                    400,
                    "InvalidParameter.DownloadCode",
                    "downloadCode 不存在 (unknown)",
                )
                .response();
            }
        };
        let id = random_hex(24);
        inner
            .file_urls
            .insert(id.clone(), (code.to_owned(), now_ms() + URL_TTL_MS));
        drop(file);
        let url = format!(
            "{}/sim/files/{id}?Expires={}&Signature={}",
            self.base_url(),
            now_ms() / 1000 + 300,
            random_hex(16)
        );
        HttpResponse::Ok().json(json!({ "downloadUrl": url }))
    }

    /// `GET /sim/files/{id}`: the bytes behind a download URL.
    fn serve_file(&self, id: &str) -> HttpResponse {
        let mut inner = self.lock();
        let file = match inner.file_urls.get(id) {
            Some((code, until)) if *until > now_ms() => inner.files.get(code).cloned(),
            _ => None,
        };
        let Some(file) = file else {
            return HttpResponse::Forbidden().content_type("application/xml").body("<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>");
        };
        if file.fail {
            return HttpResponse::InternalServerError().body("simulated failure");
        }
        inner.stats.downloads += 1;
        drop(inner);
        match file.data {
            Some(d) => HttpResponse::Ok()
                .content_type("application/octet-stream")
                .body(d.as_ref().clone()),
            None => {
                let size = file.size;
                let chunks = futures_util::stream::unfold(size, |left| async move {
                    if left == 0 {
                        return None;
                    }
                    let n = left.min(256 * 1024);
                    Some((
                        Ok::<_, actix_web::Error>(bytes::Bytes::from(vec![0u8; n as usize])),
                        left - n,
                    ))
                });
                HttpResponse::Ok()
                    .content_type("application/octet-stream")
                    .no_chunking(size)
                    .streaming(chunks)
            }
        }
    }

    /// Registers an uploaded file; its media id.
    fn store_upload(&self, file: SimFile) -> String {
        let id = format!("@lA{}", random_b64(18).replace(['+', '/', '='], "x"));
        let mut inner = self.lock();
        inner.stats.uploads += 1;
        inner.uploads.insert(id.clone(), file);
        id
    }

    /// The uploaded file a send refers to.
    pub(super) fn upload(inner: &Inner, media_id: &str) -> Option<SimFile> {
        inner.uploads.get(media_id).cloned()
    }

    fn react(&self, req: &HttpRequest, body: &Value, action: &str) -> HttpResponse {
        let mut inner = self.lock();
        let bot = match self.token_bot(&mut inner, req) {
            Ok(b) => b,
            Err(e) => return e.response(),
        };
        let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        if field("openMsgId").is_empty() || field("openConversationId").is_empty() {
            return api_error(
                400,
                "invalidParameter.openMsgId.empty",
                "openMsgId and openConversationId are required",
            )
            .response();
        }
        inner.stats.reactions += 1;
        inner.reactions.push(Reaction {
            bot,
            msg_id: field("openMsgId"),
            conversation_id: field("openConversationId"),
            emotion_name: body
                .pointer("/textEmotion/emotionName")
                .and_then(Value::as_str)
                .map_or_else(|| field("emotionName"), str::to_owned),
            action: action.to_owned(),
            at_ms: now_ms(),
        });
        HttpResponse::Ok().json(json!({ "result": true }))
    }

    /// Reactions so far, oldest first.
    pub fn reactions(&self) -> Vec<Reaction> {
        self.lock().reactions.clone()
    }
}

pub(super) async fn download(
    sim: web::Data<Arc<Sim>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    sim.download(&req, &body)
}

pub(super) async fn file(sim: web::Data<Arc<Sim>>, path: web::Path<String>) -> HttpResponse {
    sim.serve_file(&path)
}

#[derive(Deserialize)]
pub(super) struct UploadQuery {
    access_token: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `POST /media/upload?access_token=&type=`: multipart field `media` → `{errcode, media_id}`.
pub(super) async fn upload(
    sim: web::Data<Arc<Sim>>,
    q: web::Query<UploadQuery>,
    mut form: Multipart,
) -> HttpResponse {
    let token_ok = {
        let inner = sim.lock();
        q.access_token
            .as_deref()
            .and_then(|t| inner.tokens.get(t))
            .is_some_and(|(_, until)| std::time::Instant::now() < *until)
    };
    if !token_ok {
        return HttpResponse::Ok()
            .json(json!({"errcode": 40014, "errmsg": "不合法的access_token"}));
    }
    let kind = q.kind.clone().unwrap_or_default();
    if !matches!(kind.as_str(), "image" | "file" | "voice" | "video") {
        return HttpResponse::Ok()
            .json(json!({"errcode": 40004, "errmsg": "不合法的媒体文件类型 (type)"}));
    }
    let mut got: Option<SimFile> = None;
    while let Some(Ok(mut field)) = form.next().await {
        if field.name() != Some("media") {
            continue;
        }
        let name = field
            .content_disposition()
            .and_then(|d| d.get_filename().map(str::to_owned))
            .unwrap_or_else(|| "upload".to_owned());
        let mime = field
            .content_type()
            .map(|m| m.to_string())
            .unwrap_or_else(|| "application/octet-stream".into());
        let mut data = Vec::new();
        while let Some(Ok(chunk)) = field.next().await {
            data.extend_from_slice(&chunk);
            if data.len() > MAX_UPLOAD {
                return HttpResponse::Ok()
                    .json(json!({"errcode": 40006, "errmsg": "不合法的文件大小 (over 20 MB)"}));
            }
        }
        got = Some(SimFile {
            name,
            mime,
            size: data.len() as u64,
            data: Some(Arc::new(data)),
            expires_ms: i64::MAX,
            fail: false,
        });
    }
    let Some(file) = got else {
        return HttpResponse::Ok()
            .json(json!({"errcode": 41005, "errmsg": "缺少多媒体文件数据 (media)"}));
    };
    let id = sim.store_upload(file);
    HttpResponse::Ok().json(
        json!({"errcode": 0, "errmsg": "ok", "type": kind, "media_id": id, "created_at": now_ms()}),
    )
}

pub(super) async fn emotion_reply(
    sim: web::Data<Arc<Sim>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    sim.react(&req, &body, "reply")
}

pub(super) async fn emotion_recall(
    sim: web::Data<Arc<Sim>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    sim.react(&req, &body, "recall")
}

pub(super) async fn reactions(sim: web::Data<Arc<Sim>>) -> HttpResponse {
    HttpResponse::Ok().json(sim.reactions())
}
