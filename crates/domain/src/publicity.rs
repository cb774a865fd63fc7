//! The zone's publicity section (典型案例、政策法规、通知公告): articles written in Markdown by
//! zone officers and rendered safely.
//!
//! Raw HTML in the Markdown is not passed through: it is shown as text. Link and image
//! targets are kept only when they are relative or use `http`, `https` or `mailto`, so no
//! `javascript:` or `data:` URL reaches a page. This is why no HTML sanitiser is needed:
//! the renderer never emits markup the author wrote.

use crate::error::{Collector, FieldError, Invalid};
use crate::org::string_enum;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};

string_enum! {
    /// What an article is.
    ArticleKind {
        Case = "case", "典型案例", "Case";
        Regulation = "regulation", "政策法规", "Regulation";
        Notice = "notice", "通知公告", "Notice";
    }
}

/// A checked article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleContent {
    pub kind: ArticleKind,
    pub title: String,
    pub body_md: String,
}

/// The longest article body accepted (characters).
pub const MAX_BODY: usize = 50_000;

impl ArticleContent {
    /// Checks an article as submitted.
    pub fn parse(kind: &str, title: &str, body: &str) -> Result<ArticleContent, Invalid> {
        let mut c = Collector::default();
        let kind = match ArticleKind::from_code(kind) {
            Some(k) => Some(k),
            None => {
                c.push(FieldError::new(
                    "kind",
                    "unknown_kind",
                    format!("栏目 `{kind}` 不存在：应为 case、regulation 或 notice"),
                    format!("section `{kind}` does not exist: use case, regulation or notice"),
                ));
                None
            }
        };
        let title = title.trim();
        let n = title.chars().count();
        if n == 0 {
            c.push(FieldError::required("title"));
        } else if n > 120 {
            c.push(FieldError::new(
                "title",
                "length",
                "标题最多 120 个字符",
                "the title is at most 120 characters",
            ));
        }
        let body = body.trim();
        let m = body.chars().count();
        if m == 0 {
            c.push(FieldError::required("body_md"));
        } else if m > MAX_BODY {
            c.push(FieldError::new(
                "body_md",
                "length",
                format!("正文最多 {MAX_BODY} 个字符（现为 {m} 个）"),
                format!("the body is at most {MAX_BODY} characters (it is {m})"),
            ));
        }
        c.finish()?;
        Ok(ArticleContent {
            kind: kind.unwrap_or(ArticleKind::Notice),
            title: title.to_owned(),
            body_md: body.to_owned(),
        })
    }
}

fn safe_url(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    let scheme_end = u.find([':', '/', '?', '#']);
    match scheme_end {
        Some(i) if u.as_bytes().get(i) == Some(&b':') => {
            let scheme = u.get(..i).unwrap_or_default();
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    }
}

/// Renders Markdown to HTML that carries no author-written markup and no unsafe URL.
pub fn render_markdown(md: &str) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let events = Parser::new_ext(md, opts).map(|ev| match ev {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe_url(&dest_url) => {
            Event::Start(Tag::Link { link_type, dest_url: CowStr::Borrowed("#"), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) if !safe_url(&dest_url) => {
            Event::Start(Tag::Image { link_type, dest_url: CowStr::Borrowed("#"), title, id })
        }
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// A publicity article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub id: String,
    pub kind: ArticleKind,
    pub title: String,
    pub body_md: String,
    /// `draft` or `published`.
    pub status: String,
    pub author: String,
    pub author_name: String,
    pub created_at_us: i64,
    pub updated_at_us: i64,
    pub published_at_us: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_script_does_not() {
        let html = render_markdown(
            "# 标题\n\n**重点** [链接](https://example.cn)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(html.contains("<h1>标题</h1>"), "{html}");
        assert!(html.contains("<strong>重点</strong>"));
        assert!(html.contains("href=\"https://example.cn\""));
        assert!(html.contains("<table>"));
        let evil = render_markdown(
            "<script>alert(1)</script>\n\nx <img src=x onerror=alert(1)> [a](javascript:alert(1)) \
             [b](JaVaScRiPt:alert(1)) ![c](data:text/html;base64,xx) <a href=\"javascript:x\">d</a>",
        );
        assert!(!evil.contains("<script"), "{evil}");
        assert!(!evil.contains("<img src=x"), "{evil}");
        assert!(!evil.contains("<a href=\"javascript"), "{evil}");
        assert_eq!(evil.matches("<a href=").count(), evil.matches("<a href=\"#\"").count(), "{evil}");
        assert!(!evil.contains("src=\"data:"), "{evil}");
        assert!(evil.contains("&lt;script&gt;"), "{evil}");
    }

    #[test]
    fn articles_are_checked() {
        assert!(ArticleContent::parse("case", "案例", "正文").is_ok());
        let e = ArticleContent::parse("blog", "", "").err().map(|e| e.0.len());
        assert_eq!(e, Some(3));
    }
}
