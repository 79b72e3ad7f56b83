//! Numbers written as JS writes them, for error messages: `5` (not `5.0`), `0.5`, `NaN`,
//! `Infinity`. Written without `f64`'s `Display`, which brings ~12 KB of float printing into
//! the `.wasm` (whole numbers take the integer printer, others serde_json's).

/// `x` as text, close to JS `String(x)`.
pub fn js_number(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        // -0 is written 0, as JS writes it.
        (x as i64).to_string()
    } else {
        serde_json::Number::from_f64(x).map_or_else(String::new, |n| n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::js_number;

    #[test]
    fn writes_numbers_as_js_does_for_messages() {
        assert_eq!(js_number(5.0), "5");
        assert_eq!(js_number(-0.0), "0");
        assert_eq!(js_number(-12.0), "-12");
        assert_eq!(js_number(0.5), "0.5");
        assert_eq!(js_number(315_360_000_000.0), "315360000000");
        assert_eq!(js_number(f64::NAN), "NaN");
        assert_eq!(js_number(f64::INFINITY), "Infinity");
        assert_eq!(js_number(f64::NEG_INFINITY), "-Infinity");
    }
}
