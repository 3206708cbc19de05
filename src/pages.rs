//! Every binary's man page and bash completion, from exactly what its `--help` prints and
//! from its option table ([`toolbase::help`] renders them). The help text is taken by
//! running the tool's entry point with `--help` in-process, so the pages cannot drift from
//! it; `cargo run --example manpages -- OUTDIR` writes them.

use std::ffi::OsString;

use toolbase::cli::Streams;
use toolbase::help::{OptionHelp, Page};

/// A binary: its name, its man page's one-line summary and its documented options.
struct Binary {
    name: &'static str,
    summary: &'static str,
    options: fn() -> Vec<OptionHelp>,
    /// Subcommands with a `--help` of their own (besides crossverify's).
    subcommands: &'static [(&'static str, &'static str)],
}

const BINARIES: &[Binary] = &[
    Binary {
        name: "hex0",
        summary: "assemble hex0 as the stage0-posix seed hex0 (hexroot)",
        options: hex0::tool::options,
        subcommands: &[],
    },
    Binary {
        name: "catm",
        summary: "concatenate files, as mescc-tools catm (hexroot)",
        options: hex0::catm::options,
        subcommands: &[],
    },
    Binary {
        name: "hex1",
        summary: "link hex1 as the stage0-posix seed hex1 (hexroot)",
        options: hex2::tool::seed_options,
        subcommands: &[],
    },
    Binary {
        name: "hex2",
        summary: "the mescc-tools 1.7.0 hex2 linker (hexroot implementation)",
        options: hex2::tool::options,
        subcommands: &[],
    },
    Binary {
        name: "M0",
        summary: "expand M0 macros as the stage0-posix seed M0 (hexroot)",
        options: m1::tool::m0_options,
        subcommands: &[],
    },
    Binary {
        name: "M1",
        summary: "the mescc-tools 1.7.0 M1 macro assembler (hexroot implementation)",
        options: m1::tool::m1_options,
        subcommands: &[],
    },
    Binary {
        name: "blood-elf",
        summary: "the mescc-tools blood-elf 2.0.1 symbol footer writer (hexroot implementation)",
        options: m1::tool::blood_elf_options,
        subcommands: &[],
    },
    Binary {
        name: "stage0-vm",
        summary: "stage0's Knight virtual machine and a Linux user-mode machine (hexroot)",
        options: stage0_vm::tool::options,
        subcommands: &[(
            "run",
            "run a static Linux ELF executable in the user-mode machine",
        )],
    },
    Binary {
        name: "crossverify",
        summary: "rebuild hexroot's seeds by every path and cross-check bootstrap artifacts",
        options: crossverify::tool::options,
        subcommands: &[],
    },
];

/// What the tool `name` prints (stdout, then stderr) when run with `args`.
pub fn output_of(name: &str, args: &[&str]) -> String {
    let Some(tool) = crate::tool(name) else {
        return String::new();
    };
    let mut argv = vec![OsString::from(name)];
    argv.extend(args.iter().map(OsString::from));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    {
        let mut io = Streams {
            stdout: &mut out,
            stderr: &mut err,
            stdout_is_terminal: false,
            cwd: None,
        };
        tool(&argv, &mut io);
    }
    out.extend_from_slice(&err);
    String::from_utf8_lossy(&out).into_owned()
}

/// The page of every binary, in [`crate::TOOLS`]'s spirit: one per binary.
pub fn pages() -> Vec<Page> {
    BINARIES.iter().map(page).collect()
}

fn page(b: &Binary) -> Page {
    let mut subcommands: Vec<Page> = b
        .subcommands
        .iter()
        .map(|&(sub, summary)| Page {
            name: sub.to_string(),
            summary: summary.to_string(),
            help: output_of(b.name, &[sub, "--help"]),
            options: Vec::new(),
            subcommands: Vec::new(),
        })
        .collect();
    if b.name == "crossverify" {
        subcommands.extend(crossverify::tool::subcommand_pages());
    }
    Page {
        name: b.name.to_string(),
        summary: b.summary.to_string(),
        help: output_of(b.name, &["--help"]),
        options: (b.options)(),
        subcommands,
    }
}
