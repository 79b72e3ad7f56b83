//! The dashboard page: one HTML document with its CSS and JS inline (no other request than
//! to the handlers under its base path), rendered for a base path.

/// The page template; `__BASE_PATH__` stands for the base path as a JS string literal.
const TEMPLATE: &str = include_str!("dashboard.html");

/// The placeholder of the base path in [`TEMPLATE`].
const MARKER: &str = "__BASE_PATH__";

/// Where [`MARKER`] starts in [`TEMPLATE`], found when compiling.
const AT: usize = find(TEMPLATE.as_bytes(), MARKER.as_bytes());
const _: () = assert!(
    AT < TEMPLATE.len(),
    "the dashboard template has no base-path marker"
);

/// The first position of `needle` in `hay`, or `hay.len()` (a compile-time search).
const fn find(hay: &[u8], needle: &[u8]) -> usize {
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let mut j = 0;
        while j < needle.len() && hay[i + j] == needle[j] {
            j += 1;
        }
        if j == needle.len() {
            return i;
        }
        i += 1;
    }
    hay.len()
}

/// The dashboard for handlers under `base` (normalized: see [`super::route::normalize_base`]).
pub fn render(base: &str) -> String {
    let (head, tail) = TEMPLATE.split_at(AT);
    let mut page = String::with_capacity(TEMPLATE.len() + base.len() + 8);
    page.push_str(head);
    page.push_str(&script_string(base));
    page.push_str(tail.get(MARKER.len()..).unwrap_or_default());
    page
}

/// `s` as a JS string literal safe inside a `<script>` element (`<` escaped, so no
/// `</script>` can end it; line terminators escaped).
fn script_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '<' => out.push_str("\\u003c"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_path_is_a_string_literal_that_cannot_end_the_script() {
        let page = render("/a</script><b>\"x");
        assert!(page.contains(r#"const BASE = "/a\u003c/script>\u003cb>\"x";"#));
        assert_eq!(page.matches("</script>").count(), 1);
        assert_eq!(
            script_string("a\\b\n\u{1}\u{2028}"),
            r#""a\\b\n\u0001\u2028""#
        );
        assert!(!page.contains("__BASE_PATH__"));
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        let page = render("/queue");
        for needle in ["src=", "href=", "@import", "http://", "https://", "//cdn"] {
            assert!(!page.contains(needle), "{needle}");
        }
    }
}
