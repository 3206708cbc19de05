fn main() {
    hex0::cli::run_main(m1::tool::blood_elf_main)
}
