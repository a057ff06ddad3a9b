//! `apply_patch {input}`: several file changes in one call, in the patch format OpenAI's
//! models are trained on (docs/openclaw-agent.md 2.3):
//!
//! ```text
//! *** Begin Patch
//! *** Add File: notes/new.md
//! +first line
//! *** Update File: README.md
//! *** Move to: docs/README.md
//! @@ ## Install
//!  context line
//! -old line
//! +new line
//! *** Delete File: old.md
//! *** End Patch
//! ```
//!
//! No maintained crate reads this format, so it is read here, line by line; a hunk's old lines
//! must be found in the file (exactly, else ignoring trailing spaces), after the previous hunk.
//! Every change is checked before any file is touched. Confined to the workspace unless
//! `tools.exec.applyPatch.workspaceOnly` is false.

use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::read::read_text;
use super::workspace::Workspace;
use super::write::write_file;
use super::{Tool, ToolContext, ToolError};

/// The `apply_patch` tool: a patch of added, updated and deleted files, inside the workspace.
pub struct ApplyPatch;

/// One file operation of a patch.
#[derive(Debug, PartialEq, Eq)]
enum Op {
    Add {
        path: String,
        lines: Vec<String>,
    },
    Delete {
        path: String,
    },
    Update {
        path: String,
        move_to: Option<String>,
        hunks: Vec<Hunk>,
    },
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Hunk {
    /// The text after `@@`, a line to find before the hunk (a function or heading).
    anchor: Option<String>,
    old: Vec<String>,
    new: Vec<String>,
    /// `*** End of File`: the hunk is at the end.
    at_end: bool,
}

fn bad(line: usize, what: &str) -> ToolError {
    ToolError::BadArguments(format!("patch line {line}: {what}"))
}

/// Reads the patch text into operations.
fn parse(input: &str) -> Result<Vec<Op>, ToolError> {
    let lines: Vec<&str> = input.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "*** Begin Patch")
        .ok_or_else(|| {
            ToolError::BadArguments("the patch must start with *** Begin Patch".to_owned())
        })?;
    let mut ops = Vec::new();
    let mut i = start + 1;
    while i < lines.len() {
        let line = lines[i];
        let n = i + 1;
        if line.trim() == "*** End Patch" {
            return Ok(ops);
        }
        if let Some(path) = line.strip_prefix("*** Add File: ") {
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].starts_with("*** ") {
                let l = lines[i]
                    .strip_prefix('+')
                    .ok_or_else(|| bad(i + 1, "a line of an added file must start with +"))?;
                body.push(l.to_owned());
                i += 1;
            }
            ops.push(Op::Add {
                path: path.trim().to_owned(),
                lines: body,
            });
            continue;
        }
        if let Some(path) = line.strip_prefix("*** Delete File: ") {
            ops.push(Op::Delete {
                path: path.trim().to_owned(),
            });
            i += 1;
            continue;
        }
        if let Some(path) = line.strip_prefix("*** Update File: ") {
            i += 1;
            let mut move_to = None;
            if let Some(to) = lines.get(i).and_then(|l| l.strip_prefix("*** Move to: ")) {
                move_to = Some(to.trim().to_owned());
                i += 1;
            }
            let mut hunks: Vec<Hunk> = Vec::new();
            while i < lines.len() {
                let l = lines[i];
                if l.trim() == "*** End of File" {
                    if let Some(h) = hunks.last_mut() {
                        h.at_end = true;
                    }
                    i += 1;
                    continue;
                }
                if l.starts_with("*** ") {
                    break;
                }
                if let Some(anchor) = l.strip_prefix("@@") {
                    let anchor = anchor.trim();
                    hunks.push(Hunk {
                        anchor: (!anchor.is_empty()).then(|| anchor.to_owned()),
                        ..Hunk::default()
                    });
                    i += 1;
                    continue;
                }
                if hunks.is_empty() {
                    hunks.push(Hunk::default());
                }
                let h = hunks.last_mut().ok_or_else(|| bad(i + 1, "no hunk"))?;
                match l.chars().next() {
                    Some('+') => h.new.push(l[1..].to_owned()),
                    Some('-') => h.old.push(l[1..].to_owned()),
                    Some(' ') => {
                        h.old.push(l[1..].to_owned());
                        h.new.push(l[1..].to_owned());
                    }
                    // An empty line in a hunk is an empty context line.
                    None => {
                        h.old.push(String::new());
                        h.new.push(String::new());
                    }
                    _ => return Err(bad(i + 1, "a hunk line must start with space, - or +")),
                }
                i += 1;
            }
            if hunks.is_empty() && move_to.is_none() {
                return Err(bad(n, "an update with no changes"));
            }
            ops.push(Op::Update {
                path: path.trim().to_owned(),
                move_to,
                hunks,
            });
            continue;
        }
        if line.trim().is_empty() {
            i += 1;
            continue;
        }
        return Err(bad(
            n,
            "expected *** Add File, *** Update File, *** Delete File or *** End Patch",
        ));
    }
    Err(ToolError::BadArguments(
        "the patch must end with *** End Patch".to_owned(),
    ))
}

/// Where `needle` starts in `hay` at or after `from`: exactly, else ignoring trailing spaces.
fn find(hay: &[String], needle: &[String], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(from.min(hay.len()));
    }
    let fits = |i: usize, eq: &dyn Fn(&str, &str) -> bool| {
        needle.iter().enumerate().all(|(k, n)| eq(&hay[i + k], n))
    };
    let last = hay.len().checked_sub(needle.len())?;
    (from..=last)
        .find(|&i| fits(i, &|a, b| a == b))
        .or_else(|| (from..=last).find(|&i| fits(i, &|a, b| a.trim_end() == b.trim_end())))
}

/// The file's new text after `hunks`.
fn apply_hunks(text: &str, hunks: &[Hunk], shown: &str) -> Result<String, ToolError> {
    let trailing_newline = text.ends_with('\n');
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut cursor = 0;
    for (k, h) in hunks.iter().enumerate() {
        if let Some(anchor) = &h.anchor {
            match lines
                .iter()
                .skip(cursor)
                .position(|l| l.trim() == anchor.trim())
            {
                Some(p) => cursor += p + 1,
                None => {
                    return Err(ToolError::Failed(format!(
                        "{shown}: hunk {}: the line \"{anchor}\" after @@ was not found",
                        k + 1
                    )));
                }
            }
        }
        let at = if h.at_end && h.old.is_empty() {
            Some(lines.len())
        } else {
            find(&lines, &h.old, cursor)
        };
        let Some(at) = at else {
            return Err(ToolError::Failed(format!(
                "{shown}: hunk {}: its old lines were not found (read the file again and make the context match exactly)",
                k + 1
            )));
        };
        lines.splice(at..at + h.old.len(), h.new.iter().cloned());
        cursor = at + h.new.len();
    }
    let mut out = lines.join("\n");
    if trailing_newline || text.is_empty() {
        out.push('\n');
    }
    Ok(out)
}

impl Tool for ApplyPatch {
    fn name(&self) -> &str {
        "apply_patch"
    }

    fn description(&self) -> &str {
        "Change several workspace files in one call. input is a patch: *** Begin Patch, then *** Add File: <path> (lines starting with +), *** Update File: <path> (optional *** Move to: <path>, then hunks: @@ [a line to find], context lines starting with a space, removed lines with -, added lines with +), *** Delete File: <path>; and *** End Patch."
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]})
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        Box::pin(async move {
            let input = args
                .get("input")
                .or_else(|| args.get("patch"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ToolError::BadArguments("`input` (the patch text) is required".to_owned())
                })?;
            let ops = parse(input)?;
            let exec = ctx
                .config
                .agents
                .get(&ctx.agent_id)
                .and_then(|a| a.tools.exec.clone())
                .unwrap_or_else(|| ctx.config.tools.exec.clone());
            let ws = Workspace::open(&ctx.workspace, exec.apply_patch_workspace_only, &[])?;
            // Everything is worked out first, so a bad hunk changes nothing.
            let mut writes = Vec::new();
            let mut deletes = Vec::new();
            let mut done = Vec::new();
            for op in &ops {
                match op {
                    Op::Add { path, lines } => {
                        let p = ws.writable(path)?;
                        if p.exists() {
                            return Err(ToolError::Failed(format!(
                                "{path}: already exists (use *** Update File)"
                            )));
                        }
                        let mut text = lines.join("\n");
                        text.push('\n');
                        writes.push((p, text));
                        done.push(format!("added {path}"));
                    }
                    Op::Delete { path } => {
                        let p = ws.writable(path)?;
                        if !p.is_file() {
                            return Err(ToolError::Failed(format!(
                                "{path}: no such file to delete"
                            )));
                        }
                        deletes.push(p);
                        done.push(format!("deleted {path}"));
                    }
                    Op::Update {
                        path,
                        move_to,
                        hunks,
                    } => {
                        let p = ws.writable(path)?;
                        let before = read_text(&p, path)?;
                        let after = apply_hunks(&before, hunks, path)?;
                        match move_to {
                            Some(to) => {
                                writes.push((ws.writable(to)?, after));
                                deletes.push(p);
                                done.push(format!("updated {path} and moved it to {to}"));
                            }
                            None => {
                                writes.push((p, after));
                                done.push(format!("updated {path}"));
                            }
                        }
                    }
                }
            }
            for p in deletes {
                std::fs::remove_file(&p).map_err(|e| {
                    ToolError::Failed(format!("cannot delete {}: {e}", ws.shown(&p)))
                })?;
            }
            for (p, text) in writes {
                write_file(&p, &text, &ws.shown(&p))?;
            }
            Ok(json!({"applied": done}))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_reads_into_operations() {
        let ops = parse(
            "*** Begin Patch\n*** Add File: a.md\n+hello\n*** Update File: b.md\n*** Move to: c.md\n@@ ## Title\n keep\n-old\n+new\n*** Delete File: d.md\n*** End Patch\n",
        )
        .unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(
            ops[0],
            Op::Add {
                path: "a.md".into(),
                lines: vec!["hello".into()]
            }
        );
        let Op::Update { move_to, hunks, .. } = &ops[1] else {
            panic!("{ops:?}")
        };
        assert_eq!(move_to.as_deref(), Some("c.md"));
        assert_eq!(hunks[0].anchor.as_deref(), Some("## Title"));
        assert_eq!(hunks[0].old, vec!["keep", "old"]);
        assert_eq!(hunks[0].new, vec!["keep", "new"]);
        assert!(parse("no patch").is_err());
        assert!(parse("*** Begin Patch\n*** Add File: x\nnot plus\n*** End Patch").is_err());
    }

    #[test]
    fn hunks_apply_in_order_and_misses_are_explained() {
        let text = "# A\nx = 1\n# B\nx = 1\n";
        let hunks =
            parse("*** Begin Patch\n*** Update File: f\n@@ # B\n-x = 1\n+x = 2\n*** End Patch")
                .map(|mut ops| match ops.remove(0) {
                    Op::Update { hunks, .. } => hunks,
                    _ => unreachable!(),
                })
                .unwrap();
        assert_eq!(
            apply_hunks(text, &hunks, "f").unwrap(),
            "# A\nx = 1\n# B\nx = 2\n"
        );
        let missing = vec![Hunk {
            old: vec!["nope".into()],
            new: vec![],
            ..Hunk::default()
        }];
        assert!(
            apply_hunks(text, &missing, "f")
                .unwrap_err()
                .to_string()
                .contains("not found")
        );
    }
}
