//! Splitting long replies into DingTalk-sized messages without breaking a code fence.
//!
//! Chunks break at a paragraph, else a line, else a space, else anywhere (counting
//! characters, not bytes). When a break falls inside a fenced code block, the chunk closes the
//! fence and the next chunk reopens it with the same info string, so each message renders on
//! its own.

/// Splits `text` into chunks of at most `limit` characters.
pub fn chunk(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(16);
    if text.chars().count() <= limit {
        return vec![text.to_owned()];
    }
    let mut out = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    // The fence the previous chunk left open, reopened at the top of the next one.
    let mut open_fence: Option<String> = None;
    while !rest.is_empty() {
        let prefix = open_fence
            .as_ref()
            .map(|f| format!("{f}\n"))
            .unwrap_or_default();
        let prefix_len = prefix.chars().count();
        // Room for the prefix and a closing "\n```" if the chunk ends inside a fence.
        let room = limit.saturating_sub(prefix_len + 4).max(1);
        if prefix_len + rest.len() <= limit {
            out.push(format!("{prefix}{}", rest.iter().collect::<String>()));
            break;
        }
        let cut = break_point(&rest[..room.min(rest.len())]);
        let body: String = rest[..cut].iter().collect();
        let fence_after = fence_state(open_fence.clone(), &body);
        let mut piece = format!("{prefix}{}", body.trim_end_matches('\n'));
        if fence_after.is_some() {
            piece.push_str("\n```");
        }
        out.push(piece);
        rest.drain(..cut);
        // Leading newlines of the next chunk carry nothing.
        while rest.first() == Some(&'\n') {
            rest.remove(0);
        }
        open_fence = fence_after;
    }
    out
}

/// Where to cut a window of characters: after the last blank line, else the last newline,
/// else the last space, else at the end.
fn break_point(window: &[char]) -> usize {
    let s: String = window.iter().collect();
    let min = window.len() / 2;
    let to_chars = |byte_idx: usize| s[..byte_idx].chars().count();
    if let Some(i) = s
        .rfind("\n\n")
        .map(|b| to_chars(b) + 2)
        .filter(|&c| c > min)
    {
        return i;
    }
    if let Some(i) = s.rfind('\n').map(|b| to_chars(b) + 1).filter(|&c| c > min) {
        return i;
    }
    if let Some(i) = s.rfind(' ').map(|b| to_chars(b) + 1).filter(|&c| c > min) {
        return i;
    }
    window.len()
}

/// The fence open after `body`, given the one open before it. A fence line starts with
/// three backticks; its info string (`rust`, `json`, ...) is kept so it can be reopened.
fn fence_state(mut open: Option<String>, body: &str) -> Option<String> {
    for line in body.lines() {
        let t = line.trim_start();
        if let Some(info) = t.strip_prefix("```") {
            open = match open {
                Some(_) => None,
                None => Some(format!("```{}", info.trim())),
            };
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_chunk() {
        assert_eq!(chunk("hello", 3800), vec!["hello"]);
    }

    #[test]
    fn chunks_respect_the_limit_and_keep_all_text() {
        let para = "word ".repeat(40);
        let text = format!("{para}\n\n{para}\n\n{para}");
        let chunks = chunk(&text, 120);
        assert!(chunks.len() > 2);
        for c in &chunks {
            assert!(c.chars().count() <= 120, "{} chars", c.chars().count());
        }
        let joined: String = chunks
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let want: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(joined, want);
    }

    #[test]
    fn code_fences_are_closed_and_reopened() {
        let code: String = (0..40).map(|i| format!("let x{i} = {i};\n")).collect();
        let text = format!("Here is code:\n\n```rust\n{code}```\n\nDone.");
        let chunks = chunk(&text, 200);
        assert!(chunks.len() > 2);
        for c in &chunks {
            assert!(c.chars().count() <= 200);
            let fences = c
                .lines()
                .filter(|l| l.trim_start().starts_with("```"))
                .count();
            assert_eq!(fences % 2, 0, "every chunk has balanced fences:\n{c}");
        }
        assert!(chunks[1].starts_with("```rust\n"), "{}", chunks[1]);
    }

    #[test]
    fn counts_characters_not_bytes() {
        let text = "钉".repeat(100);
        let chunks = chunk(&text, 30);
        assert!(chunks.iter().all(|c| c.chars().count() <= 30));
        assert_eq!(chunks.concat(), text);
    }
}
