//! The `stage0-vm` binary: see [`stage0_vm::tool`].
#![forbid(unsafe_code)]

fn main() {
    toolbase::cli::run_main(stage0_vm::tool::main)
}
