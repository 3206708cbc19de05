#![allow(non_snake_case)]
fn main() {
    hex0::cli::run_main(m1::tool::main)
}
