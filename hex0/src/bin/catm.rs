//! The `catm` binary: see [`hex0::catm`].
#![forbid(unsafe_code)]

fn main() {
    hex0::cli::run_main(hex0::catm::main)
}
