//! The `hex1` binary: see [`hex2::tool::hex1_main`].
#![forbid(unsafe_code)]

fn main() {
    toolbase::cli::run_main(hex2::tool::hex1_main)
}
