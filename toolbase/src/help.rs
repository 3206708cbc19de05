//! What a binary says about itself, rendered from one description: the option list of
//! `--help` (from the tool's [`Opt`] table), the roff man page and the bash completion
//! (from its `--help` text and that table), and the examples its help text marks.
//!
//! An example, in a help text or a README, is a line whose first non-blank characters are
//! `$ `; a line ending in `\` continues on the next, and the lines after it show what it
//! prints (up to a blank line or a `#` comment). A remark after three blanks says more: `   # exit: N`, it ends with status N;
//! `   # needs: WHAT`, it needs what only an upstream checkout (or a key, a network)
//! provides. The example test (`tests/help_examples.rs`) runs every example, except that it
//! reports those that need something as skipped.

use crate::args::Opt;

/// One documented option: its spellings, the name of its value, what it does and whether
/// it is hexroot's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionHelp {
    /// Every accepted spelling, short ones first as in the table.
    pub names: &'static [&'static str],
    /// The value's name (`FILE`); empty for a flag.
    pub value_name: &'static str,
    /// What it does; continuation lines after `\n`.
    pub help: &'static str,
    /// Whether the reference tool lacks it.
    pub hexroot: bool,
}

/// The documented options of a parser table, in table order (undocumented ones are left
/// out: they are the reference's, listed by the reference's own text).
pub fn documented<F, V>(opts: &[Opt<F, V>]) -> Vec<OptionHelp> {
    opts.iter()
        .filter(|o| !o.help.is_empty())
        .map(|o| OptionHelp {
            names: o.names,
            value_name: o.value_name(),
            help: o.help,
            hexroot: o.hexroot,
        })
        .collect()
}

/// The left column of an option: `-f, --file FILE`, or `    --map FILE` without a short
/// spelling.
fn spelling(o: &OptionHelp) -> String {
    let mut left = if o.names.first().is_some_and(|n| !n.starts_with("--")) {
        String::new()
    } else {
        "    ".to_string()
    };
    left.push_str(&o.names.join(", "));
    if !o.value_name.is_empty() {
        left.push(' ');
        left.push_str(o.value_name);
    }
    left
}

/// The widest left column before the help moves to a line of its own.
const COLUMN: usize = 26;

/// The options as an indented two-column list, one option per entry, each help line after
/// the first aligned under the first.
pub fn option_list(opts: &[OptionHelp]) -> String {
    let width = opts
        .iter()
        .map(|o| spelling(o).len())
        .filter(|&w| w <= COLUMN)
        .max()
        .unwrap_or(0);
    option_list_at(opts, width)
}

/// The options laid out as [`option_list`] does, with a left column `width` wide (a wider
/// spelling gets a line of its own): for lists that share one column.
pub fn option_list_at(opts: &[OptionHelp], width: usize) -> String {
    let lefts: Vec<String> = opts.iter().map(spelling).collect();
    let mut out = String::new();
    for (o, left) in opts.iter().zip(&lefts) {
        let marked = if o.hexroot {
            format!("{} (hexroot only)", o.help)
        } else {
            o.help.to_string()
        };
        let mut lines = marked.lines();
        let first = lines.next().unwrap_or("");
        if left.len() <= width {
            out.push_str(&format!("  {left:<width$}  {first}\n"));
        } else {
            out.push_str(&format!("  {left}\n  {:<width$}  {first}\n", ""));
        }
        for line in lines {
            out.push_str(&format!("  {:<width$}  {line}\n", ""));
        }
    }
    out
}

/// The section a drop-in tool's `--help` adds after the reference's text: a blank line,
/// `hexroot options:`, every documented option (hexroot's own marked `(hexroot only)`)
/// and `notes`.
pub fn hexroot_section(opts: &[OptionHelp], notes: &str) -> String {
    let mut out = String::from("\nhexroot options:\n");
    out.push_str(&option_list(opts));
    out.push_str(notes);
    out
}

/// One command line of the help, as a man page and a completion see it.
#[derive(Clone, Debug)]
pub struct Page {
    /// The binary's name.
    pub name: String,
    /// One line: what it is (the man page's NAME).
    pub summary: String,
    /// Exactly what `NAME --help` prints.
    pub help: String,
    /// The options of its table (for a command with subcommands: the top level's).
    pub options: Vec<OptionHelp>,
    /// Subcommands, each with its own `--help` text.
    pub subcommands: Vec<Page>,
}

/// Every option spelling a help text lists: the words starting with `-` at the start of
/// its indented option lines (`  -f, --file FILE  ...`).
pub fn listed_options(help: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        if !trimmed.starts_with('-') || trimmed.len() == line.len() {
            continue;
        }
        let left = trimmed.split("  ").next().unwrap_or("");
        for word in left.split([',', ' ', '|']) {
            let word = word.trim_matches(|c: char| c == '[' || c == ']');
            let is_option = word.len() >= 2
                && word.starts_with('-')
                && word[1..]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if is_option && !found.iter().any(|f| f == word) {
                found.push(word.to_string());
            }
        }
    }
    found
}

/// Text as roff reads it literally: backslashes and hyphens escaped, a leading `.` or `'`
/// protected.
fn roff(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with('.') || line.starts_with('\'') {
            out.push_str("\\&");
        }
        out.push_str(&line.replace('\\', "\\e").replace('-', "\\-"));
        out.push('\n');
    }
    out
}

/// The man page (section 1, roff `man` macros) of `page`: NAME from its summary, the
/// `--help` text verbatim as DESCRIPTION, its options (from its table) as OPTIONS, and
/// each subcommand's `--help` text in a section of its own, followed by its options.
pub fn man_page(page: &Page, version: &str) -> String {
    let mut out = format!(
        ".TH {} 1 \"\" \"hexroot {version}\" \"hexroot manual\"\n.SH NAME\n{} \\- {}\n",
        roff(&page.name.to_uppercase()).trim_end(),
        roff(&page.name).trim_end(),
        roff(&page.summary).trim_end()
    );
    out.push_str(".SH DESCRIPTION\n.nf\n");
    out.push_str(&roff(&page.help));
    out.push_str(".fi\n");
    if !page.options.is_empty() {
        out.push_str(".SH OPTIONS\n");
        out.push_str(&option_entries(&page.options));
    }
    for sub in &page.subcommands {
        out.push_str(&format!(
            ".SH {}\n.nf\n",
            roff(&format!("{} {}", page.name, sub.name).to_uppercase()).trim_end()
        ));
        out.push_str(&roff(&sub.help));
        out.push_str(".fi\n");
        if !sub.options.is_empty() {
            out.push_str(".SS OPTIONS\n");
            out.push_str(&option_entries(&sub.options));
        }
    }
    out
}

/// The options as roff tagged paragraphs: the spellings and value name in bold, the help
/// on one line after them, `(hexroot)` marking hexroot's own.
fn option_entries(opts: &[OptionHelp]) -> String {
    let mut out = String::new();
    for o in opts {
        let mut left = o.names.join(", ");
        if !o.value_name.is_empty() {
            left = format!("{left} {}", o.value_name);
        }
        out.push_str(&format!(".TP\n.B {}", roff(&left)));
        let help = o.help.lines().collect::<Vec<_>>().join(" ");
        let mark = if o.hexroot { " (hexroot)" } else { "" };
        out.push_str(&roff(&format!("{help}{mark}")));
    }
    out
}

/// A bash function name for `name`.
fn function_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("_hexroot_{safe}")
}

/// Every spelling of `page`: its table's and those its help lists.
fn spellings(page: &Page) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let table = page.options.iter().flat_map(|o| o.names.iter());
    for w in table
        .map(|n| n.to_string())
        .chain(listed_options(&page.help))
    {
        if !words.contains(&w) {
            words.push(w);
        }
    }
    words
}

/// The bash completion script of `page`: options after `-`, subcommand names as the first
/// word and each subcommand's options after it, file names otherwise.
pub fn bash_completion(page: &Page) -> String {
    let f = function_name(&page.name);
    let mut out = format!(
        "# bash completion for {0} (hexroot); generated from '{0} --help'\n{f}() {{\n    local cur=\"${{COMP_WORDS[COMP_CWORD]}}\" words=\n",
        page.name
    );
    if page.subcommands.is_empty() {
        out.push_str(&format!("    words=\"{}\"\n", spellings(page).join(" ")));
    } else {
        let names: Vec<&str> = page.subcommands.iter().map(|s| s.name.as_str()).collect();
        out.push_str("    if [ \"$COMP_CWORD\" -eq 1 ]; then\n");
        out.push_str(&format!(
            "        words=\"{} {}\"\n",
            names.join(" "),
            spellings(page).join(" ")
        ));
        out.push_str("    else\n        case \"${COMP_WORDS[1]}\" in\n");
        for sub in &page.subcommands {
            out.push_str(&format!(
                "        {}) words=\"{}\" ;;\n",
                sub.name,
                spellings(sub).join(" ")
            ));
        }
        out.push_str("        esac\n    fi\n");
    }
    out.push_str(
        "    case \"$cur\" in\n        -*) COMPREPLY=($(compgen -W \"$words\" -- \"$cur\")) ;;\n",
    );
    if page.subcommands.is_empty() {
        out.push_str("        *) COMPREPLY=() ;;\n");
    } else {
        out.push_str("        *) [ \"$COMP_CWORD\" -eq 1 ] && COMPREPLY=($(compgen -W \"$words\" -- \"$cur\")) || COMPREPLY=() ;;\n");
    }
    out.push_str(&format!(
        "    esac\n}}\ncomplete -o default -o bashdefault -F {f} {}\n",
        page.name
    ));
    out
}

/// One example of a help text or README: the command (continuation lines joined), what it
/// needs that is not bundled, the exit status it ends with and the lines it prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// The shell command line, without the `$ ` and without its remarks.
    pub command: String,
    /// What it needs from outside the repository (`# needs: WHAT`).
    pub needs: Option<String>,
    /// The exit status it ends with (`# exit: N`; default 0).
    pub status: i32,
    /// The lines shown after it, up to a blank line, a fence or the next example: each
    /// must be a line of what it prints (stdout and stderr), blanks trimmed.
    pub output: Vec<String>,
    /// Examples of one block (between two ``` fences, or of one help text) run in turn in
    /// one directory; this numbers the block.
    pub block: usize,
}

/// The examples `text` marks (lines starting, after blanks, with `$ `).
pub fn examples(text: &str) -> Vec<Example> {
    let mut found: Vec<Example> = Vec::new();
    let mut block = 0;
    let mut lines = text.lines();
    let mut collecting = false;
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("```") {
            block += 1;
            collecting = false;
            continue;
        }
        let Some(first) = line.trim_start().strip_prefix("$ ") else {
            match found.last_mut() {
                Some(last)
                    if collecting && !line.trim().is_empty() && !line.trim().starts_with('#') =>
                {
                    last.output.push(line.trim().to_string())
                }
                _ => collecting = false,
            }
            continue;
        };
        let mut command = first.to_string();
        while command.ends_with('\\') {
            command.pop();
            let Some(next) = lines.next() else { break };
            command = format!("{} {}", command.trim_end(), next.trim());
        }
        let mut needs = None;
        let mut status = 0;
        if let Some((c, remark)) = command.split_once("   # ") {
            if let Some(n) = remark.strip_prefix("needs:") {
                needs = Some(n.trim().to_string());
            } else if let Some(n) = remark.strip_prefix("exit:") {
                status = n.trim().parse().unwrap_or(-1);
            }
            command = c.trim_end().to_string();
        }
        found.push(Example {
            command,
            needs,
            status,
            output: Vec::new(),
            block,
        });
        collecting = true;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: &[OptionHelp] = &[
        OptionHelp {
            names: &["-f", "--file"],
            value_name: "FILE",
            help: "read FILE\nin order",
            hexroot: false,
        },
        OptionHelp {
            names: &["--map"],
            value_name: "FILE",
            help: "write the link map",
            hexroot: true,
        },
    ];

    #[test]
    fn option_list_aligns_and_indents_continuations() {
        assert_eq!(
            option_list(OPTS),
            "  -f, --file FILE  read FILE\n                   in order\n      --map FILE   write the link map (hexroot only)\n"
        );
        assert_eq!(
            listed_options(&option_list(OPTS)),
            vec!["-f", "--file", "--map"]
        );
        assert_eq!(
            option_list_at(&OPTS[1..], 16),
            "      --map FILE    write the link map (hexroot only)\n"
        );
    }

    #[test]
    fn man_page_escapes_and_lists_every_option() {
        let page = Page {
            name: "hex2".into(),
            summary: "a linker".into(),
            help: ".starts with a dot\n  -f, --file FILE  read\n".into(),
            options: OPTS.to_vec(),
            subcommands: vec![],
        };
        let man = man_page(&page, "0.1.0");
        assert!(man.contains("\\&.starts"));
        assert!(man.contains(".B \\-f, \\-\\-file FILE\n"));
        assert!(man.contains("write the link map (hexroot)"));
        let completion = bash_completion(&page);
        assert!(completion.contains("words=\"-f --file --map\""));
    }

    #[test]
    fn man_page_lists_each_subcommands_options_after_its_help() {
        let run = Page {
            name: "run".into(),
            summary: "runs".into(),
            help: "Usage: t run\n".into(),
            options: OPTS.to_vec(),
            subcommands: vec![],
        };
        let page = Page {
            name: "t".into(),
            summary: "a tool".into(),
            help: "Usage: t\n".into(),
            options: vec![],
            subcommands: vec![run],
        };
        let man = man_page(&page, "0");
        assert!(!man.contains(".SH OPTIONS"), "{man}");
        assert!(
            man.contains(
                ".SH T RUN\n.nf\nUsage: t run\n.fi\n.SS OPTIONS\n.TP\n.B \\-f, \\-\\-file FILE\n"
            ),
            "{man}"
        );
    }

    #[test]
    fn examples_join_continuations_and_read_remarks_and_output() {
        let text = "Example:\n  $ a \\\n      b\n  $ c   # needs: a checkout\nnot $ d\n```\n$ e   # exit: 1\nsaid this\n\nnot this\n";
        let example =
            |command: &str, needs: Option<&str>, status, output: &[&str], block| Example {
                command: command.into(),
                needs: needs.map(String::from),
                status,
                output: output.iter().map(|s| s.to_string()).collect(),
                block,
            };
        assert_eq!(
            examples(text),
            vec![
                example("a b", None, 0, &[], 0),
                example("c", Some("a checkout"), 0, &["not $ d"], 0),
                example("e", None, 1, &["said this"], 1),
            ]
        );
    }
}
