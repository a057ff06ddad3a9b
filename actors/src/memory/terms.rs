//! A search query as terms: Latin words and numbers (lower-cased, two characters or more),
//! and for Chinese, Japanese and Korean text, which has no spaces, every two-character run
//! (so "北京天气" gives 北京, 京天, 天气) plus the run itself when it is short.

/// Terms kept from one query.
const MAX_TERMS: usize = 32;

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF   // kana
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified
        | 0xAC00..=0xD7AF // Hangul
        | 0xF900..=0xFAFF // compatibility ideographs
        | 0x20000..=0x2FFFF)
}

fn push(t: String, out: &mut Vec<String>) {
    if !out.contains(&t) && out.len() < MAX_TERMS {
        out.push(t);
    }
}

fn flush_word(word: &mut String, out: &mut Vec<String>) {
    if word.chars().count() >= 2 {
        push(std::mem::take(word), out);
    }
    word.clear();
}

/// A run of CJK characters: the run itself when short, and each pair.
fn flush_run(run: &mut Vec<char>, out: &mut Vec<String>) {
    if (1..=4).contains(&run.len()) {
        push(run.iter().collect(), out);
    }
    for pair in run.windows(2) {
        push(pair.iter().collect(), out);
    }
    run.clear();
}

/// The distinct terms of `query`, in order.
pub fn terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut run: Vec<char> = Vec::new();
    for c in query.to_lowercase().chars() {
        if is_cjk(c) {
            flush_word(&mut word, &mut out);
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_run(&mut run, &mut out);
            word.push(c);
        } else {
            flush_word(&mut word, &mut out);
            flush_run(&mut run, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_run(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_words_and_chinese_pairs() {
        assert_eq!(
            terms("Deploy on Friday, a B"),
            vec!["deploy", "on", "friday"]
        );
        assert_eq!(terms("北京天气"), vec!["北京天气", "北京", "京天", "天气"]);
        assert_eq!(terms("我的 API key 是"), vec!["我的", "api", "key", "是"]);
        assert!(terms("   ,.!").is_empty());
        assert_eq!(terms(&"字".repeat(100)).len(), 1, "duplicates merge");
    }
}
