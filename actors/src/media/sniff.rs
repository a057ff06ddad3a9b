//! What a file is, from its first bytes (`infer`), then from its name, then from whether it
//! reads as text. DingTalk's names and types are not trusted: a picture is whatever the bytes
//! say.

use super::attachment::AttachmentKind;

/// A file's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sniffed {
    /// Its media type.
    pub mime: String,
    /// How the gateway treats it.
    pub kind: AttachmentKind,
}

/// Extensions read as text.
const TEXT_EXTENSIONS: &[&str] = &[
    "txt",
    "md",
    "markdown",
    "csv",
    "tsv",
    "json",
    "jsonl",
    "yaml",
    "yml",
    "toml",
    "ini",
    "log",
    "xml",
    "html",
    "htm",
    "rs",
    "py",
    "js",
    "ts",
    "tsx",
    "jsx",
    "java",
    "go",
    "c",
    "h",
    "cpp",
    "hpp",
    "cs",
    "rb",
    "php",
    "sh",
    "sql",
    "kt",
    "swift",
    "scala",
    "lua",
    "r",
    "vue",
    "css",
    "scss",
    "conf",
    "properties",
    "srt",
];

fn extension(name: &str) -> Option<String> {
    name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())
}

/// The type of `bytes` named `name`.
pub fn sniff(name: &str, bytes: &[u8]) -> Sniffed {
    let ext = extension(name);
    if let Some(t) = infer::get(bytes) {
        let mime = t.mime_type().to_owned();
        let kind = match t.matcher_type() {
            infer::MatcherType::Image => AttachmentKind::Image,
            infer::MatcherType::Audio => AttachmentKind::Audio,
            infer::MatcherType::Video => AttachmentKind::Video,
            infer::MatcherType::Doc => AttachmentKind::Document,
            // A .docx or .xlsx is a zip archive to `infer` unless it looks inside.
            infer::MatcherType::Archive
                if matches!(ext.as_deref(), Some("docx" | "xlsx" | "xlsm" | "ods")) =>
            {
                return by_extension(ext.as_deref(), bytes);
            }
            _ if mime == "application/pdf" => AttachmentKind::Document,
            _ => AttachmentKind::Other,
        };
        return Sniffed { mime, kind };
    }
    by_extension(ext.as_deref(), bytes)
}

fn by_extension(ext: Option<&str>, bytes: &[u8]) -> Sniffed {
    let doc = |mime: &str| Sniffed {
        mime: mime.to_owned(),
        kind: AttachmentKind::Document,
    };
    match ext {
        Some("docx") => {
            doc("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        }
        Some("xlsx" | "xlsm") => {
            doc("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        }
        Some("ods") => doc("application/vnd.oasis.opendocument.spreadsheet"),
        Some("xls") => doc("application/vnd.ms-excel"),
        Some("md" | "markdown") => doc("text/markdown"),
        Some("csv") => doc("text/csv"),
        Some("json" | "jsonl") => doc("application/json"),
        Some(e) if TEXT_EXTENSIONS.contains(&e) => doc("text/plain"),
        _ if !bytes.is_empty() && !bytes.iter().take(8192).any(|b| *b == 0) => doc("text/plain"),
        _ => Sniffed {
            mime: "application/octet-stream".to_owned(),
            kind: AttachmentKind::Other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_decide_then_names_then_text() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff("photo.pdf", png).kind, AttachmentKind::Image);
        assert_eq!(sniff("x", b"%PDF-1.7\n").mime, "application/pdf");
        assert_eq!(sniff("a.csv", b"a,b\n1,2\n").mime, "text/csv");
        assert_eq!(
            sniff("notes", "北京".as_bytes()).kind,
            AttachmentKind::Document
        );
        assert_eq!(
            sniff("blob.bin", &[0u8, 1, 2, 0]).kind,
            AttachmentKind::Other
        );
    }
}
