//! Generated job ids: 32 lowercase hex digits that sort in claim order.
//!
//! A generated id is `pppppp ssssssssssssss rrrrrrrrrrrr` (no spaces): six digits of
//! `MAX_PRIORITY - priority`, fourteen of the job's claim-order number (see
//! [`crate::core::seq`]) and twelve random ones (48 bits). Ids of one queue then sort as the
//! claim order does (priority descending, then number, then id), so IndexedDB can keep a
//! waiting job with such an id in a store keyed by the id alone, in claim order, with no
//! index entry to write. Two ids meet only if they were numbered the same in the same
//! millisecond (two contexts) and drew the same 48 random bits.

use super::hex::hex128;
use super::options::MAX_PRIORITY;

/// How many low bits of the id are random.
const RANDOM_BITS: u32 = 48;
/// How many bits hold the claim-order number (numbers stay below 2^53, see `seq`).
const SEQ_BITS: u32 = 56;

/// The part of an id before its random bits, for `priority` and `seq`; `None` when they do
/// not fit (an out-of-range priority, a number of 2^56 or more).
fn prefix(priority: i32, seq: u64) -> Option<u128> {
    let offset = MAX_PRIORITY.checked_sub(i64::from(priority))?;
    if !(0..=2 * MAX_PRIORITY).contains(&offset) || seq >> SEQ_BITS != 0 {
        return None;
    }
    Some((offset as u128) << SEQ_BITS | u128::from(seq))
}

/// The generated id of a job of `priority` numbered `seq`, with 48 bits of `random`; a
/// random 128-bit id when the two do not fit (never for a validated priority and a number
/// below 2^53).
pub fn job_id(priority: i32, seq: u64, random: [u64; 2]) -> String {
    let low = u128::from(random[1] & ((1 << RANDOM_BITS) - 1));
    let value = match prefix(priority, seq) {
        Some(p) => p << RANDOM_BITS | low,
        None => u128::from(random[0]) << 64 | u128::from(random[1]),
    };
    hex128([(value >> 64) as u64, value as u64])
}

/// Whether `id` is the generated id of a job of `priority` numbered `seq` (so its place
/// among such ids is its claim order).
pub fn sorts_in_claim_order(id: &str, priority: i32, seq: u64) -> bool {
    let Some(p) = prefix(priority, seq) else {
        return false;
    };
    let hex = id.as_bytes();
    if hex.len() != 32 {
        return false;
    }
    let mut value: u128 = 0;
    for &c in hex {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return false,
        };
        value = value << 4 | u128::from(digit);
    }
    value >> RANDOM_BITS == p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_as_the_claim_order() {
        // (priority, seq) in claim order: higher priority first, then lower number.
        let order = [
            (1_000_000, 9),
            (10, 1),
            (10, 2),
            (0, 1_700_000_000_000_001),
            (0, 1_700_000_000_000_002),
            (0, (1 << 53) - 1),
            (-5, 0),
            (-1_000_000, 3),
        ];
        let ids: Vec<String> = order
            .iter()
            .enumerate()
            .map(|(i, &(p, s))| job_id(p, s, [0, u64::MAX - i as u64]))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids);
        for (id, &(p, s)) in ids.iter().zip(&order) {
            assert_eq!(id.len(), 32);
            assert!(sorts_in_claim_order(id, p, s), "{id} {p} {s}");
            assert!(!sorts_in_claim_order(id, p, s + 1));
            assert!(!sorts_in_claim_order(id, p.saturating_sub(1), s));
        }
    }

    #[test]
    fn the_random_part_is_the_low_48_bits_and_breaks_ties() {
        let a = job_id(0, 5, [7, 0xffff_0000_0000_0001]);
        let b = job_id(0, 5, [7, 0x0000_0000_0000_0002]);
        assert_eq!(&a[..20], &b[..20]);
        assert_eq!(&a[20..], "000000000001");
        assert_eq!(&b[20..], "000000000002");
        assert!(a < b);
    }

    #[test]
    fn a_numbered_spec_keeps_its_chosen_id_or_gets_one_carrying_the_number() {
        let mut generated = crate::core::JobSpec::new(());
        generated.priority = 5;
        let id = generated.number(42, || [1, 2]);
        assert_eq!(generated.seq, Some(42));
        assert_eq!(id, job_id(5, 42, [1, 2]));
        assert!(sorts_in_claim_order(&id, 5, 42));
        let mut chosen = crate::core::JobSpec::new(());
        chosen.id = Some("mine".into());
        let drawn = std::cell::Cell::new(false);
        let mine = chosen.number(43, || {
            drawn.set(true);
            [1, 2]
        });
        assert_eq!(mine, "mine");
        assert!(!drawn.get(), "no random bits drawn for a chosen id");
        assert_eq!(chosen.seq, Some(43));
    }

    #[test]
    fn what_does_not_fit_is_a_plain_random_id() {
        let id = job_id(0, 1 << 56, [1, 2]);
        assert_eq!(id, format!("{:016x}{:016x}", 1, 2));
        assert!(!sorts_in_claim_order(&id, 0, 1 << 56));
        assert!(!sorts_in_claim_order("user-chosen", 0, 1));
        assert!(!sorts_in_claim_order(&id.to_uppercase(), 0, 1 << 56));
        let upper = job_id(3, 4, [0, 0xabc]).to_uppercase();
        assert!(!sorts_in_claim_order(&upper, 3, 4));
    }
}
