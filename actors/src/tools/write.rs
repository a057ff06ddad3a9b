//! `write {path, content}`: creates or replaces a file in the workspace (its folders too).

use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::read::path_arg;
use super::workspace::{MAX_FILE_BYTES, Workspace};
use super::{Tool, ToolContext, ToolError};

/// The `write` tool: creates or overwrites a workspace file.
pub struct Write;

/// Writes `content` to `path`, creating its folders (for the workspace's owner only).
pub(super) fn write_file(
    path: &std::path::Path,
    content: &str,
    shown: &str,
) -> Result<(), ToolError> {
    if content.len() as u64 > MAX_FILE_BYTES {
        return Err(ToolError::BadArguments(format!(
            "the content is {} bytes, more than the {MAX_FILE_BYTES}-byte limit",
            content.len()
        )));
    }
    if let Some(parent) = path.parent() {
        crate::config::create_private_dir(parent).map_err(|e| {
            ToolError::Failed(format!("cannot create the folder of \"{shown}\": {e}"))
        })?;
    }
    if path.is_dir() {
        return Err(ToolError::Failed(format!("\"{shown}\" is a folder")));
    }
    std::fs::write(path, content)
        .map_err(|e| ToolError::Failed(format!("cannot write \"{shown}\": {e}")))
}

impl Tool for Write {
    fn name(&self) -> &str {
        "write"
    }

    fn description(&self) -> &str {
        "Create or overwrite a text file in the workspace with content. path is relative to the workspace; missing folders are created."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"]
        })
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        Box::pin(async move {
            let ws = Workspace::for_call(&ctx)?;
            let path = ws.writable(path_arg(&args)?)?;
            let content = args.get("content").and_then(Value::as_str).ok_or_else(|| {
                ToolError::BadArguments("`content` (a string) is required".to_owned())
            })?;
            let shown = ws.shown(&path);
            write_file(&path, content, &shown)?;
            Ok(json!({"path": shown, "bytes": content.len()}))
        })
    }
}
