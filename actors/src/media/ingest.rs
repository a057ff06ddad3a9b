//! One message's files, made ready for its turn: each is downloaded (through the account, by
//! the caller's `download`), kept in the `MediaStore`, copied into the agent's workspace
//! (`inbox/<day>/<name>`, so the file tools can read it later), and read: a picture becomes an
//! image attachment, a document its text in a `<file>` block, a voice message keeps its file
//! (DingTalk's transcript is already the text), a video a note. A file that cannot be had
//! becomes a short note in the message: the message itself is never lost.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::attachment::{Attachment, AttachmentKind};
use super::extract::extract;
use super::sniff::sniff;
use super::store::{MediaStore, safe_file_name};
use crate::dingtalk::{DownloadError, MediaKind, MediaRef};

/// What a message's files add to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Added to the message's text: documents' text, notes.
    pub text: String,
    /// The files, kept in the media store.
    pub attachments: Vec<Attachment>,
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / 1_048_576.0),
        b if b >= 1 << 10 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

fn default_name(kind: MediaKind, mime: &str) -> String {
    let ext = mime
        .rsplit('/')
        .next()
        .unwrap_or("bin")
        .replace("jpeg", "jpg");
    match kind {
        MediaKind::Picture => format!("picture.{ext}"),
        MediaKind::Audio => format!("voice.{ext}"),
        MediaKind::Video => format!("video.{ext}"),
        MediaKind::File => format!("file.{ext}"),
    }
}

fn what(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Picture => "picture",
        MediaKind::File => "file",
        MediaKind::Audio => "voice message",
        MediaKind::Video => "video",
    }
}

/// Copies the file into `<workspace>/inbox/<day>/`; the relative path.
fn to_workspace(workspace: &Path, name: &str, bytes: &[u8]) -> Option<String> {
    let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let rel = format!("inbox/{day}/{}", safe_file_name(name));
    let path = workspace.join(&rel);
    let dir = path.parent()?;
    if !workspace.exists() {
        crate::config::create_private_dir(workspace).ok()?;
    }
    std::fs::create_dir_all(dir).ok()?;
    std::fs::write(&path, bytes).ok()?;
    Some(rel)
}

/// Downloads and reads every file of a message.
pub async fn ingest<F, Fut>(
    media: &[MediaRef],
    account: &str,
    max_bytes: u64,
    store: &MediaStore,
    workspace: &Path,
    download: F,
) -> Ingested
where
    F: Fn(String, u64) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, DownloadError>>,
{
    let mut out = Ingested::default();
    let mut notes = Vec::new();
    for m in media {
        let label = if m.quoted {
            format!("the quoted {}", what(m.kind))
        } else {
            what(m.kind).to_owned()
        };
        let named = m
            .file_name
            .as_deref()
            .map(|n| format!("{label} {n}"))
            .unwrap_or_else(|| label.clone());
        let bytes = match download(m.download_code.clone(), max_bytes).await {
            Ok(b) => b,
            Err(DownloadError::TooLarge { size, max }) => {
                notes.push(format!(
                    "[{named} was not downloaded: it is {}, over the {} limit]",
                    human(size),
                    human(max)
                ));
                continue;
            }
            Err(e) => {
                tracing::warn!(account, error = %e, "a file of a message could not be downloaded");
                notes.push(format!("[{named} could not be downloaded: {e}]"));
                continue;
            }
        };
        let sha256: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let provisional = m.file_name.clone().unwrap_or_default();
        let sniffed = sniff(&provisional, &bytes);
        let name = m
            .file_name
            .clone()
            .unwrap_or_else(|| default_name(m.kind, &sniffed.mime));
        let path = match store.save(account, &name, &sha256, &bytes) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(account, error = %e, "could not keep a downloaded file");
                notes.push(format!("[{named} could not be kept: {e}]"));
                continue;
            }
        };
        let workspace_path = to_workspace(workspace, &name, &bytes);
        let mut attachment = Attachment {
            kind: sniffed.kind,
            name: name.clone(),
            mime: sniffed.mime.clone(),
            size: bytes.len() as u64,
            sha256,
            path,
            workspace_path: workspace_path.clone(),
            text_chars: None,
            quoted: m.quoted,
        };
        let saved = workspace_path
            .as_deref()
            .map(|p| format!(", saved as {p}"))
            .unwrap_or_default();
        match sniffed.kind {
            AttachmentKind::Image => {
                notes.push(format!(
                    "[{label}: {name} ({}, {}){saved}]",
                    sniffed.mime,
                    human(attachment.size)
                ));
            }
            AttachmentKind::Document => match extract(sniffed.clone(), Arc::new(bytes)).await {
                Ok(e) => {
                    attachment.text_chars = Some(e.text.chars().count());
                    let cut = if e.truncated {
                        "\n[…the rest of the file is not shown]"
                    } else {
                        ""
                    };
                    out.text.push_str(&format!(
                        "\n\n<file name=\"{}\" mime=\"{}\"{}>\n{}{cut}\n</file>",
                        name.replace('"', "'"),
                        sniffed.mime,
                        workspace_path
                            .as_deref()
                            .map(|p| format!(" path=\"{p}\""))
                            .unwrap_or_default(),
                        e.text.trim_end()
                    ));
                }
                Err(why) => notes.push(format!(
                    "[{named} ({}) could not be read: {why}{saved}]",
                    sniffed.mime
                )),
            },
            AttachmentKind::Audio => {}
            AttachmentKind::Video | AttachmentKind::Other => notes.push(format!(
                "[{named} ({}, {}): not read{saved}]",
                sniffed.mime,
                human(attachment.size)
            )),
        }
        out.attachments.push(attachment);
    }
    if !notes.is_empty() {
        out.text = format!("\n\n{}{}", notes.join("\n"), out.text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(kind: MediaKind, code: &str, name: Option<&str>) -> MediaRef {
        MediaRef {
            kind,
            download_code: code.into(),
            file_name: name.map(str::to_owned),
            quoted: false,
        }
    }

    #[actix_rt::test]
    async fn files_become_attachments_text_and_notes() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::new(dir.path().join("media"));
        let ws = dir.path().join("ws");
        let refs = [
            r(MediaKind::Picture, "png", None),
            r(MediaKind::File, "txt", Some("notes.txt")),
            r(MediaKind::File, "big", Some("huge.zip")),
            r(MediaKind::File, "gone", Some("old.pdf")),
        ];
        let got = ingest(&refs, "bot1", 1000, &store, &ws, |code, max| async move {
            match code.as_str() {
                "png" => Ok(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec()),
                "txt" => Ok("会议改到周四".as_bytes().to_vec()),
                "big" => Err(DownloadError::TooLarge {
                    size: 200 * 1024 * 1024,
                    max,
                }),
                _ => Err(DownloadError::Refused("downloadCode expired".into())),
            }
        })
        .await;
        assert_eq!(got.attachments.len(), 2);
        assert_eq!(got.attachments[0].kind, AttachmentKind::Image);
        assert_eq!(got.attachments[0].mime, "image/png");
        assert!(
            got.text
                .contains("<file name=\"notes.txt\" mime=\"text/plain\""),
            "{}",
            got.text
        );
        assert!(got.text.contains("会议改到周四"));
        assert!(
            got.text.contains(
                "[file huge.zip was not downloaded: it is 200.0 MB, over the 1000 bytes limit]"
            ),
            "{}",
            got.text
        );
        assert!(
            got.text.contains("[file old.pdf could not be downloaded"),
            "{}",
            got.text
        );
        let copy = ws.join(got.attachments[1].workspace_path.as_ref().unwrap());
        assert_eq!(std::fs::read_to_string(copy).unwrap(), "会议改到周四");
    }
}
