//! Text from the network or from a log, made safe to print on a terminal.
//!
//! A host or server name such as `\x1b[31mEVIL` read from a drift log (or sent by a server)
//! would otherwise reach the terminal raw and be obeyed: colours, cursor movement, a
//! rewritten screen or title, text reordered by bidirectional overrides. Every command that
//! prints such text in human form passes it through [`escape_control`]; JSON output needs
//! nothing (JSON escapes control characters itself).

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a terminal raw: C0 controls (including ESC, BEL, CR, LF and
/// TAB), DEL, C1 controls (U+0080–U+009F, among them the one-byte CSI), the Unicode line
/// and paragraph separators, and the bidirectional marks, embeddings, overrides and
/// isolates that reorder what follows them.
pub fn is_unsafe_for_terminal(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}' | '\u{200f}'
        | '\u{2028}' | '\u{2029}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// `text` with every character [`is_unsafe_for_terminal`] written as an escape: `\t`,
/// `\n`, `\r`, `\x1b` for the other ASCII controls, `\u{9b}` for the rest. Text without
/// such characters is returned as it is, without copying. Backslashes are left alone (a
/// name may contain them), so the escaped form is for reading, not for parsing back.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_for_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe_for_terminal(c) && (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe_for_terminal(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_obey() {
        assert_eq!(escape_control("\x1b[31mEVIL"), "\\x1b[31mEVIL");
        assert_eq!(
            escape_control("a\tb\nc\rd\x07\x7f"),
            "a\\tb\\nc\\rd\\x07\\x7f"
        );
        assert_eq!(escape_control("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(escape_control("abc\u{202e}gpj.exe"), "abc\\u{202e}gpj.exe");
        assert_eq!(escape_control("x\u{2028}y"), "x\\u{2028}y");
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for s in [
            "127.0.0.1:123",
            "[::1]:123",
            "ntp.example.org",
            "µs ±5 · –",
            "DOMAIN\\host",
            "",
        ] {
            assert!(matches!(escape_control(s), Cow::Borrowed(_)), "{s}");
        }
    }

    proptest::proptest! {
        /// Whatever the input, the output holds no character a terminal would obey, and
        /// text without such characters comes back unchanged.
        #[test]
        fn output_is_always_safe(s in proptest::prelude::any::<String>()) {
            let e = escape_control(&s);
            proptest::prop_assert!(!e.chars().any(is_unsafe_for_terminal));
            if !s.chars().any(is_unsafe_for_terminal) {
                proptest::prop_assert_eq!(e.as_ref(), s.as_str());
            }
        }
    }
}
