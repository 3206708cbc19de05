//! What decides how sources link: the target [`Arch`], the byte order of pointers, the
//! input digit style, the dialect (full hex2 or a seed form), the base address and whether
//! to record the map, gathered in [`Config`], and the warnings mescc-tools hex2 prints for
//! a configuration. It holds settings only; the linkers that read them are the engine
//! ([`crate::Linker`]) and [`crate::reference`].

use toolbase::arch::Arch;

/// Byte order of pointers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    /// Least significant byte first.
    Little,
    /// Most significant byte first (the reference's default).
    Big,
}

/// How input digits form bytes (spec 1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteMode {
    /// Two hex digits per byte (default).
    Hex,
    /// Three octal digits per byte (`-O`).
    Octal,
    /// Eight binary digits per byte (`-b`).
    Binary,
}

/// Which program's language to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// mescc-tools 1.7.0 `hex2`.
    Full,
    /// The stage0-posix seed `hex2-0` of the architecture (seed-tools.md section 3).
    SeedHex2,
    /// The stage0-posix seed `hex1` of the architecture: one-character labels
    /// (seed-tools.md section 2).
    SeedHex1,
}

/// Everything that decides how sources link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Target architecture.
    pub arch: Arch,
    /// Byte order of pointers (and of RISC-V `.` words).
    pub endian: Endian,
    /// Address of the first output byte.
    pub base_address: u32,
    /// Input digit style.
    pub byte_mode: ByteMode,
    /// Full hex2 or one of the seed forms.
    pub dialect: Dialect,
    /// Whether to record the link map (costs memory; off by default).
    pub map: bool,
}

impl Config {
    /// The reference's defaults for `arch`: full hex2, big-endian, base 0, hex digits.
    pub fn new(arch: Arch) -> Config {
        Config {
            arch,
            endian: Endian::Big,
            base_address: 0,
            byte_mode: ByteMode::Hex,
            dialect: Dialect::Full,
            map: false,
        }
    }

    /// A seed form (`SeedHex1` or `SeedHex2`) of `arch`: little-endian, the seed's fixed
    /// base address.
    pub fn seed(dialect: Dialect, arch: Arch) -> Config {
        Config {
            arch,
            endian: Endian::Little,
            base_address: arch.seed_base_address(),
            byte_mode: ByteMode::Hex,
            dialect,
            map: false,
        }
    }
}

/// The warnings mescc-tools hex2 prints for this configuration (spec 1.1, steps 1 and 2),
/// exactly as the reference prints them.
pub fn reference_warnings(config: &Config) -> String {
    let mut w = String::new();
    const BLOCK: &str = ">> WARNING <<\n>> WARNING <<\n>> WARNING <<\n";
    if !config.arch.is_knight() && config.base_address == 0 {
        w.push_str(BLOCK);
        w.push_str("If you are not generating a ROM image this binary will likely not work\n");
    }
    if config.endian == Endian::Big && config.arch.is_little_endian_cpu() {
        w.push_str(BLOCK);
        w.push_str("You have specified big endian output on likely a little endian processor\nif this is a mistake please pass --little-endian next time\n");
    }
    w
}
