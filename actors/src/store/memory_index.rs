//! Rows of the memory index: an agent's memory files (`MEMORY.md`, `memory/*.md`) cut into
//! chunks, so `memory_search` can find the lines that mention something. The store keeps the
//! chunks and finds candidates by substring; `crate::memory` ranks them.

use serde::{Deserialize, Serialize};

/// A memory file as it was when indexed, to tell when it changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryFile {
    /// Relative to the agent's workspace, with `/` separators.
    pub path: String,
    /// Last modified (ms since the epoch): an unchanged file is not indexed again.
    pub mtime_ms: i64,
    /// Its size in bytes.
    pub size: u64,
}

/// A run of lines of a memory file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryChunk {
    /// 1-based, inclusive.
    pub start_line: u32,
    /// 1-based, inclusive.
    pub end_line: u32,
    /// The lines' text.
    pub text: String,
}

/// A chunk that holds some of a search's terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryCandidate {
    /// The file, relative to the workspace.
    pub path: String,
    /// First line, from 1.
    pub start_line: u32,
    /// Last line, inclusive.
    pub end_line: u32,
    /// The lines' text.
    pub text: String,
}

/// Does `text` hold `term`, ignoring case? (Terms are lower-cased by the caller.)
pub(crate) fn holds(text: &str, term: &str) -> bool {
    text.to_lowercase().contains(term)
}
