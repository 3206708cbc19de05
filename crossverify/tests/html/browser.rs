//! The browser check of crossverify's HTML pages, shared by the tests that make pages
//! (`crossverify/tests/export.rs`, the replay chain test): load a page in headless
//! Chromium, take the DOM after load (`--dump-dom`, the page as Chromium's parser built
//! it, so markup it had to repair shows), and check the summary and the rows per verdict
//! class there.
//!
//! Chromium is `$HEXROOT_CHROMIUM`, or the first of chromium, chromium-browser,
//! google-chrome on PATH. Without one the check fails, unless `HEXROOT_BROWSER=skip`
//! says that none can be installed here (`.ci/run` sets it only when `apt-get install
//! chromium` failed); then it prints a loud SKIPPED line. `HEXROOT_SCREENSHOT_DIR=DIR`
//! also saves a screenshot of every page checked, to look at.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser to use; `Ok(None)` when the check is to be skipped (said loudly).
pub fn chromium() -> Result<Option<PathBuf>, String> {
    if let Some(p) = std::env::var_os("HEXROOT_CHROMIUM") {
        return Ok(Some(PathBuf::from(p)));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(Some(p));
            }
        }
    }
    if std::env::var("HEXROOT_BROWSER").as_deref() == Ok("skip") {
        eprintln!(
            "SKIPPED: the headless-browser check of the HTML pages: no chromium on this host and HEXROOT_BROWSER=skip"
        );
        println!("  SKIPPED: browser check (no chromium, HEXROOT_BROWSER=skip)");
        return Ok(None);
    }
    Err(
        "no chromium found (apt-get install chromium, or HEXROOT_CHROMIUM=PATH); \
         HEXROOT_BROWSER=skip skips this check where none can be installed"
            .into(),
    )
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,2000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn profile_dir(page: &Path) -> PathBuf {
    let p = page.with_extension("chromium-profile");
    let _ = std::fs::remove_dir_all(&p);
    p
}

/// The DOM of `page` after load, serialised.
pub fn dump_dom(browser: &Path, page: &Path) -> Result<String, String> {
    let profile = profile_dir(page);
    let out = headless(browser, &profile)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", browser.display()))?;
    let _ = std::fs::remove_dir_all(&profile);
    if !out.status.success() {
        return Err(format!(
            "{} --dump-dom failed ({}): {}",
            browser.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Saves a screenshot of `page` to `png`.
pub fn screenshot(browser: &Path, page: &Path, png: &Path) -> Result<(), String> {
    let profile = profile_dir(page);
    let out = headless(browser, &profile)
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", browser.display()))?;
    let _ = std::fs::remove_dir_all(&profile);
    if out.status.success() && png.is_file() {
        Ok(())
    } else {
        Err(format!("no screenshot of {}", page.display()))
    }
}

/// How many `<tr>` elements of the DOM carry the classes `row` and `class`.
pub fn rows(dom: &str, class: &str) -> usize {
    dom.match_indices("<tr class=\"")
        .filter(|(at, m)| {
            let rest = &dom[at + m.len()..];
            let classes = &rest[..rest.find('"').unwrap_or(0)];
            let mut words = classes.split_whitespace();
            let all: Vec<&str> = words.by_ref().collect();
            all.contains(&"row") && all.contains(&class)
        })
        .count()
}

/// The text of the element with `id` (tags removed, entities left as they are).
pub fn text_of(dom: &str, id: &str) -> Option<String> {
    let at = dom.find(&format!("id=\"{id}\""))?;
    let open_end = at + dom[at..].find('>')? + 1;
    let tag_start = dom[..at].rfind('<')?;
    let tag: String = dom[tag_start + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let close = open_end + dom[open_end..].find(&format!("</{tag}>"))?;
    let mut text = String::new();
    let mut in_tag = false;
    for c in dom[open_end..close].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some(text)
}

/// Loads `page` and checks that the summary's headline contains `headline`, that the
/// DOM has `want` rows of each class named, and that every `(id, text)` in `texts` is in
/// the element with that id. `Ok(false)`: skipped (said loudly).
pub fn check_page(
    page: &Path,
    headline: &str,
    want: &[(&str, usize)],
    texts: &[(&str, &str)],
) -> Result<bool, String> {
    let Some(browser) = chromium()? else {
        return Ok(false);
    };
    let dom = dump_dom(&browser, page)?;
    let raw = std::fs::read_to_string(page).map_err(|e| e.to_string())?;
    // The parser puts rows into a tbody the page does not write: this is the parsed DOM.
    if !dom.contains("<tbody>") || raw.contains("<tbody>") {
        return Err(format!(
            "{}: not a DOM after parsing:\n{dom}",
            page.display()
        ));
    }
    let got = text_of(&dom, "headline").unwrap_or_default();
    if !got.contains(headline) {
        return Err(format!(
            "{}: headline '{got}' lacks '{headline}'",
            page.display()
        ));
    }
    for (class, n) in want {
        let found = rows(&dom, class);
        if found != *n {
            return Err(format!(
                "{}: {found} rows of class '{class}' in the DOM, expected {n}",
                page.display()
            ));
        }
    }
    for (id, text) in texts {
        let got = text_of(&dom, id).unwrap_or_default();
        if !got.contains(text) {
            return Err(format!(
                "{}: #{id} is '{got}', expected it to contain '{text}'",
                page.display()
            ));
        }
    }
    if let Some(dir) = std::env::var_os("HEXROOT_SCREENSHOT_DIR") {
        let name = page
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        screenshot(&browser, page, &Path::new(&dir).join(format!("{name}.png")))?;
    }
    Ok(true)
}
