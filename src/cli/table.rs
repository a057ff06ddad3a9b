//! Plain-text tables for the command line, padded by display width: a CJK character takes two
//! columns in a terminal, so padding by characters (or bytes) misaligns Chinese names.

use unicode_width::UnicodeWidthStr;

/// The table as lines: each column as wide as its widest cell, two spaces between columns,
/// no trailing spaces.
pub fn render<R: AsRef<[String]>>(header: &[&str], rows: &[R]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row.as_ref()) {
            *w = (*w).max(c.width());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (c, w) in cells.zip(&widths) {
            l.push_str(c);
            l.push_str(&" ".repeat(w.saturating_sub(c.width()) + 2));
        }
        format!("{}\n", l.trim_end())
    };
    let mut out = line(&mut header.iter().copied());
    for row in rows {
        out.push_str(&line(&mut row.as_ref().iter().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_by_display_width() {
        let rows = vec![
            vec!["a1".to_owned(), "北京天气".to_owned(), "ok".to_owned()],
            vec!["b22".to_owned(), "weather".to_owned(), "error".to_owned()],
        ];
        let out = render(&["ID", "NAME", "LAST"], &rows);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "ID   NAME      LAST");
        assert_eq!(lines[1], "a1   北京天气  ok");
        assert_eq!(lines[2], "b22  weather   error");
        // The third column starts at the same display column on every line.
        let col = |l: &str, cell: &str| l[..l.find(cell).unwrap()].width();
        assert_eq!(col(lines[1], "ok"), col(lines[2], "error"));
    }
}
