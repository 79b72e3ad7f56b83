//! 128 bits as 32 lowercase hex digits (ids, fingerprints), written without `core::fmt`.

/// `words` as 32 lowercase hex digits, high word first (what `format!("{:016x}{:016x}")`
/// writes).
pub fn hex128(words: [u64; 2]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = vec![0u8; 32];
    for (i, d) in digits.iter_mut().enumerate() {
        let shift = 4 * (15 - i % 16);
        *d = HEX[(words[i / 16] >> shift) as usize & 15];
    }
    // ASCII digits: always valid UTF-8.
    String::from_utf8(digits).unwrap_or_default()
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
