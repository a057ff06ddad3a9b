//! Splitting long replies into DingTalk-sized messages without breaking a code fence.
//!
//! Chunks break at a paragraph, else a line, else a space, else anywhere (counting
//! characters, not bytes). When a break falls inside a fenced code block, the chunk closes the
//! fence and the next chunk reopens it with the same info string, so each message renders on
//! its own.

/// Most messages one reply is split into. A runaway answer (a model repeating itself for a
/// megabyte) would otherwise become hundreds of sends, flooding the chat and the account's
/// send quota; the last chunk says how much was left out.
pub const MAX_CHUNKS: usize = 20;

/// Splits `text` into at most `MAX_CHUNKS` chunks of at most `limit` characters. Linear in
/// the length of `text`: the cursor moves over it once.
pub fn chunk(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(64);
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= limit {
        return vec![text.to_owned()];
    }
    let mut out = Vec::new();
    let mut pos = 0;
    // The fence the previous chunk left open, reopened at the top of the next one.
    let mut open_fence: Option<String> = None;
    while pos < chars.len() {
        let rest = &chars[pos..];
        let prefix = open_fence
            .as_ref()
            .map(|f| format!("{f}\n"))
            .unwrap_or_default();
        let prefix_len = prefix.chars().count();
        if prefix_len + rest.len() <= limit {
            out.push(format!("{prefix}{}", rest.iter().collect::<String>()));
            break;
        }
        let last = out.len() + 1 == MAX_CHUNKS;
        // The note that ends a cut-off answer, sized for the most characters it can name.
        let note_room = if last {
            truncation_note(chars.len()).chars().count()
        } else {
            0
        };
        // Room for the prefix, a closing "\n```" if the chunk ends inside a fence, the note.
        let room = limit.saturating_sub(prefix_len + 4 + note_room).max(1);
        let cut = break_point(&rest[..room.min(rest.len())]);
        let body: String = rest[..cut].iter().collect();
        let fence_after = fence_state(open_fence.clone(), &body);
        let mut piece = format!("{prefix}{}", body.trim_end_matches('\n'));
        if fence_after.is_some() {
            piece.push_str("\n```");
        }
        pos += cut;
        // Leading newlines of the next chunk carry nothing.
        while chars.get(pos) == Some(&'\n') {
            pos += 1;
        }
        if last && pos < chars.len() {
            piece.push_str(&truncation_note(chars.len() - pos));
            out.push(piece);
            break;
        }
        out.push(piece);
        open_fence = fence_after;
    }
    out
}

/// The end of a reply cut at `MAX_CHUNKS`, in both languages.
fn truncation_note(left_out: usize) -> String {
    format!(
        "\n\n…（回答过长，其余 {left_out} 字未发送）(The answer was too long; {left_out} more characters were not sent.)"
    )
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
        let text = "钉".repeat(300);
        let chunks = chunk(&text, 70);
        assert!(chunks.iter().all(|c| c.chars().count() <= 70));
        assert_eq!(chunks.concat(), text);
    }

    /// Found by probing: a megabyte answer became 527 sends, and a long run of newlines made
    /// the chunker quadratic (each newline was removed from the front of a vector).
    #[test]
    fn a_runaway_answer_is_capped_and_split_in_linear_time() {
        let answer = "all work and no play\n".repeat(50_000);
        let chunks = chunk(&answer, 3800);
        assert_eq!(chunks.len(), MAX_CHUNKS);
        assert!(chunks.iter().all(|c| c.chars().count() <= 3800));
        let last = chunks.last().unwrap();
        assert!(
            last.contains("more characters were not sent") && last.contains("未发送"),
            "{last}"
        );
        let started = std::time::Instant::now();
        let newlines = format!("a{}b", "\n".repeat(2_000_000));
        let chunks = chunk(&newlines, 3800);
        assert_eq!(chunks, vec!["a".to_owned(), "b".to_owned()]);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_cut_inside_a_fence_still_closes_it() {
        let code: String = (0..5000).map(|i| format!("let x{i} = {i};\n")).collect();
        let text = format!("```rust\n{code}```");
        let chunks = chunk(&text, 500);
        assert_eq!(chunks.len(), MAX_CHUNKS);
        for c in &chunks {
            assert!(c.chars().count() <= 500, "{}", c.chars().count());
        }
        let last = chunks.last().unwrap();
        let fences = last
            .lines()
            .filter(|l| l.trim_start().starts_with("```"))
            .count();
        assert_eq!(fences % 2, 0, "{last}");
    }
}
