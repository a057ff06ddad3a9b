//! `memory_search {query, maxResults?, minScore?}` and `memory_get {path, from?, lines?}`
//! (docs/openclaw-agent.md 2.5): the model looks up what it wrote down before with the
//! file tools in `MEMORY.md` and `memory/*.md`. The index is brought up to date with the files
//! before each search. Offered in private chats only (see `offered`).

use std::path::Path;

use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::read::{path_arg, positive, read_text};
use super::workspace::{Workspace, is_memory_path};
use super::{Tool, ToolContext, ToolError};
use crate::config::{Agent, MemoryConfig};
use crate::store::StoreHandle;

/// Lines `memory_get` returns when the call does not say.
const DEFAULT_LINES: usize = 200;
/// Characters `memory_get` returns at most.
const MAX_CHARS: usize = 20_000;

fn memory_of(ctx: &ToolContext) -> MemoryConfig {
    ctx.config
        .agents
        .get(&ctx.agent_id)
        .map(|a: &Agent| a.memory.clone())
        .unwrap_or_default()
}

/// The `memory_search` tool: chunks of the agent's memory files holding the query's words.
pub struct MemorySearch {
    store: StoreHandle,
}

impl MemorySearch {
    /// The tool, searching the index in `store`.
    pub fn new(store: StoreHandle) -> Self {
        Self { store }
    }
}

impl Tool for MemorySearch {
    fn name(&self) -> &str {
        "memory_search"
    }

    fn description(&self) -> &str {
        "Search your memory (MEMORY.md and memory/*.md in the workspace) before answering about past work, decisions, dates, people, preferences or todos. Returns matching snippets with path and line numbers; use memory_get to read more lines."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "maxResults": {"type": "integer", "minimum": 1},
                "minScore": {"type": "number", "minimum": 0, "maximum": 1}
            },
            "required": ["query"]
        })
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        let store = self.store.clone();
        Box::pin(async move {
            let memory = memory_of(&ctx);
            if !memory.enabled {
                return Ok(
                    json!({"disabled": true, "error": "memory search is turned off for this agent"}),
                );
            }
            let query = args
                .get("query")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .ok_or_else(|| ToolError::BadArguments("`query` is required".to_owned()))?;
            let max = positive(&args, "maxResults")?
                .unwrap_or(memory.max_results)
                .min(50);
            let min_score = match args.get("minScore") {
                None | Some(Value::Null) => memory.min_score,
                Some(v) => v
                    .as_f64()
                    .filter(|s| (0.0..=1.0).contains(s))
                    .ok_or_else(|| {
                        ToolError::BadArguments("`minScore` must be between 0 and 1".to_owned())
                    })?,
            };
            let ws = Workspace::for_call(&ctx)?;
            let hits = crate::memory::search(
                &store,
                &ctx.agent_id,
                ws.root(),
                &memory.extra_paths,
                query,
                max,
                min_score,
            )
            .await
            .map_err(|e| ToolError::Failed(format!("memory search failed: {e}")))?;
            Ok(json!({
                "results": hits,
                "provider": "fts5-trigram",
                "mode": "keyword",
            }))
        })
    }
}

/// The `memory_get` tool: lines of a memory file.
pub struct MemoryGet;

/// Is `rel` a file memory tools may read: a memory file, or one under `extraPaths`?
fn readable_memory(rel: &Path, memory: &MemoryConfig) -> bool {
    is_memory_path(rel) || memory.extra_paths.iter().any(|p| rel.starts_with(p))
}

impl Tool for MemoryGet {
    fn name(&self) -> &str {
        "memory_get"
    }

    fn description(&self) -> &str {
        "Read lines of a memory file (MEMORY.md or memory/*.md), as found by memory_search: path relative to the workspace, from = first line (from 1), lines = how many."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "from": {"type": "integer", "minimum": 1},
                "lines": {"type": "integer", "minimum": 1}
            },
            "required": ["path"]
        })
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        Box::pin(async move {
            let memory = memory_of(&ctx);
            if !memory.enabled {
                return Ok(
                    json!({"disabled": true, "error": "memory is turned off for this agent"}),
                );
            }
            let ws = Workspace::for_call(&ctx)?;
            let raw = path_arg(&args)?;
            let path = ws.readable(raw)?;
            let rel = path
                .strip_prefix(ws.root())
                .map_err(|_| ToolError::Forbidden(format!("\"{raw}\" is not in the workspace")))?;
            if !readable_memory(rel, &memory) {
                return Err(ToolError::Forbidden(format!(
                    "\"{raw}\" is not a memory file (MEMORY.md, memory/*.md); use read for other files"
                )));
            }
            let shown = ws.shown(&path);
            if !path.exists() {
                return Ok(json!({"path": shown, "text": ""}));
            }
            let from = positive(&args, "from")?.unwrap_or(1);
            let lines = positive(&args, "lines")?.unwrap_or(DEFAULT_LINES);
            let text = read_text(&path, &shown)?;
            let mut out: String = text
                .lines()
                .skip(from - 1)
                .take(lines)
                .collect::<Vec<_>>()
                .join("\n");
            if out.chars().count() > MAX_CHARS {
                out = out.chars().take(MAX_CHARS).collect();
                out.push_str("\n[…cut; ask for fewer lines]");
            }
            Ok(json!({"path": shown, "from": from, "text": out}))
        })
    }
}
