//! Message bodies (flow 30) are a small markdown subset, rendered here to HTML that is safe to put
//! in a page: paragraphs, emphasis, strong, strikethrough, code, lists, quotes, headings and
//! links. Raw HTML in a body is shown as the text it is (escaped), never passed through; a link
//! keeps its target only when it is `http(s)`, `mailto` or a path of this site (anything else,
//! `javascript:` included, becomes plain text); an image is shown as its description, so a
//! message never loads anything.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

/// Whether a link target is safe to keep.
fn safe_url(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("https://")
        || u.starts_with("http://")
        || u.starts_with("mailto:")
        || (u.starts_with('/') && !u.starts_with("//"))
        || u.starts_with('#')
}

/// Renders a message body to safe HTML.
pub fn render(body: &str) -> String {
    let mut dropped_link = false;
    let events = Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH).filter_map(|e| match e {
        // A block of raw HTML is shown as a paragraph of its text.
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::Paragraph)),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::Paragraph)),
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { ref dest_url, .. }) if !safe_url(dest_url) => {
            dropped_link = true;
            None
        }
        Event::End(TagEnd::Link) if dropped_link => {
            dropped_link = false;
            None
        }
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Table(_) | Tag::FootnoteDefinition(_) | Tag::MetadataBlock(_)) => None,
        other => Some(other),
    });
    let mut out = String::with_capacity(body.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn the_subset_renders() {
        assert_eq!(
            render("Hi **there**, _see_ `x` and [the docs](https://example.com/a?b=1&c=2)"),
            "<p>Hi <strong>there</strong>, <em>see</em> <code>x</code> and \
             <a href=\"https://example.com/a?b=1&amp;c=2\">the docs</a></p>\n"
        );
        assert_eq!(render("- a\n- b"), "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n");
    }

    /// Every tag in `out` is one of the subset's, and its only attributes are a safe link
    /// target, a code block's language class, or a list's start number.
    fn assert_only_safe_tags(input: &str, out: &str) {
        const TAGS: &[&str] = &[
            "p",
            "strong",
            "em",
            "code",
            "a",
            "ul",
            "ol",
            "li",
            "blockquote",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "pre",
            "del",
            "br",
            "hr",
        ];
        for tag in out.split('<').skip(1) {
            let tag = &tag[..tag
                .find('>')
                .unwrap_or_else(|| panic!("{input:?}: {out:?}"))];
            let tag = tag.trim_start_matches('/').trim_end_matches('/').trim();
            let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            assert!(
                TAGS.contains(&name),
                "{input:?} rendered tag {name:?}: {out:?}"
            );
            // `name="value"` pairs; a value never holds a raw quote (the renderer escapes it).
            let mut pairs = Vec::new();
            let mut rest = attrs.trim();
            while !rest.is_empty() {
                let (name, after) = rest
                    .split_once("=\"")
                    .unwrap_or_else(|| panic!("{input:?}: attributes {attrs:?}"));
                let (value, after) = after
                    .split_once('"')
                    .unwrap_or_else(|| panic!("{input:?}: attributes {attrs:?}"));
                pairs.push((name.trim(), value));
                rest = after.trim_start();
            }
            let ok = pairs.iter().all(|&(attr, value)| match (name, attr) {
                ("a", "href") => {
                    ["https://", "http://", "mailto:"]
                        .iter()
                        .any(|p| value.starts_with(p))
                        || (value.starts_with('/') && !value.starts_with("//"))
                }
                ("a", "title") => true,
                ("code", "class") => value.starts_with("language-"),
                ("ol", "start") => value.chars().all(|c| c.is_ascii_digit()),
                _ => false,
            });
            assert!(ok, "{input:?} rendered attributes {attrs:?}: {out:?}");
        }
    }

    #[test]
    fn hostile_input_is_inert() {
        let cases = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "hello <b onmouseover=alert(1)>x</b>",
            "[click](javascript:alert(1))",
            "[click](JAVASCRIPT:alert(1))",
            "[click]( javascript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "![pic](https://evil.example/x.png)",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=//evil.example></iframe>",
            "[x](//evil.example)",
            "<svg/onload=alert(1)>",
            "```\n</code><script>alert(1)</script>\n```",
            "[a](https://x.example \"t\\\" onmouseover=\\\"alert(1)\")",
        ];
        for c in cases {
            let out = render(c);
            assert_only_safe_tags(c, &out);
        }
        assert_eq!(
            render("<script>alert(1)</script>").trim_end(),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
        );
        assert_eq!(
            render("see <b>this</b> **now**"),
            "<p>see &lt;b&gt;this&lt;/b&gt; <strong>now</strong></p>\n"
        );
        assert_eq!(
            render("![a cat](https://x.example/c.png)"),
            "<p>a cat</p>\n"
        );
        assert_eq!(render("[click](javascript:alert(1))"), "<p>click</p>\n");
    }
}
