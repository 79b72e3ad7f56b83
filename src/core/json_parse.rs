//! A small JSON parser into [`serde_json::Value`], for the bodies this crate stores itself.
//!
//! Hand-written rather than `serde_json::from_str`: serde_json's deserializer adds ~8 KB
//! gzip to the `.wasm`, and parsing in the browser (`JSON.parse`) then walking the result
//! across the wasm boundary costs about a hundred calls per record on every storage step.
//! It accepts exactly RFC 8259 JSON (one value, surrounding whitespace allowed) and never
//! panics. Integers that fit `i64` / `u64` stay integers; other numbers are floats, parsed
//! by `parse_float`. Nesting is limited to [`MAX_DEPTH`] levels.

use serde_json::{Map, Number, Value};

/// The deepest nesting accepted (stored bodies nest three levels).
pub const MAX_DEPTH: usize = 64;

/// Parses `text` as one JSON value; the error says what was wrong and at which byte.
pub fn parse_json(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
    };
    let v = p.value(0)?;
    p.skip_ws();
    if p.at < p.s.len() {
        return Err(p.error("trailing characters"));
    }
    Ok(v)
}

/// A decimal number with a fraction or exponent as an `f64`: the browser's `parseFloat` in
/// wasm (no float parser compiled in), the standard library's elsewhere.
#[cfg(target_arch = "wasm32")]
fn parse_float(text: &str) -> Option<f64> {
    Some(js_sys::Number::parse_float(text)).filter(|f| f.is_finite())
}

#[cfg(not(target_arch = "wasm32"))]
fn parse_float(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.at)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        let hit = self.peek() == Some(c);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, String> {
        if self.s[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(v)
        } else {
            Err(self.error("invalid literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
            None => Err(self.error("unexpected end")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, String> {
        self.at += 1;
        let mut map = Map::new();
        if self.eat(b'}') {
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key"));
            }
            let key = self.string()?;
            if !self.eat(b':') {
                return Err(self.error("expected ':'"));
            }
            let v = self.value(depth + 1)?;
            map.insert(key, v);
            if self.eat(b'}') {
                return Ok(Value::Object(map));
            }
            if !self.eat(b',') {
                return Err(self.error("expected ',' or '}'"));
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, String> {
        self.at += 1;
        let mut items = Vec::new();
        if self.eat(b']') {
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            if self.eat(b']') {
                return Ok(Value::Array(items));
            }
            if !self.eat(b',') {
                return Err(self.error("expected ',' or ']'"));
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .s
            .get(self.at..self.at + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        self.at += 4;
        Ok(digits)
    }

    fn string(&mut self) -> Result<String, String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while matches!(self.peek(), Some(c) if c != b'"' && c != b'\\' && c >= 0x20) {
                self.at += 1;
            }
            // The input is a `str` and the run stops only at ASCII bytes: a char boundary.
            out.push_str(std::str::from_utf8(&self.s[start..self.at]).map_err(|e| e.to_string())?);
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let c = self.peek().ok_or_else(|| self.error("unexpected end"))?;
                    self.at += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.at..].starts_with(b"\\u")
                            {
                                self.at += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.error("invalid surrogate pair"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            // A lone surrogate has no `char`: kept as U+FFFD, as JS would
                            // show it once encoded.
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let int_start = self.at;
        let n = self.digits();
        if n == 0 || (n > 1 && self.s[int_start] == b'0') {
            return Err(self.error("invalid number"));
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            self.at += 1;
            integral = false;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            integral = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        // Only ASCII was consumed: a char boundary.
        let text = std::str::from_utf8(&self.s[start..self.at]).map_err(|e| e.to_string())?;
        // `-0` is the float -0.0, as serde_json reads it.
        if integral && text != "-0" {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::from(i));
            }
            if let Ok(u) = text.parse::<u64>() {
                return Ok(Value::from(u));
            }
        }
        parse_float(text)
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| self.error("number out of range"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_serde_json_parses() {
        for text in [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"e"},"f":-2.5,"g":1e3,"h":""}"#,
            r#" [ 0 , -0 , 18446744073709551615 , -9223372036854775808 , 0.1 ] "#,
            r#""esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 é""#,
            "{}",
            "[]",
        ] {
            let want: Value = serde_json::from_str(text).unwrap();
            assert_eq!(parse_json(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn round_trips_what_serde_json_writes() {
        let v = serde_json::json!({"id": "x\u{1}y", "n": [1, 2.25, -3], "o": {"p": null}});
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(parse_json(&text).unwrap(), v);
    }

    #[test]
    fn refuses_what_is_not_json() {
        for text in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "1.",
            "-",
            "tru",
            "\"a",
            "\"\\x\"",
            "\"\\u12\"",
            "1 2",
            "{a:1}",
            "\"\u{1}\"",
            "1e999",
            "\"\\ud83d\\u0041\"",
        ] {
            assert!(parse_json(text).is_err(), "{text:?} parsed");
        }
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert!(parse_json(&deep).is_err());
    }
}
