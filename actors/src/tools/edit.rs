//! `edit`: exact replacements in a workspace file. Both of OpenClaw's shapes: 2026.3's
//! `{path, oldText, newText}` (and Claude's `file_path`, `old_string`, `new_string`) and
//! 2026.9's `{path, edits: [{oldText, newText}]}`. Each `oldText` must occur exactly once in
//! the file as it was; edits may not overlap. The answer carries a unified diff.

use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::read::{path_arg, read_text};
use super::workspace::Workspace;
use super::write::write_file;
use super::{Tool, ToolContext, ToolError};

/// The `edit` tool: one exact, unique replacement in a workspace file.
pub struct Edit;

/// The replacements asked for, in either shape.
fn edits(args: &Value) -> Result<Vec<(String, String)>, ToolError> {
    let text = |v: &Value, keys: [&str; 2]| {
        keys.iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .map(str::to_owned)
    };
    if let Some(list) = args.get("edits") {
        let list = list
            .as_array()
            .ok_or_else(|| ToolError::BadArguments("`edits` must be a list".to_owned()))?;
        return list
            .iter()
            .enumerate()
            .map(|(i, e)| {
                match (
                    text(e, ["oldText", "old_string"]),
                    text(e, ["newText", "new_string"]),
                ) {
                    (Some(o), Some(n)) => Ok((o, n)),
                    _ => Err(ToolError::BadArguments(format!(
                        "edits[{i}] needs oldText and newText"
                    ))),
                }
            })
            .collect();
    }
    match (
        text(args, ["oldText", "old_string"]),
        text(args, ["newText", "new_string"]),
    ) {
        (Some(o), Some(n)) => Ok(vec![(o, n)]),
        _ => Err(ToolError::BadArguments(
            "give oldText and newText, or edits: [{oldText, newText}]".to_owned(),
        )),
    }
}

/// Applies the replacements to `original`.
pub(super) fn apply_edits(original: &str, edits: &[(String, String)]) -> Result<String, ToolError> {
    let mut spans = Vec::new();
    for (i, (old, _)) in edits.iter().enumerate() {
        if old.is_empty() {
            return Err(ToolError::BadArguments(format!(
                "edit {i}: oldText is empty"
            )));
        }
        let mut found = original.match_indices(old.as_str());
        let Some((at, _)) = found.next() else {
            return Err(ToolError::Failed(format!(
                "edit {i}: oldText was not found in the file (it must match exactly, spaces and line breaks included; read the file again)"
            )));
        };
        if found.next().is_some() {
            return Err(ToolError::Failed(format!(
                "edit {i}: oldText occurs more than once; include more of the surrounding text"
            )));
        }
        spans.push((at, at + old.len(), i));
    }
    spans.sort();
    for w in spans.windows(2) {
        if w[0].1 > w[1].0 {
            return Err(ToolError::BadArguments(format!(
                "edits {} and {} overlap",
                w[0].2, w[1].2
            )));
        }
    }
    let mut out = String::with_capacity(original.len());
    let mut pos = 0;
    for (start, end, i) in spans {
        out.push_str(&original[pos..start]);
        out.push_str(&edits[i].1);
        pos = end;
    }
    out.push_str(&original[pos..]);
    Ok(out)
}

/// A unified diff of a change, for the model to check its work.
pub(super) fn diff(shown: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{shown}"), &format!("b/{shown}"))
        .to_string()
}

impl Tool for Edit {
    fn name(&self) -> &str {
        "edit"
    }

    fn description(&self) -> &str {
        "Replace exact text in a workspace file: {path, oldText, newText}, or several at once with {path, edits: [{oldText, newText}]}. Each oldText must appear exactly once in the file."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "oldText": {"type": "string"},
                "newText": {"type": "string"},
                "edits": {"type": "array", "items": {"type": "object", "properties": {
                    "oldText": {"type": "string"}, "newText": {"type": "string"}
                }, "required": ["oldText", "newText"]}}
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
            let path = ws.writable(path_arg(&args)?)?;
            let shown = ws.shown(&path);
            let edits = edits(&args)?;
            let before = read_text(&path, &shown)?;
            let after = apply_edits(&before, &edits)?;
            write_file(&path, &after, &shown)?;
            Ok(
                json!({"path": shown, "changed": edits.len(), "diff": diff(&shown, &before, &after)}),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_unique_non_overlapping_replacements() {
        let e = |o: &str, n: &str| (o.to_owned(), n.to_owned());
        assert_eq!(
            apply_edits("a b c", &[e("a", "A"), e("c", "C")]).unwrap(),
            "A b C"
        );
        assert!(apply_edits("a a", &[e("a", "b")]).is_err(), "twice");
        assert!(apply_edits("abc", &[e("x", "y")]).is_err(), "missing");
        assert!(
            apply_edits("abcd", &[e("abc", "1"), e("bcd", "2")]).is_err(),
            "overlap"
        );
        let args = json!({"file_path": "x", "old_string": "a", "new_string": "b"});
        assert_eq!(edits(&args).unwrap(), vec![e("a", "b")]);
        let d = diff("f.md", "one\ntwo\n", "one\n2\n");
        assert!(d.contains("-two") && d.contains("+2"), "{d}");
    }
}
