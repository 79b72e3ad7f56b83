//! Input fingerprints: a stable hash of an input's canonical JSON (object keys sorted), so a
//! completed output can be found again by its input.

/// FNV-1a over `bytes` from `basis`, finished with a 64-bit mixer.
fn hash64(bytes: &[u8], basis: u64) -> u64 {
    let mut h = basis;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// The fingerprint of a JSON value: 128 bits as 32 hex digits. Key order does not matter
/// (`serde_json::Map` keeps keys sorted).
pub fn fingerprint(value: &serde_json::Value) -> String {
    let canonical = value.to_string();
    let b = canonical.as_bytes();
    format!(
        "{:016x}{:016x}",
        hash64(b, 0xCBF2_9CE4_8422_2325),
        hash64(b, 0x6C62_272E_07BB_0142)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_is_ignored_and_values_matter() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":[1,2]}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a":[1,2],"b":1}"#).unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&json!({"a": [2, 1], "b": 1})));
        assert_eq!(fingerprint(&a).len(), 32);
    }
}
