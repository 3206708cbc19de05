//! The `catm` binary: see [`hex0::catm`].
#![forbid(unsafe_code)]

fn main() {
    toolbase::cli::run_main(hex0::catm::main)
}
