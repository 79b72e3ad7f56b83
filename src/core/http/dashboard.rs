//! The dashboard page: one HTML document with its CSS and JS inline (no other request than
//! to the handlers under its base path), rendered for a base path.

/// The page template; `__BASE_PATH__` stands for the base path as a JS string literal.
const TEMPLATE: &str = include_str!("dashboard.html");

/// The dashboard for handlers under `base` (normalized: see [`super::route::normalize_base`]).
pub fn render(base: &str) -> String {
    TEMPLATE.replacen("__BASE_PATH__", &script_string(base), 1)
}

/// `s` as a JS string literal safe inside a `<script>` element (`<` escaped, so no
/// `</script>` can end it).
fn script_string(s: &str) -> String {
    serde_json::Value::from(s)
        .to_string()
        .replace('<', "\\u003c")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_path_is_a_string_literal_that_cannot_end_the_script() {
        let page = render("/a</script><b>\"x");
        assert!(page.contains(r#"const BASE = "/a\u003c/script>\u003cb>\"x";"#));
        assert_eq!(page.matches("</script>").count(), 1);
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
