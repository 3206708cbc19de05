//! Self-contained HTML pages for `replay --html` and `compare --html`.
//!
//! This module owns the page frame (inline CSS, no script, no external asset of any
//! kind), HTML escaping, and the verdict classes and their colours. A page is: the title,
//! the summary (`<section id="summary">`), then the caller's sections. A table row has
//! the class `row` and one verdict class: `agreed`, `differed`, `failed`, `unverified`
//! (not independently verified), `ran` (one implementation only), `missing`, `dissent`,
//! `short`, `lone`, `tie`, `not-diverse`; tests count rows by these classes through the
//! DOM. What goes in the rows is [`crate::export`]'s.

use std::fmt::Write as _;

/// The verdict classes and their background colours.
pub const CLASSES: &[(&str, &str)] = &[
    ("agreed", "#d8f5d0"),
    ("ran", "#eef2f7"),
    ("dissent", "#fff1b8"),
    ("unverified", "#ffe3b3"),
    ("short", "#ffe3b3"),
    ("lone", "#ffe3b3"),
    ("not-diverse", "#ffe3b3"),
    ("missing", "#f9c9c9"),
    ("tie", "#f9c9c9"),
    ("differed", "#f9c9c9"),
    ("failed", "#f9c9c9"),
];

/// `s` with `&`, `<`, `>`, `"` and `'` escaped: safe in text and in quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: `title`, the summary section holding `summary` (HTML), then `body`
/// (HTML, the caller's sections).
pub fn page(title: &str, summary: &str, body: &str) -> String {
    let mut css = String::from(
        "body{font-family:system-ui,sans-serif;margin:1.5em;color:#1b1b1b}\
         h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}\
         table{border-collapse:collapse;width:100%;font-size:.9em}\
         th,td{border:1px solid #c9c9c9;padding:.25em .45em;text-align:left;vertical-align:top}\
         th{background:#f0f0f0}code,pre{font-family:ui-monospace,monospace;font-size:.92em}\
         pre{white-space:pre-wrap;margin:.2em 0}\
         #summary{border:2px solid #888;padding:.6em 1em;background:#fafafa}\
         #summary.pass{border-color:#2e8b2e}#summary.fail{border-color:#c62828}\
         .verdict{font-weight:bold}\
         .side{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:.6em}\
         .side div{border:1px solid #ddd;padding:.3em;background:#fff}\
         code,pre{overflow-wrap:anywhere}td.verdict{white-space:nowrap}\
         .side pre{white-space:pre;overflow-x:auto}",
    );
    for (class, colour) in CLASSES {
        let _ = write!(css, "tr.{class}{{background:{colour}}}");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{t}</title>\n<style>{css}</style>\n</head>\n<body>\n<h1>{t}</h1>\n\
         {summary}\n{body}</body>\n</html>\n",
        t = escape(title)
    )
}

/// The summary section: `pass` colours its frame, `lines` are HTML paragraphs' contents.
pub fn summary(pass: bool, headline: &str, lines: &[String]) -> String {
    let mut s = format!(
        "<section id=\"summary\" class=\"{}\">\n<p id=\"headline\" class=\"verdict\">{}</p>\n",
        if pass { "pass" } else { "fail" },
        escape(headline)
    );
    for l in lines {
        let _ = writeln!(s, "<p>{l}</p>");
    }
    s.push_str("</section>\n");
    s
}

/// Two sides of a difference next to each other, each a labelled `<pre>`.
pub fn sides(left: (&str, &str), right: (&str, &str)) -> String {
    format!(
        "<div class=\"side\"><div><b>{}</b><pre>{}</pre></div><div><b>{}</b><pre>{}</pre></div></div>",
        escape(left.0),
        escape(left.1),
        escape(right.0),
        escape(right.1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }

    #[test]
    fn a_page_has_no_external_asset() {
        let p = page("t <x>", &summary(true, "ok", &[]), "");
        assert!(p.contains("<title>t &lt;x&gt;</title>"));
        for needle in ["src=", "href=", "@import", "url(", "<script"] {
            assert!(!p.contains(needle), "{needle}");
        }
    }
}
