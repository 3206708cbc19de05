#![forbid(unsafe_code)]
#![allow(non_snake_case)]
fn main() {
    toolbase::cli::run_main(m1::tool::m0_main)
}
