//! The text of a document, for the model: plain text and source code in any charset
//! (`charset::decode`), Markdown, CSV and JSON as they are, PDF (`pdf-extract`), DOCX (its
//! `word/document.xml`, read with `zip` and `quick-xml`), and spreadsheets (`calamine`: XLSX,
//! XLS, ODS). Capped in characters, pages, sheets and rows, so one upload cannot fill a
//! model's context. Parsing runs on a blocking thread (a PDF can take a while) and a parser
//! that panics on a broken file is an error, not a crash.

use std::io::{Cursor, Read};

use calamine::Reader;

use super::sniff::Sniffed;

/// Characters of one document given to the model.
pub const MAX_EXTRACT_CHARS: usize = 50_000;
/// PDF pages read.
pub const MAX_PDF_PAGES: usize = 50;
/// Spreadsheet sheets and rows per sheet read.
pub const MAX_SHEETS: usize = 10;
/// Rows read per sheet.
pub const MAX_ROWS: usize = 2_000;

/// A document's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extracted {
    /// The text, within the caps.
    pub text: String,
    /// Some of it was left out (a cap).
    pub truncated: bool,
}

fn capped(text: String, extra_truncated: bool) -> Extracted {
    let n = text.chars().count();
    if n <= MAX_EXTRACT_CHARS {
        return Extracted {
            text,
            truncated: extra_truncated,
        };
    }
    Extracted {
        text: text.chars().take(MAX_EXTRACT_CHARS).collect(),
        truncated: true,
    }
}

fn pdf(bytes: &[u8]) -> Result<Extracted, String> {
    let pages = pdf_extract::extract_text_from_mem_by_pages(bytes).map_err(|e| e.to_string())?;
    let more = pages.len() > MAX_PDF_PAGES;
    let text: Vec<String> = pages
        .into_iter()
        .take(MAX_PDF_PAGES)
        .enumerate()
        .map(|(i, p)| format!("--- page {} ---\n{}", i + 1, p.trim()))
        .collect();
    let text = text.join("\n");
    if text
        .lines()
        .filter(|l| !l.starts_with("--- page"))
        .all(|l| l.trim().is_empty())
    {
        return Err("the PDF has no text layer (a scan?)".to_owned());
    }
    Ok(capped(text, more))
}

fn docx(bytes: &[u8]) -> Result<Extracted, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .map_err(|e| format!("not a Word document: {e}"))?
        .take(64 * 1024 * 1024)
        .read_to_string(&mut xml)
        .map_err(|e| e.to_string())?;
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut out = String::new();
    let mut in_text = false;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) if e.name().as_ref() == b"w:t" => in_text = true,
            Ok(quick_xml::events::Event::End(e)) => match e.name().as_ref() {
                b"w:t" => in_text = false,
                b"w:p" => out.push('\n'),
                _ => {}
            },
            Ok(quick_xml::events::Event::Empty(e)) => match e.name().as_ref() {
                b"w:tab" => out.push('\t'),
                b"w:br" => out.push('\n'),
                _ => {}
            },
            Ok(quick_xml::events::Event::Text(t)) if in_text => {
                out.push_str(&t.unescape().map_err(|e| e.to_string())?);
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Err(e) => return Err(format!("document.xml: {e}")),
            _ => {}
        }
        if out.len() > MAX_EXTRACT_CHARS * 4 {
            return Ok(capped(out, true));
        }
    }
    Ok(capped(out, false))
}

fn sheets(bytes: &[u8]) -> Result<Extracted, String> {
    let mut book =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let names = book.sheet_names().to_vec();
    let mut out = String::new();
    let mut truncated = names.len() > MAX_SHEETS;
    for name in names.iter().take(MAX_SHEETS) {
        let range = book.worksheet_range(name).map_err(|e| e.to_string())?;
        out.push_str(&format!("## {name}\n"));
        for (i, row) in range.rows().enumerate() {
            if i >= MAX_ROWS {
                truncated = true;
                break;
            }
            let cells: Vec<String> = row.iter().map(|c| c.to_string()).collect();
            out.push_str(&cells.join("\t"));
            out.push('\n');
        }
    }
    Ok(capped(out, truncated))
}

/// Extracts the text of `bytes` (already sniffed).
fn extract_now(sniffed: &Sniffed, bytes: &[u8]) -> Result<Extracted, String> {
    match sniffed.mime.as_str() {
        "application/pdf" => pdf(bytes),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => docx(bytes),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.ms-excel"
        | "application/vnd.oasis.opendocument.spreadsheet" => sheets(bytes),
        "application/msword" => Err("old .doc files cannot be read; save it as .docx".to_owned()),
        m if m.starts_with("text/") || m == "application/json" => {
            Ok(capped(crate::charset::decode(None, bytes), false))
        }
        other => Err(format!("{other} is not a document dingclaw reads")),
    }
}

/// Extracts on a blocking thread; a panicking parser is an error.
pub async fn extract(
    sniffed: Sniffed,
    bytes: std::sync::Arc<Vec<u8>>,
) -> Result<Extracted, String> {
    actix_rt::task::spawn_blocking(move || {
        std::panic::catch_unwind(|| extract_now(&sniffed, &bytes))
            .unwrap_or_else(|_| Err("the file could not be parsed".to_owned()))
    })
    .await
    .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::sniff::sniff;

    fn docx_bytes(paragraphs: &[&str]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("word/document.xml", opts).unwrap();
        let body: String = paragraphs
            .iter()
            .map(|p| format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>"))
            .collect();
        std::io::Write::write_all(
            &mut zip,
            format!(r#"<?xml version="1.0"?><w:document xmlns:w="w"><w:body>{body}</w:body></w:document>"#).as_bytes(),
        )
        .unwrap();
        zip.finish().unwrap();
        buf.into_inner()
    }

    #[test]
    fn docx_text_and_gbk_text() {
        let bytes = docx_bytes(&["季度报告", "收入 &amp; 支出"]);
        let s = sniff("report.docx", &bytes);
        let e = extract_now(&s, &bytes).unwrap();
        assert_eq!(e.text, "季度报告\n收入 & 支出\n");
        let (gbk, _, _) =
            encoding_rs::GBK.encode("会议纪要：周四下午三点在二楼会议室开会，请准时参加。");
        let s = sniff("minutes.txt", &gbk);
        assert!(extract_now(&s, &gbk).unwrap().text.starts_with("会议纪要"));
        let long = "x".repeat(MAX_EXTRACT_CHARS + 10);
        let e = extract_now(&sniff("a.txt", long.as_bytes()), long.as_bytes()).unwrap();
        assert!(e.truncated && e.text.chars().count() == MAX_EXTRACT_CHARS);
        assert!(extract_now(&sniff("x.pdf", b"%PDF-1.4 broken"), b"%PDF-1.4 broken").is_err());
    }
}
