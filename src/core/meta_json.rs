//! The stored queue meta read back from its JSON body by hand (it is still written by its
//! serde derive: serialization costs little).
//!
//! Hand-written with [`Fields`] rather than the derived deserializer: that was the last user
//! of serde_json's parser and serde's error formatting in the `.wasm` (~29 KB with the record
//! bodies' parsing, now [`super::json_parse`]). It reads what the derive read: every
//! field may be absent (its default), unknown fields are ignored (older builds stored
//! `nextSeq` and `nextDue`), an absent or `null` optional field is `None`. The struct literal
//! names every field of [`QueueMeta`], so a field added there fails to compile until it is
//! read here.

use serde_json::Value;

use super::error::QueueError;
use super::fields::Fields;
use super::meta::QueueMeta;
use super::time::Timestamp;

/// Reads the meta from its JSON body; a field of the wrong type is an
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
        None | Some(Value::Null) => Vec::new(),
        Some(other) => return Err(f.invalid_type("starts", other, "an array")),
    };
    Ok(QueueMeta {
        paused: f.bool("paused")?.unwrap_or(false),
        hold_until: f.i64("holdUntil")?.map(Timestamp),
        starts,
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
            paused: true,
            hold_until: Some(Timestamp(5)),
            starts: vec![Timestamp(1), Timestamp(-2)],
        };
        let text = serde_json::to_string(&meta).unwrap();
        assert_eq!(read(&text).unwrap(), meta);
    }

    #[test]
    fn old_metas_read_with_defaults_and_unknown_fields_are_ignored() {
        let old = read(
            r#"{"queue":"q","nextSeq":8,"paused":true,"holdUntil":null,"starts":[],"nextDue":3}"#,
        )
        .unwrap();
        assert!(old.paused);
        assert_eq!(old.hold_until, None);
        assert_eq!(read("{}").unwrap(), QueueMeta::default());
    }

    #[test]
    fn malformed_metas_are_errors_naming_the_field() {
        for (text, needle) in [
            ("[]", "expected an object"),
            (r#"{"paused":false,"starts":{}}"#, "`starts`"),
            (r#"{"paused":false,"starts":["x"]}"#, "`starts`"),
            (r#"{"paused":0,"starts":[]}"#, "`paused`"),
            (r#"{"holdUntil":"x"}"#, "`holdUntil`"),
        ] {
            let err = read(text).unwrap_err();
            assert!(err.message().contains(needle), "{text}: {}", err.message());
        }
    }
}
