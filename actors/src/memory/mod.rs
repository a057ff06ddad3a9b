//! An agent's memory as OpenClaw lays it out: `MEMORY.md` (curated, long-term) and
//! `memory/YYYY-MM-DD.md` (daily notes) in the workspace, written by the model with the file
//! tools. This module finds those files (`files`), cuts them into overlapping runs of lines
//! (`chunks`), keeps the store's index in step with them and ranks what a search finds
//! (`search`).
//!
//! Search is by keywords, not embeddings (no embedding provider is needed, and none leaves the
//! machine): the query is split into terms (`terms`), the store finds chunks that hold any, and
//! each is scored by the share of the query it holds (documented in the README).

mod chunks;
mod files;
mod search;
mod terms;

pub use chunks::{CHUNK_CHARS, CHUNK_OVERLAP, chunk};
pub use files::{MemoryFileOnDisk, memory_files};
pub use search::{MemoryHit, SNIPPET_CHARS, score, search, sync};
pub use terms::terms;
