//! 128 bits as 32 lowercase hex digits (ids, fingerprints), written without `core::fmt`.

/// `words` as 32 lowercase hex digits, high word first (what `format!("{:016x}{:016x}")`
/// writes).
pub fn hex128(words: [u64; 2]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(32);
    for word in words {
        out.extend(
            (0..16)
                .rev()
                .map(|i| char::from(HEX[(word >> (4 * i)) as usize & 15])),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::hex128;

    #[test]
    fn writes_what_format_writes() {
        for words in [
            [0, 0],
            [1, u64::MAX],
            [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210],
        ] {
            assert_eq!(hex128(words), format!("{:016x}{:016x}", words[0], words[1]));
        }
    }
}
