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
    fingerprint_text(&value.to_string())
}

/// The fingerprint of a value's canonical JSON text: compact, as serde_json writes it, object
/// keys sorted (what [`fingerprint`] hashes).
pub fn fingerprint_text(canonical: &str) -> String {
    let b = canonical.as_bytes();
    super::hex::hex128([
        hash64(b, 0xCBF2_9CE4_8422_2325),
        hash64(b, 0x6C62_272E_07BB_0142),
    ])
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

    /// Fingerprints are stored with jobs and looked up later (`outputForInput`), by this
    /// build and the next: they must never change. The hex is what the first builds wrote
    /// with `format!("{:016x}{:016x}")`, and the pinned values are checked in the browser by
    /// tests/e2e/api.test.mjs (the JS fast path of `js::client` must give the same).
    #[test]
    fn fingerprints_are_stable_across_builds() {
        let cases = [
            (json!({"n": 1}), "a6b88cfbea33285abe72315214ef13cb"),
            (
                json!({"b": [1, "x\n\"y\u{1}", null, true], "a": {"z": -5, "é": 0.5}}),
                "20bb3597f7e0a3c1dd15951f7d1f8039",
            ),
            (json!("text"), "b465892e208d60e231bda9c0a1ea1420"),
            (json!(12), "6ed026c1db7637ccdebbce00590984d9"),
            (
                json!({"y": [1, "q\"\\\u{1f}\t", [], {}], "x": {"k10": 0, "k2": -7, "10": null}}),
                "84a2c7da872ba08b9be7b505a7cf685e",
            ),
        ];
        for (value, expected) in cases {
            let text = value.to_string();
            let b = text.as_bytes();
            let formatted = format!(
                "{:016x}{:016x}",
                hash64(b, 0xCBF2_9CE4_8422_2325),
                hash64(b, 0x6C62_272E_07BB_0142)
            );
            assert_eq!(fingerprint(&value), formatted, "{value}");
            assert_eq!(fingerprint(&value), expected, "{value}");
        }
    }
}
