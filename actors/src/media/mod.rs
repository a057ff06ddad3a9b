//! Pictures, files, voice and video that users send, on their way to a model
//! (docs/dingtalk-protocol.md 3.2, docs/openclaw-agent.md 5):
//!
//! - `store`: where downloads are kept (per account, per day) and for how long;
//! - `sniff`: what a file really is, from its bytes (a `.jpg` that is a PDF is a PDF);
//! - `extract`: the text of documents (plain text in any charset, Markdown, CSV, JSON,
//!   source code, PDF, DOCX, XLSX), within caps;
//! - `attachment`: what the transcript keeps of each file;
//! - `ingest`: one message's files, downloaded through its account, kept, read.

pub mod attachment;
pub mod extract;
pub mod ingest;
pub mod sniff;
pub mod store;

pub use attachment::{Attachment, AttachmentKind};
pub use extract::{Extracted, MAX_EXTRACT_CHARS, extract};
pub use ingest::{Ingested, ingest};
pub use sniff::{Sniffed, sniff};
pub use store::MediaStore;
