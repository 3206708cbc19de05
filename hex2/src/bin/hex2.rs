//! The `hex2` binary: see [`hex2::tool`].
#![forbid(unsafe_code)]

fn main() {
    hex0::cli::run_main(hex2::tool::main)
}
