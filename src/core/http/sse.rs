//! Server-sent-event framing (the `text/event-stream` format of the HTML standard).

/// How often a job stream sends a comment line so proxies keep the connection open (ms).
pub const KEEP_ALIVE_MS: u64 = 15_000;

/// The keep-alive comment: a line starting with `:`, which clients ignore.
pub const KEEP_ALIVE: &str = ": keep-alive\n\n";

/// One event: an `event:` line, one `data:` line per line of `data` (CR, LF and CRLF all
/// end a line, as the format reads them), then the blank line that dispatches it.
pub fn frame(event: &str, data: &str) -> String {
    let mut out = String::with_capacity(event.len() + data.len() + 16);
    out.push_str("event: ");
    out.push_str(&single_line(event));
    out.push('\n');
    // A CR right before an LF is dropped: CRLF ends one line, as CR and LF do.
    let mut chars = data.chars().peekable();
    out.push_str("data: ");
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\ndata: ");
            }
            c => out.push(c),
        }
    }
    out.push('\n');
    out.push('\n');
    out
}

/// `s` with its line breaks replaced by spaces (an event name is one line).
fn single_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_event() {
        assert_eq!(
            frame("progress", r#"{"progress":50}"#),
            "event: progress\ndata: {\"progress\":50}\n\n"
        );
    }

    #[test]
    fn multi_line_data_gets_one_data_line_per_line() {
        assert_eq!(
            frame("state", "a\nb\r\nc\rd"),
            "event: state\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
        );
        assert_eq!(frame("x", ""), "event: x\ndata: \n\n");
    }

    #[test]
    fn an_event_name_cannot_break_the_frame() {
        assert_eq!(frame("a\nb", "1"), "event: a b\ndata: 1\n\n");
    }

    #[test]
    fn keep_alive_is_a_comment_every_fifteen_seconds() {
        assert!(KEEP_ALIVE.starts_with(':') && KEEP_ALIVE.ends_with("\n\n"));
        assert_eq!(KEEP_ALIVE_MS, 15_000);
    }
}
