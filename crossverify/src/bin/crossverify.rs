fn main() {
    hex0::cli::run_main(crossverify::tool::main)
}
