//! The `hex2` binary: see [`hex2::tool`].
#![forbid(unsafe_code)]

fn main() {
    toolbase::cli::run_main(hex2::tool::main)
}
