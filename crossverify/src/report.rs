//! Reports: the facts about a manifest's origin, in a small strict text format, and the
//! host facts that fill them.
//!
//! A report sits beside its manifest (`M.sha256` and `M.sha256.report`) and is bound to it
//! by the manifest's SHA-256, so a report cannot be paired with another manifest by
//! mistake. It is not a signature: sign it with [`crate::sign`] (`REPORT.sig`).
//!
//! Grammar (every line ends with `\n`; no blank lines, no comments but the first line;
//! fields are separated by one space):
//!
//! ```text
//! report    = "# hexroot crossverify report 1" LF
//!             "manifest " NAME LF             ; the manifest, relative to the report's directory
//!             "manifest-sha256 " HEX64 LF     ; SHA-256 of the manifest file's bytes
//!             "host " WORD LF                 ; host name
//!             "os " WORD LF                   ; std::env::consts::OS, e.g. linux
//!             "arch " WORD LF                 ; std::env::consts::ARCH, e.g. x86_64
//!             "date " DATE LF                 ; UTC, YYYY-MM-DDTHH:MM:SSZ, a time that exists
//!             *("tool " WORD " " WORD LF)     ; a tool and its version
//!             1*("built-by " WORD " " NAME LF) ; implementation that built a listed file
//! WORD      = 1*(printable ASCII except space)
//! NAME      = 1*(any byte but LF; "\" written "\\", newline "\n", carriage return "\r")
//! HEX64     = 64 lower-case hex digits
//! ```
//!
//! The lines come in exactly this order. Parsing is strict: a missing, repeated, unknown or
//! misplaced key, a bad word, date or digest, a manifest whose SHA-256 differs, or
//! `built-by` lines that do not name exactly the manifest's files is an error naming
//! `FILE:LINE:COL`. The host kind used by `compare --diverse` is `os/arch`. This module owns
//! the format and the host facts; what agreement means is [`crate::compare`]'s.

use std::path::{Path, PathBuf};

use toolbase::diag::{Diagnostic, Position};

use crate::sha256sum::{self, escape_name, is_sha256_hex, unescape_name, Entry, ESCAPES};

/// The first line of every report.
pub const MAGIC: &str = "# hexroot crossverify report 1";

/// The implementation name that never counts toward diversity.
pub const UNSPECIFIED: &str = "unspecified";

/// A parsed or freshly made report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The manifest's name, relative to the report's directory.
    pub manifest: Vec<u8>,
    /// SHA-256 of the manifest's bytes (64 lower-case hex digits).
    pub manifest_sha256: String,
    /// Host name.
    pub host: String,
    /// Operating system (`std::env::consts::OS`).
    pub os: String,
    /// CPU architecture (`std::env::consts::ARCH`).
    pub arch: String,
    /// UTC date, `YYYY-MM-DDTHH:MM:SSZ`.
    pub date: String,
    /// Tools and versions.
    pub tools: Vec<(String, String)>,
    /// For each listed file: the implementation that built it, and the file's name.
    pub built_by: Vec<(String, Vec<u8>)>,
}

/// A report loaded with its manifest, both checked.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// Where the report was read from.
    pub path: PathBuf,
    /// The report.
    pub report: Report,
    /// The manifest's entries.
    pub entries: Vec<Entry>,
    /// SHA-256 of the report file itself (to spot the same report given twice).
    pub report_sha256: String,
}

impl Report {
    /// A report for the manifest named `manifest` with bytes `manifest_text`, filled with
    /// this host's facts and the current date; no tools, no built-by lines yet.
    pub fn for_this_host(manifest: &[u8], manifest_text: &[u8]) -> Report {
        Report {
            manifest: manifest.to_vec(),
            manifest_sha256: crate::sha256_hex(manifest_text),
            host: host_name(),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            date: utc_iso8601(std::time::SystemTime::now()),
            tools: Vec::new(),
            built_by: Vec::new(),
        }
    }

    /// `os/arch`: what `compare --diverse` counts as a kind of host.
    pub fn host_kind(&self) -> String {
        format!("{}/{}", self.os, self.arch)
    }

    /// The implementation that built `name`, if listed.
    pub fn implementation_of(&self, name: &[u8]) -> Option<&str> {
        self.built_by
            .iter()
            .find(|(_, n)| n == name)
            .map(|(i, _)| i.as_str())
    }

    /// The report's text.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut line = |key: &str, value: &[u8]| {
            out.extend_from_slice(key.as_bytes());
            out.push(b' ');
            out.extend_from_slice(value);
            out.push(b'\n');
        };
        line("#", &MAGIC.as_bytes()[2..]);
        line("manifest", &escape_name(&self.manifest));
        line("manifest-sha256", self.manifest_sha256.as_bytes());
        line("host", self.host.as_bytes());
        line("os", self.os.as_bytes());
        line("arch", self.arch.as_bytes());
        line("date", self.date.as_bytes());
        for (n, v) in &self.tools {
            line("tool", format!("{n} {v}").as_bytes());
        }
        for (i, n) in &self.built_by {
            let mut v = i.as_bytes().to_vec();
            v.push(b' ');
            v.extend_from_slice(&escape_name(n));
            line("built-by", &v);
        }
        out
    }
}

/// A name usable as an implementation or tool name in a report (WORD in the grammar):
/// non-empty, printable ASCII without spaces.
pub fn is_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

/// The report path for a manifest: the manifest's path with `.report` appended.
pub fn path_for(manifest: &Path) -> PathBuf {
    let mut s = manifest.as_os_str().to_os_string();
    s.push(".report");
    PathBuf::from(s)
}

/// Parses report `text` read from `file` (without checking the manifest).
pub fn parse(file: &str, text: &[u8]) -> Result<Report, Diagnostic> {
    let at = |offset: usize, message: String| {
        Diagnostic::new(message)
            .in_file(file)
            .at_offset_in(text, offset)
    };
    if text.last() != Some(&b'\n') {
        return Err(
            at(text.len(), "the report does not end with a newline".into())
                .hint("a truncated report cannot be trusted; fetch it again"),
        );
    }
    // (offset of line, line without LF)
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        if b == b'\n' {
            lines.push((start, &text[start..i]));
            start = i + 1;
        }
    }
    let mut it = lines.into_iter().peekable();
    match it.next() {
        Some((_, l)) if l == MAGIC.as_bytes() => {}
        Some((o, l)) => {
            return Err(at(o, "not a crossverify report".into())
                .expected(format!("'{MAGIC}'"))
                .found(format!("'{}'", String::from_utf8_lossy(l))))
        }
        None => return Err(at(0, "empty report".into())),
    }
    let split = |(o, l): (usize, &[u8])| -> (usize, String, usize, Vec<u8>) {
        match l.iter().position(|&b| b == b' ') {
            Some(p) => (
                o,
                String::from_utf8_lossy(&l[..p]).into_owned(),
                o + p + 1,
                l[p + 1..].to_vec(),
            ),
            None => (
                o,
                String::from_utf8_lossy(l).into_owned(),
                o + l.len(),
                Vec::new(),
            ),
        }
    };
    let single = |key: &str,
                  it: &mut std::iter::Peekable<std::vec::IntoIter<(usize, &[u8])>>|
     -> Result<(usize, Vec<u8>), Diagnostic> {
        match it.next().map(split) {
            Some((_, k, vo, v)) if k == key => Ok((vo, v)),
            Some((o, k, _, _)) => {
                Err(at(o, format!("unexpected key '{k}'")).expected(format!("'{key}'")))
            }
            None => Err(at(text.len(), format!("missing key '{key}'"))),
        }
    };
    let word = |(o, v): (usize, Vec<u8>), what: &str| -> Result<String, Diagnostic> {
        let s = String::from_utf8_lossy(&v).into_owned();
        if is_word(&s) {
            Ok(s)
        } else {
            Err(at(o, format!("bad {what}"))
                .expected("printable ASCII without spaces")
                .found(format!("'{s}'")))
        }
    };
    let (mo, mv) = single("manifest", &mut it)?;
    let manifest = unescape_name(&mv).map_err(|bad| {
        at(mo + bad.offset, "bad escape in the manifest name".into())
            .expected(ESCAPES)
            .found(bad.found)
    })?;
    if manifest.is_empty() {
        return Err(at(mo, "empty manifest name".into()));
    }
    let (ho, hv) = single("manifest-sha256", &mut it)?;
    if !is_sha256_hex(&hv) {
        return Err(at(ho, "bad manifest digest".into())
            .expected("64 lower-case hex digits")
            .found(format!("'{}'", String::from_utf8_lossy(&hv))));
    }
    let host = word(single("host", &mut it)?, "host name")?;
    let os = word(single("os", &mut it)?, "OS name")?;
    let arch = word(single("arch", &mut it)?, "architecture name")?;
    let (dof, dv) = single("date", &mut it)?;
    let date = String::from_utf8_lossy(&dv).into_owned();
    if let Err(why) = check_date(&date) {
        return Err(at(dof, format!("bad date: {why}"))
            .expected("a real UTC time as YYYY-MM-DDTHH:MM:SSZ")
            .found(format!("'{date}'")));
    }
    let mut report = Report {
        manifest,
        manifest_sha256: String::from_utf8_lossy(&hv).into_owned(),
        host,
        os,
        arch,
        date,
        tools: Vec::new(),
        built_by: Vec::new(),
    };
    for line in it {
        let (o, k, vo, v) = split(line);
        match k.as_str() {
            "tool" if report.built_by.is_empty() => {
                let s = String::from_utf8_lossy(&v).into_owned();
                match s.split_once(' ') {
                    Some((n, ver)) if is_word(n) && is_word(ver) => {
                        report.tools.push((n.into(), ver.into()))
                    }
                    _ => {
                        return Err(at(vo, "bad tool line".into())
                            .expected("'tool NAME VERSION'")
                            .found(format!("'{s}'")))
                    }
                }
            }
            "built-by" => {
                let Some(p) = v.iter().position(|&b| b == b' ') else {
                    return Err(at(vo, "bad built-by line".into())
                        .expected("'built-by IMPLEMENTATION NAME'"));
                };
                let imp = word((vo, v[..p].to_vec()), "implementation name")?;
                let name = unescape_name(&v[p + 1..]).map_err(|bad| {
                    at(vo + p + 1 + bad.offset, "bad escape in a file name".into())
                        .expected(ESCAPES)
                        .found(bad.found)
                })?;
                if name.is_empty() {
                    return Err(at(vo + p + 1, "empty file name".into()));
                }
                if report.built_by.iter().any(|(_, n)| *n == name) {
                    return Err(at(vo + p + 1, "file listed twice".into()));
                }
                report.built_by.push((imp, name));
            }
            "tool" => {
                return Err(at(o, "misplaced 'tool' line".into())
                    .expected("'tool' lines before the 'built-by' lines"))
            }
            _ => {
                return Err(at(o, format!("unknown or repeated key '{k}'"))
                    .expected("'tool' or 'built-by'"))
            }
        }
    }
    if report.built_by.is_empty() {
        return Err(at(text.len(), "missing 'built-by' lines".into())
            .expected("one 'built-by' line per file of the manifest"));
    }
    Ok(report)
}

/// Whether `s` is a real UTC time written `YYYY-MM-DDTHH:MM:SSZ`.
#[cfg(test)]
fn is_date(s: &str) -> bool {
    check_date(s).is_ok()
}

/// Checks that `s` is `YYYY-MM-DDTHH:MM:SSZ` and names a time that exists (month 1-12, a
/// day of that month, leap years included, hour 0-23, minute and second 0-59); says what
/// is wrong otherwise.
fn check_date(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let shape = b.len() == 20
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return Err("not in the form YYYY-MM-DDTHH:MM:SSZ".into());
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(u32::MAX);
    let (year, month, day) = (n(0..4), n(5..7), n(8..10));
    let (hour, minute, second) = (n(11..13), n(14..16), n(17..19));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(format!("there is no month {month:02}")),
    };
    if day == 0 || day > days {
        return Err(format!("{year:04}-{month:02} has no day {day:02}"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!(
            "there is no time {hour:02}:{minute:02}:{second:02}"
        ));
    }
    Ok(())
}

/// Line number (1-based) in `text` of the first line starting with `prefix`.
fn line_of(text: &[u8], prefix: &[u8]) -> Position {
    for (n, l) in text.split(|&b| b == b'\n').enumerate() {
        if l.starts_with(prefix) {
            return Position::LineCol {
                line: n as u32 + 1,
                col: 1,
            };
        }
    }
    Position::None
}

/// Reads the report at `path`, finds its manifest, checks the binding digest and that the
/// `built-by` lines name exactly the manifest's files.
pub fn load(path: &Path) -> Result<Loaded, Diagnostic> {
    let file = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| Diagnostic::io(path, "cannot read report", &e))?;
    let report = parse(&file, &text)?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let manifest_path =
        dir.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&report.manifest));
    let (mtext, entries) = sha256sum::load(&manifest_path, "manifest")?;
    let actual = crate::sha256_hex(&mtext);
    if actual != report.manifest_sha256 {
        return Err(Diagnostic::new("the manifest does not match the report")
            .in_file(&file)
            .at(line_of(&text, b"manifest-sha256 "))
            .expected(format!("{} to have SHA-256 {}", manifest_path.display(), report.manifest_sha256))
            .found(actual)
            .hint("the manifest was changed after the report was written, or they come from different runs"));
    }
    for e in &entries {
        if report.implementation_of(&e.name).is_none() {
            return Err(
                Diagnostic::new("the report does not say who built a listed file")
                    .in_file(&file)
                    .expected(format!("a 'built-by' line for '{}'", e.display_name()))
                    .note(format!("{} lists it", manifest_path.display())),
            );
        }
    }
    if let Some((_, n)) = report
        .built_by
        .iter()
        .find(|(_, n)| !entries.iter().any(|e| e.name == *n))
    {
        let needle = escape_name(n);
        return Err(
            Diagnostic::new("the report names a file its manifest does not list")
                .in_file(&file)
                .at(line_of_contains(&text, &needle))
                .found(format!("'{}'", String::from_utf8_lossy(n))),
        );
    }
    Ok(Loaded {
        path: path.to_path_buf(),
        report_sha256: crate::sha256_hex(&text),
        report,
        entries,
    })
}

fn line_of_contains(text: &[u8], needle: &[u8]) -> Position {
    for (n, l) in text.split(|&b| b == b'\n').enumerate() {
        if l.starts_with(b"built-by ") && l.ends_with(needle) {
            return Position::LineCol {
                line: n as u32 + 1,
                col: 1,
            };
        }
    }
    Position::None
}

/// This host's name, from `/proc/sys/kernel/hostname` or `/etc/hostname`, with anything
/// but `[A-Za-z0-9._-]` replaced by `_`; `unknown` when neither is readable.
pub fn host_name() -> String {
    for p in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(s) = std::fs::read_to_string(p) {
            let s: String = s
                .trim()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if !s.is_empty() {
                return s;
            }
        }
    }
    "unknown".into()
}

/// `t` as UTC `YYYY-MM-DDTHH:MM:SSZ` (times before 1970 print as the epoch).
pub fn utc_iso8601(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian), by 400-year eras.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn dates() {
        assert_eq!(utc_iso8601(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            utc_iso8601(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            utc_iso8601(UNIX_EPOCH + Duration::from_secs(1_795_423_348)),
            "2026-11-23T08:42:28Z"
        );
        assert!(is_date(&utc_iso8601(std::time::SystemTime::now())));
    }

    #[test]
    fn round_trip_and_strictness() {
        let mut r = Report::for_this_host(b"m.sha256", b"");
        r.tools.push(("crossverify".into(), "0.1.0".into()));
        r.built_by.push(("hexroot".into(), b"a\\b\nc".to_vec()));
        let text = r.render();
        assert_eq!(parse("r", &text).unwrap(), r);
        let s = String::from_utf8(text).unwrap();
        for (bad, what) in [
            (
                s.replace("os ", "oss "),
                "r:5:1: error: unexpected key 'oss'",
            ),
            (s.replace("built-by", "built_by"), "unknown"),
            (
                s.replace("manifest-sha256 e", "manifest-sha256 E"),
                "bad manifest digest",
            ),
            (s.replace("T", "t"), "bad date"),
            // Issue 15: dates that do not exist are refused, where they stand.
            (
                s.replacen(&r.date, "9999-99-99T99:99:99Z", 1),
                "r:7:6: error: bad date: there is no month 99",
            ),
            (
                s.replacen(&r.date, "2026-02-31T12:00:00Z", 1),
                "r:7:6: error: bad date: 2026-02 has no day 31",
            ),
            (
                s.replacen(&r.date, "2025-02-29T00:00:00Z", 1),
                "has no day 29",
            ),
            (
                s.replacen(&r.date, "2026-01-01T24:00:00Z", 1),
                "there is no time 24:00:00",
            ),
            (format!("{s}extra 1\n"), "r:10:1: error: unknown"),
            (s.trim_end().to_string(), "newline"),
        ] {
            let e = parse("r", bad.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(what), "{e}");
        }
    }
}
