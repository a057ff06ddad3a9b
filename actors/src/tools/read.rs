//! `read {path, offset?, limit?}`: a text file from the workspace (or a skill's folder), at
//! most 2000 lines or 50 KB per call, with a note on how to read on (OpenClaw's limits,
//! docs/openclaw-agent.md 2.3).

use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::workspace::{MAX_FILE_BYTES, Workspace};
use super::{Tool, ToolContext, ToolError};

/// Lines returned per call.
pub const MAX_LINES: usize = 2000;
/// Bytes returned per call.
pub const MAX_BYTES: usize = 51_200;

/// The `read` tool: lines of a workspace file (or a skill's), bounded.
pub struct Read;

/// A file's text, or why it is not text.
pub(super) fn read_text(path: &std::path::Path, shown: &str) -> Result<String, ToolError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| ToolError::Failed(format!("cannot read \"{shown}\": {e}")))?;
    if meta.is_dir() {
        return Err(ToolError::Failed(format!("\"{shown}\" is a folder")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(ToolError::Failed(format!(
            "\"{shown}\" is {} bytes, more than the {MAX_FILE_BYTES}-byte limit",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| ToolError::Failed(format!("cannot read \"{shown}\": {e}")))?;
    if bytes.iter().take(8192).any(|b| *b == 0) {
        return Err(ToolError::Failed(format!(
            "\"{shown}\" is a binary file, not text"
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| ToolError::Failed(format!("\"{shown}\" is not UTF-8 text")))
}

/// `value` as a positive whole number, if given.
pub(super) fn positive(args: &Value, key: &str) -> Result<Option<usize>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .filter(|n| *n >= 1)
            .map(|n| Some(n as usize))
            .ok_or_else(|| {
                ToolError::BadArguments(format!("`{key}` must be a whole number from 1"))
            }),
    }
}

/// The `path` argument (Claude-style `file_path` accepted too).
pub(super) fn path_arg(args: &Value) -> Result<&str, ToolError> {
    args.get("path")
        .or_else(|| args.get("file_path"))
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError::BadArguments("`path` is required".to_owned()))
}

impl Tool for Read {
    fn name(&self) -> &str {
        "read"
    }

    fn description(&self) -> &str {
        "Read a text file from the workspace (or a skill's SKILL.md). path is relative to the workspace; offset is the first line (from 1) and limit the number of lines. At most 2000 lines or 50 KB per call; the answer says how to read on."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "offset": {"type": "integer", "minimum": 1},
                "limit": {"type": "integer", "minimum": 1}
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
            let ws = Workspace::for_call(&ctx)?;
            let path = ws.readable(path_arg(&args)?)?;
            let shown = ws.shown(&path);
            let offset = positive(&args, "offset")?.unwrap_or(1);
            let limit = positive(&args, "limit")?
                .unwrap_or(MAX_LINES)
                .min(MAX_LINES);
            let text = read_text(&path, &shown)?;
            let total = text.lines().count();
            let mut out = String::new();
            let mut last = offset.saturating_sub(1);
            for (i, line) in text.lines().enumerate().skip(offset - 1).take(limit) {
                if out.len() + line.len() + 1 > MAX_BYTES {
                    break;
                }
                out.push_str(line);
                out.push('\n');
                last = i + 1;
            }
            let mut answer = json!({
                "path": shown,
                "content": out,
                "startLine": offset,
                "endLine": last,
                "totalLines": total,
            });
            if last < total {
                answer["truncated"] = json!(true);
                answer["next"] = json!(format!("call read with offset {} to go on", last + 1));
            }
            Ok(answer)
        })
    }
}
