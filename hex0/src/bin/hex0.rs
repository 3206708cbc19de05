//! The `hex0` binary: see [`hex0::tool`].
#![forbid(unsafe_code)]

fn main() {
    toolbase::cli::run_main(hex0::tool::main)
}
