//! The `hex0` binary: see [`hex0::tool`].
#![forbid(unsafe_code)]

fn main() {
    hex0::cli::run_main(hex0::tool::main)
}
