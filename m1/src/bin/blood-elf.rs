#![forbid(unsafe_code)]
fn main() {
    toolbase::cli::run_main(m1::tool::blood_elf_main)
}
