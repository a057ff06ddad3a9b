//! Markdown as the web page shows an agent's answer: DingTalk renders markdown replies, so the
//! page does too, or its preview would lie. pulldown-cmark turns it into HTML and ammonia
//! keeps only harmless markup; raw HTML in a message is shown as text, never interpreted, and
//! pictures are left out (a remote picture would tell its server who reads the page).

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, html};

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.rm_tags(["img"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .set_tag_attribute_value("a", "target", "_blank");
    b
});

/// Safe HTML for `text`, read as CommonMark with tables, strikethrough and task lists.
pub fn to_safe_html(text: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    // Raw HTML becomes text before rendering: a message shows what was written.
    let events = Parser::new_ext(text, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut out = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut out, events);
    CLEANER.clean(&out).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_script_stays_text() {
        let html = to_safe_html(
            "**北京** 晴\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>alert(1)</script>",
        );
        assert!(html.contains("<strong>北京</strong>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn links_are_kept_safe_and_pictures_dropped() {
        let html = to_safe_html(
            "[ok](https://example.com) [bad](javascript:alert(1)) ![x](https://tracker.example/p.png) <img src=x onerror=alert(1)>",
        );
        assert!(html.contains(r#"href="https://example.com""#), "{html}");
        assert!(html.contains("noopener"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;img"), "{html}");
    }
}
