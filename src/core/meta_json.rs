//! The stored queue meta read back from its JSON body by hand (it is still written by its
//! serde derive: serialization costs little).
//!
//! Hand-written with [`Fields`] rather than the derived deserializer: that was the last user
//! of serde_json's parser and serde's error formatting in the `.wasm` (~29 KB with the record
//! bodies' parsing, now the browser's `JSON.parse`). It reads what the
//! derive read: unknown fields are ignored, an absent or `null` optional field is `None`, and
//! an absent `nextDue` is "unknown" (the least timestamp). The struct literal names every
//! field of [`QueueMeta`], so a field added there fails to compile until it is read here.

use serde_json::Value;

use super::error::QueueError;
use super::fields::Fields;
use super::meta::QueueMeta;
use super::time::Timestamp;

/// Reads the meta from its JSON body; a missing field or one of the wrong type is an
/// [`QueueError::InvalidOptions`] naming it.
pub fn read_meta(v: &Value) -> Result<QueueMeta, QueueError> {
    let f = Fields::lenient(v, "")?;
    let starts = match f.get("starts") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| {
                t.as_i64()
                    .map(Timestamp)
                    .ok_or_else(|| f.invalid_type("starts", t, "an array of integers"))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(f.invalid_type("starts", other, "an array")),
        None => return Err(QueueError::invalid("missing field `starts`")),
    };
    Ok(QueueMeta {
        next_seq: f.required_u64("nextSeq")?,
        paused: f.required("paused", f.bool("paused")?)?,
        hold_until: f.i64("holdUntil")?.map(Timestamp),
        starts,
        next_due: if f.is_absent("nextDue") {
            Some(Timestamp(i64::MIN))
        } else {
            f.i64("nextDue")?.map(Timestamp)
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<QueueMeta, QueueError> {
        read_meta(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn reads_what_the_derive_writes() {
        let meta = QueueMeta {
            next_seq: 9,
            paused: true,
            hold_until: Some(Timestamp(5)),
            starts: vec![Timestamp(1), Timestamp(-2)],
            next_due: None,
        };
        let text = serde_json::to_string(&meta).unwrap();
        assert_eq!(read(&text).unwrap(), meta);
        let due = QueueMeta {
            next_due: Some(Timestamp(7)),
            ..meta
        };
        assert_eq!(read(&serde_json::to_string(&due).unwrap()).unwrap(), due);
    }

    #[test]
    fn old_metas_read_with_defaults_and_unknown_fields_are_ignored() {
        let old =
            read(r#"{"queue":"q","nextSeq":8,"paused":false,"holdUntil":null,"starts":[],"x":{}}"#)
                .unwrap();
        assert_eq!(old.next_seq, 8);
        assert_eq!(old.hold_until, None);
        assert_eq!(old.next_due, Some(Timestamp(i64::MIN)));
        let none = read(r#"{"nextSeq":0,"paused":false,"starts":[],"nextDue":null}"#).unwrap();
        assert_eq!(none.next_due, None);
    }

    #[test]
    fn malformed_metas_are_errors_naming_the_field() {
        for (text, needle) in [
            ("[]", "expected an object"),
            (r#"{"paused":false,"starts":[]}"#, "missing field `nextSeq`"),
            (r#"{"nextSeq":1,"starts":[]}"#, "missing field `paused`"),
            (r#"{"nextSeq":1,"paused":false}"#, "missing field `starts`"),
            (r#"{"nextSeq":1,"paused":false,"starts":{}}"#, "`starts`"),
            (r#"{"nextSeq":1,"paused":false,"starts":["x"]}"#, "`starts`"),
            (r#"{"nextSeq":-1,"paused":false,"starts":[]}"#, "`nextSeq`"),
            (r#"{"nextSeq":1,"paused":0,"starts":[]}"#, "`paused`"),
            (
                r#"{"nextSeq":1,"paused":false,"starts":[],"nextDue":"x"}"#,
                "`nextDue`",
            ),
        ] {
            let err = read(text).unwrap_err();
            assert!(err.message().contains(needle), "{text}: {}", err.message());
        }
    }
}
