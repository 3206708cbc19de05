//! The one architecture table: for each architecture hexroot knows, its command-line name,
//! the spellings other front ends accept, byte order, word size and the base address its
//! seed hex1/hex2-0 link at. Tools read [`ArchInfo`] through [`Arch::info`] instead of
//! keeping their own lists; adding an architecture is a new [`Arch`] variant and a row of
//! [`TABLE`], plus the tool's own rules for it.

/// A target architecture, as hex2 and M1 name them on `--architecture`. The default is
/// the references' default, `knight-native`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Arch {
    /// Knight, native (big-endian tradition).
    #[default]
    KnightNative,
    /// Knight, POSIX flavour (same rules as native).
    KnightPosix,
    /// i386.
    X86,
    /// x86-64.
    Amd64,
    /// 32-bit ARM.
    Armv7l,
    /// 64-bit ARM.
    Aarch64,
    /// 64-bit little-endian POWER.
    Ppc64le,
    /// 32-bit RISC-V.
    Riscv32,
    /// 64-bit RISC-V.
    Riscv64,
}

/// Byte order of the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

/// What hexroot knows about one architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchInfo {
    /// The architecture.
    pub arch: Arch,
    /// Its exact, case-sensitive `--architecture` name for hex2 and M1.
    pub name: &'static str,
    /// Further spellings hex0's `--architecture` and kaem's path matching accept.
    pub aliases: &'static [&'static str],
    /// The CPU's byte order.
    pub byte_order: ByteOrder,
    /// Bytes in a pointer.
    pub word_bytes: u8,
    /// The address the stage0-posix seed hex1/hex2-0 link at.
    pub seed_base_address: u32,
    /// RISC-V word mode: `!` `@` `~` and `.` are instruction words (hex2 and M1).
    pub riscv_words: bool,
}

const fn row(
    arch: Arch,
    name: &'static str,
    aliases: &'static [&'static str],
    byte_order: ByteOrder,
    word_bytes: u8,
    seed_base_address: u32,
) -> ArchInfo {
    ArchInfo {
        arch,
        name,
        aliases,
        byte_order,
        word_bytes,
        seed_base_address,
        riscv_words: matches!(arch, Arch::Riscv32 | Arch::Riscv64),
    }
}

use ByteOrder::{Big, Little};

/// Every architecture, in the order of [`Arch`].
pub const TABLE: [ArchInfo; 9] = [
    row(
        Arch::KnightNative,
        "knight-native",
        &[],
        Big,
        4,
        0x0060_0000,
    ),
    row(Arch::KnightPosix, "knight-posix", &[], Big, 4, 0x0060_0000),
    row(Arch::X86, "x86", &["i386"], Little, 4, 0x0804_8000),
    row(
        Arch::Amd64,
        "amd64",
        &["AMD64", "x86_64"],
        Little,
        8,
        0x0060_0000,
    ),
    row(Arch::Armv7l, "armv7l", &[], Little, 4, 0x0060_0000),
    row(
        Arch::Aarch64,
        "aarch64",
        &["AArch64"],
        Little,
        8,
        0x0060_0000,
    ),
    row(Arch::Ppc64le, "ppc64le", &[], Big, 8, 0x0060_0000),
    row(Arch::Riscv32, "riscv32", &[], Little, 4, 0x0060_0000),
    row(Arch::Riscv64, "riscv64", &[], Little, 8, 0x0060_0000),
];

/// Every `--architecture` name, in table order, separated by `, ` (for help and errors).
pub fn names() -> String {
    TABLE.map(|i| i.name).join(", ")
}

/// Every architecture, in table order.
pub const ARCHES: [Arch; 9] = [
    Arch::KnightNative,
    Arch::KnightPosix,
    Arch::X86,
    Arch::Amd64,
    Arch::Armv7l,
    Arch::Aarch64,
    Arch::Ppc64le,
    Arch::Riscv32,
    Arch::Riscv64,
];

impl Arch {
    /// The table row of this architecture.
    pub fn info(self) -> &'static ArchInfo {
        &TABLE[self as usize]
    }

    /// The architecture called exactly `name` (hex2 and M1 `--architecture`).
    pub fn from_name(name: &str) -> Option<Arch> {
        TABLE.iter().find(|i| i.name == name).map(|i| i.arch)
    }

    /// The architecture called `name` or one of its aliases (hex0, kaem).
    pub fn from_name_or_alias(name: &str) -> Option<Arch> {
        TABLE
            .iter()
            .find(|i| i.name == name || i.aliases.contains(&name))
            .map(|i| i.arch)
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// RISC-V word mode.
    pub fn is_riscv(self) -> bool {
        self.info().riscv_words
    }

    /// Bytes in a pointer: 4 or 8.
    pub fn word_bytes(self) -> u8 {
        self.info().word_bytes
    }

    /// Whether this is a Knight architecture.
    pub fn is_knight(self) -> bool {
        matches!(self, Arch::KnightNative | Arch::KnightPosix)
    }

    /// Whether the CPU is little-endian (the reference warns that big-endian output is
    /// likely a mistake there).
    pub fn is_little_endian_cpu(self) -> bool {
        self.info().byte_order == ByteOrder::Little
    }

    /// The base address the seed hex1/hex2-0 of this architecture link at.
    pub fn seed_base_address(self) -> u32 {
        self.info().seed_base_address
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_are_in_variant_order_and_names_round_trip() {
        for (i, a) in ARCHES.iter().enumerate() {
            assert_eq!(TABLE[i].arch, *a);
            assert_eq!(Arch::from_name(a.name()), Some(*a));
        }
        assert_eq!(Arch::from_name("i386"), None);
        assert_eq!(Arch::from_name_or_alias("x86_64"), Some(Arch::Amd64));
        assert_eq!(Arch::X86.seed_base_address(), 0x0804_8000);
    }
}
