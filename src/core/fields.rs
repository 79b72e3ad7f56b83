//! Reading an options object (as a JSON value) field by field: only known keys, each field of
//! one type, `null` meaning "not given" (as for an absent key).
//!
//! Hand-written rather than serde derives over `serde_json::Value`: the derived visitors, the
//! `Value` deserializer and serde's buffering of untagged and tagged enums cost ~50 KB of the
//! release `.wasm` for a dozen small option structs.

use serde_json::{Map, Value};

use super::error::QueueError;

/// The fields of one options object.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    /// Where the object sits (`"backoff."`, or `""` at the top), for messages.
    prefix: &'a str,
}

/// How a value is described in an error: `string "x"`, `number 5`, `an array`...
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// An `InvalidOptionsError` for a field of the wrong type.
fn invalid_type(prefix: &str, key: &str, v: &Value, expected: &str) -> QueueError {
    QueueError::invalid(format!(
        "invalid type for `{prefix}{key}`: {}, expected {expected}",
        describe(v)
    ))
}

impl<'a> Fields<'a> {
    /// The fields of `v` (named `prefix` in messages, e.g. `"backoff."`), which must be an
    /// object whose keys are all in `known`.
    pub fn of(v: &'a Value, prefix: &'a str, known: &[&str]) -> Result<Self, QueueError> {
        let f = Fields::lenient(v, prefix)?;
        if let Some(unknown) = f.map.keys().find(|k| !known.contains(&k.as_str())) {
            let mut message = format!("unknown field `{prefix}{unknown}`, expected one of ");
            for (i, k) in known.iter().enumerate() {
                if i > 0 {
                    message.push_str(", ");
                }
                message.push('`');
                message.push_str(k);
                message.push('`');
            }
            return Err(QueueError::invalid(message));
        }
        Ok(f)
    }

    /// The fields of the object `v`, ignoring keys nobody reads.
    pub fn lenient(v: &'a Value, prefix: &'a str) -> Result<Self, QueueError> {
        match v {
            Value::Object(map) => Ok(Fields { map, prefix }),
            other if prefix.is_empty() => Err(QueueError::invalid(format!(
                "invalid type: {}, expected an object",
                describe(other)
            ))),
            other => Err(QueueError::invalid(format!(
                "invalid type for `{}`: {}, expected an object",
                prefix.trim_end_matches('.'),
                describe(other)
            ))),
        }
    }

    /// The value of `key`; `None` when absent or `null`.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// The value of `key` read by `read`, or a wrong-type error expecting `expected`.
    fn typed<T>(
        &self,
        key: &str,
        read: impl FnOnce(&'a Value) -> Option<T>,
        expected: &str,
    ) -> Result<Option<T>, QueueError> {
        self.get(key)
            .map(|v| read(v).ok_or_else(|| invalid_type(self.prefix, key, v, expected)))
            .transpose()
    }

    /// A number field.
    pub fn f64(&self, key: &str) -> Result<Option<f64>, QueueError> {
        self.typed(key, Value::as_f64, "a number")
    }

    /// A number field that must be given.
    pub fn required_f64(&self, key: &str) -> Result<f64, QueueError> {
        self.required(key, self.f64(key)?)
    }

    /// A string field.
    pub fn string(&self, key: &str) -> Result<Option<String>, QueueError> {
        self.typed(key, |v| v.as_str().map(str::to_string), "a string")
    }

    /// A string field that must be given.
    pub fn required_string(&self, key: &str) -> Result<String, QueueError> {
        self.required(key, self.string(key)?)
    }

    /// A boolean field.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, QueueError> {
        self.typed(key, Value::as_bool, "a boolean")
    }

    /// A whole-number field that fits in `u64` (for internal records).
    pub fn u64(&self, key: &str) -> Result<Option<u64>, QueueError> {
        self.typed(key, Value::as_u64, "a whole number")
    }

    /// An integer field that fits in `i64` (for internal records: timestamps).
    pub fn i64(&self, key: &str) -> Result<Option<i64>, QueueError> {
        self.typed(key, Value::as_i64, "an integer")
    }

    /// A whole-number field that must be given and fit in `u64` (for internal records).
    pub fn required_u64(&self, key: &str) -> Result<u64, QueueError> {
        self.required(key, self.u64(key)?)
    }

    /// `value`, read from field `key`, or a "missing field" error when it is `None`.
    pub fn required<T>(&self, key: &str, value: Option<T>) -> Result<T, QueueError> {
        value.ok_or_else(|| QueueError::invalid(format!("missing field `{}{key}`", self.prefix)))
    }

    /// A field of another type, read by `read` when present (given the field's value).
    pub fn with<T>(
        &self,
        key: &str,
        read: impl FnOnce(&'a Value) -> Result<T, QueueError>,
    ) -> Result<Option<T>, QueueError> {
        self.get(key).map(read).transpose()
    }

    /// The message of a wrong-type error for `key`, for callers reading their own types.
    pub fn invalid_type(&self, key: &str, v: &Value, expected: &str) -> QueueError {
        invalid_type(self.prefix, key, v, expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_typed_fields_and_treats_null_as_absent() {
        let v = json!({ "a": 1.5, "b": "x", "c": true, "d": null });
        let f = Fields::of(&v, "", &["a", "b", "c", "d", "e"]).unwrap();
        assert_eq!(f.f64("a").unwrap(), Some(1.5));
        assert_eq!(f.string("b").unwrap().as_deref(), Some("x"));
        assert_eq!(f.bool("c").unwrap(), Some(true));
        assert_eq!(f.f64("d").unwrap(), None);
        assert_eq!(f.f64("e").unwrap(), None);
        let err = f.required_f64("e").unwrap_err();
        assert_eq!(err.message(), "missing field `e`");
    }

    #[test]
    fn wrong_types_and_unknown_keys_are_invalid_options_naming_the_field() {
        let v = json!({ "n": "5", "nested": { "x": 1 } });
        let f = Fields::of(&v, "", &["n", "nested"]).unwrap();
        let err = f.f64("n").unwrap_err();
        assert_eq!(err.name(), "InvalidOptionsError");
        assert_eq!(
            err.message(),
            "invalid type for `n`: string \"5\", expected a number"
        );
        let nested = Fields::of(&v["nested"], "nested.", &["y"]).unwrap_err();
        assert_eq!(
            nested.message(),
            "unknown field `nested.x`, expected one of `y`"
        );
        let top = Fields::of(&v, "", &["n"]).unwrap_err();
        assert!(top.message().contains("`nested`"), "{}", top.message());
        let not_object = Fields::of(&v["n"], "opts.", &[]).unwrap_err();
        assert_eq!(
            not_object.message(),
            "invalid type for `opts`: string \"5\", expected an object"
        );
    }
}
