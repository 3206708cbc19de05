#![forbid(unsafe_code)]
fn main() {
    toolbase::cli::run_main(crossverify::tool::main)
}
