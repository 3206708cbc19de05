//! What several benches share: the generated hex0 text that the hex0 programs (the Knight
//! decoder, the i386 and x86-64 seeds) assemble.

/// `len` bytes of hex0 text: lines of 32 pseudo-random hex pairs with spaces, every 16th
/// line followed by `comment` instead of a bare newline.
pub fn hex_text(len: usize, comment: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 128);
    let mut x: u32 = 0x1234_5678;
    let mut line = 0;
    while out.len() < len {
        for _ in 0..32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            out.extend_from_slice(format!("{:02x} ", (x >> 16) as u8).as_bytes());
        }
        line += 1;
        if line % 16 == 0 {
            out.extend_from_slice(comment);
        } else {
            out.push(b'\n');
        }
    }
    out.truncate(len);
    out
}
