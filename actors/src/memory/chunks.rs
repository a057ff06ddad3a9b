//! Cutting a memory file into overlapping runs of whole lines. OpenClaw chunks by 400 tokens
//! with 80 of overlap; dingclaw has no tokenizer for every model, so it counts characters
//! (about four per English token; Chinese runs closer to one or two, so Chinese chunks hold
//! fewer words, which suits a keyword search).

use crate::store::MemoryChunk;

/// Characters per chunk, about 400 tokens.
pub const CHUNK_CHARS: usize = 1_600;

/// Characters of the previous chunk repeated at the start of the next, about 80 tokens.
pub const CHUNK_OVERLAP: usize = 320;

/// Chunks of `text`, whole lines each (a line longer than a chunk is one chunk by itself).
pub fn chunk(text: &str) -> Vec<MemoryChunk> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < lines.len() {
        let mut end = start;
        let mut chars = 0;
        while end < lines.len()
            && (end == start || chars + lines[end].chars().count() < CHUNK_CHARS)
        {
            chars += lines[end].chars().count() + 1;
            end += 1;
        }
        let body = lines[start..end].join("\n");
        if !body.trim().is_empty() {
            out.push(MemoryChunk {
                start_line: start as u32 + 1,
                end_line: end as u32,
                text: body,
            });
        }
        if end >= lines.len() {
            break;
        }
        // Step back over whole lines worth about CHUNK_OVERLAP characters, always moving on.
        let mut back = end;
        let mut overlap = 0;
        while back > start + 1 && overlap + lines[back - 1].chars().count() < CHUNK_OVERLAP {
            back -= 1;
            overlap += lines[back].chars().count() + 1;
        }
        start = back;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_whole_lines_that_overlap_and_cover_everything() {
        let text: String = (1..=200)
            .map(|i| format!("line {i:03} {}\n", "x".repeat(30)))
            .collect();
        let chunks = chunk(&text);
        assert!(chunks.len() > 3);
        assert_eq!(chunks[0].start_line, 1);
        assert_eq!(chunks.last().unwrap().end_line, 200);
        for w in chunks.windows(2) {
            assert!(w[1].start_line <= w[0].end_line, "chunks overlap");
            assert!(w[1].start_line > w[0].start_line, "and move on");
        }
        assert!(
            chunks
                .iter()
                .all(|c| c.text.chars().count() <= CHUNK_CHARS + 40)
        );
    }

    #[test]
    fn a_long_line_is_its_own_chunk_and_blank_files_have_none() {
        let long = "长".repeat(5_000);
        let chunks = chunk(&format!("a\n{long}\nb"));
        assert!(chunks.iter().any(|c| c.text == long));
        assert!(chunk("\n\n  \n").is_empty());
    }
}
