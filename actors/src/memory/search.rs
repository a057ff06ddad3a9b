//! Keeping the index in step with the files, and ranking what a search finds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::chunks::chunk;
use super::files::memory_files;
use super::terms::terms;
use crate::store::{MemoryFile, StoreHandle, WriteOp};

/// Characters of a chunk shown in a result (OpenClaw's snippet cap).
pub const SNIPPET_CHARS: usize = 700;

/// Bytes read from one memory file; a bigger file is indexed up to here.
const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;

/// Chunks fetched from the store per search, before ranking.
const CANDIDATES: usize = 500;

/// One search result, in OpenClaw's shape.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryHit {
    /// The file, relative to the workspace (what `memory_get` takes).
    pub path: String,
    /// First line of the chunk, from 1.
    pub start_line: u32,
    /// Last line of the chunk.
    pub end_line: u32,
    /// 0-1: the share of the query the chunk holds.
    pub score: f64,
    /// The chunk's text, at most `SNIPPET_CHARS` characters.
    pub snippet: String,
    /// `memory` (OpenClaw also searches `sessions`).
    pub source: &'static str,
}

/// Brings the agent's index up to date with its workspace: files that changed (size or time)
/// are indexed again, files that are gone are forgotten. Cheap when nothing changed (one
/// directory walk and one query), so it runs before every search instead of watching files.
pub async fn sync(
    store: &StoreHandle,
    agent: &str,
    workspace: &Path,
    extra: &[PathBuf],
) -> Result<usize, String> {
    let (ws, extra_paths) = (workspace.to_path_buf(), extra.to_vec());
    let on_disk = actix_rt::task::spawn_blocking(move || memory_files(&ws, &extra_paths))
        .await
        .map_err(|e| e.to_string())?;
    let indexed: HashMap<String, MemoryFile> = store
        .memory_files(agent)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|f| (f.path.clone(), f))
        .collect();
    let mut ops = Vec::new();
    for f in &on_disk {
        let unchanged = indexed
            .get(&f.rel)
            .is_some_and(|i| i.mtime_ms == f.mtime_ms && i.size == f.size);
        if unchanged {
            continue;
        }
        let path = f.path.clone();
        let text = actix_rt::task::spawn_blocking(move || read_capped(&path))
            .await
            .map_err(|e| e.to_string())?;
        ops.push(WriteOp::MemoryFile {
            agent: agent.to_owned(),
            file: MemoryFile {
                path: f.rel.clone(),
                mtime_ms: f.mtime_ms,
                size: f.size,
            },
            chunks: chunk(&text),
        });
    }
    for path in indexed.keys() {
        if !on_disk.iter().any(|f| &f.rel == path) {
            ops.push(WriteOp::MemoryForget {
                agent: agent.to_owned(),
                path: path.clone(),
            });
        }
    }
    let changed = ops.len();
    if changed > 0 {
        tracing::debug!(agent, changed, "memory index updated");
        store.commit(ops).await?;
    }
    Ok(changed)
}

fn read_capped(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let cut = bytes.len().min(MAX_FILE_BYTES);
    String::from_utf8_lossy(&bytes[..cut]).into_owned()
}

/// How much of `query` `text` holds: 1 when it holds the whole query, else the share of the
/// query's terms it holds, each weighted by its length.
pub fn score(query: &str, terms: &[String], text: &str) -> f64 {
    let lower = text.to_lowercase();
    let whole = query.trim().to_lowercase();
    if !whole.is_empty() && lower.contains(&whole) {
        return 1.0;
    }
    let weight = |t: &String| t.chars().count() as f64;
    let total: f64 = terms.iter().map(weight).sum();
    if total == 0.0 {
        return 0.0;
    }
    let held: f64 = terms
        .iter()
        .filter(|t| lower.contains(t.as_str()))
        .map(weight)
        .sum();
    held / total
}

/// The part of a chunk to show: from the line of the first term it holds, `SNIPPET_CHARS` at
/// most.
fn snippet(text: &str, terms: &[String]) -> String {
    let lower = text.to_lowercase();
    let from = terms
        .iter()
        .filter_map(|t| lower.find(t.as_str()))
        .min()
        .and_then(|at| {
            // `lower` and `text` can differ in byte length; count lines instead of bytes.
            let line = lower[..at].matches('\n').count();
            text.split_inclusive('\n')
                .take(line)
                .map(str::len)
                .sum::<usize>()
                .into()
        })
        .unwrap_or(0);
    text[from..].chars().take(SNIPPET_CHARS).collect()
}

/// Searches an agent's memory: syncs the index, fetches candidates, ranks them.
pub async fn search(
    store: &StoreHandle,
    agent: &str,
    workspace: &Path,
    extra: &[PathBuf],
    query: &str,
    max_results: usize,
    min_score: f64,
) -> Result<Vec<MemoryHit>, String> {
    sync(store, agent, workspace, extra).await?;
    let terms = terms(query);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let candidates = store
        .memory_candidates(agent, terms.clone(), CANDIDATES)
        .await
        .map_err(|e| e.to_string())?;
    let mut hits: Vec<MemoryHit> = candidates
        .into_iter()
        .map(|c| MemoryHit {
            score: (score(query, &terms, &c.text) * 1000.0).round() / 1000.0,
            snippet: snippet(&c.text, &terms),
            path: c.path,
            start_line: c.start_line,
            end_line: c.end_line,
            source: "memory",
        })
        .filter(|h| h.score >= min_score)
        .collect();
    // Best first; among equals, newer daily notes (later paths) first, then earlier lines.
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.path.cmp(&a.path))
            .then_with(|| a.start_line.cmp(&b.start_line))
    });
    hits.truncate(max_results);
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_weigh_terms_by_length() {
        let q = "北京天气";
        let t = terms(q);
        assert_eq!(score(q, &t, "明天北京天气晴"), 1.0);
        let partial = score(q, &t, "北京下雨，天气冷");
        assert!(partial > 0.35 && partial < 1.0, "{partial}");
        assert_eq!(score(q, &t, "上海"), 0.0);
        let q = "favourite colour";
        assert_eq!(score(q, &terms(q), "My favourite COLOUR is blue"), 1.0);
    }

    #[test]
    fn the_snippet_starts_at_the_matching_line() {
        let text = "first line\nsecond Ärger line\nthird 北京 line";
        assert_eq!(snippet(text, &["北京".into()]), "third 北京 line");
        assert_eq!(snippet(text, &["nothing".into()]), text);
    }
}
