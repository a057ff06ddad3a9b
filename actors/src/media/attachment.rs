//! What a conversation keeps of a user's file: enough to send a picture to a model again, to
//! find the file on disk and in the agent's workspace, and to say what became of it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What a file is, as far as the gateway treats it differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttachmentKind {
    /// A picture (a vision model sees it).
    Image,
    /// A document whose text can be read (PDF, Word, spreadsheets, text).
    Document,
    /// A voice message or audio file.
    Audio,
    /// A video.
    Video,
    /// Anything else (kept and named, not read).
    Other,
}

/// One file of a user message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// What it is.
    pub kind: AttachmentKind,
    /// Its file name, made safe.
    pub name: String,
    /// Its media type, from its content.
    pub mime: String,
    /// Its size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    /// Where the gateway keeps it.
    pub path: PathBuf,
    /// Its copy in the agent's workspace (relative), for the file tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_path: Option<String>,
    /// Characters of text extracted into the message (documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_chars: Option<usize>,
    /// From the quoted message, not this one.
    #[serde(default)]
    pub quoted: bool,
}
