//! A guard in front of the JSON5 parser: the parser recurses once per level of nesting, so
//! a file nested a few thousand levels deep would overflow the stack and abort the process
//! instead of failing with an error (found by the config fuzz target). Real configs nest
//! about six levels; anything past `MAX_DEPTH` is refused with the line it happens on.
//!
//! The scan only needs to know which brackets are outside strings and comments, so it
//! follows JSON5's string quotes and escapes and both comment forms, nothing more.

/// Deepest nesting of objects and arrays accepted.
pub const MAX_DEPTH: usize = 64;

/// Fails with a message naming the line where the nesting passes `MAX_DEPTH`.
pub fn check_depth(text: &str) -> Result<(), String> {
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '"' | '\'' => {
                // A string: up to the same quote, skipping escaped characters.
                while let Some(s) = chars.next() {
                    match s {
                        // An escaped line break continues the string on the next line.
                        '\\' if chars.next() == Some('\n') => line += 1,
                        '\n' => line += 1,
                        q if q == c => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for s in chars.by_ref() {
                    if s == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut star = false;
                for s in chars.by_ref() {
                    if s == '\n' {
                        line += 1;
                    }
                    if star && s == '/' {
                        break;
                    }
                    star = s == '*';
                }
            }
            '{' | '[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!(
                        "nested more than {MAX_DEPTH} levels deep (line {line})"
                    ));
                }
            }
            '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Parses JSON5 text, refusing absurd nesting first.
pub fn parse_json5(text: &str) -> Result<serde_json::Value, String> {
    check_depth(text)?;
    json5::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let deep = "[".repeat(100);
        let text = format!(
            "{{ a: \"{deep}\", b: '{deep}', c: 'it\\'s {deep}', // {deep}\n /* {deep} */ d: [[1]] }}"
        );
        assert_eq!(check_depth(&text), Ok(()));
        assert!(parse_json5(&text).is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_with_its_line() {
        let text = format!(
            "{{\n a: {}{}\n}}",
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        let e = parse_json5(&text).unwrap_err();
        assert!(e.contains("64 levels") && e.contains("line 2"), "{e}");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_json5(&ok).is_ok());
    }
}
