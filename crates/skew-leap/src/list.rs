//! The IERS/IANA `leap-seconds.list` format, parsed and checked.
//!
//! ```text
//! #$    3960835200                   last update (NTP seconds)
//! #@    3991593600                   expiry (NTP seconds)
//! 2272060800    10    # 1 Jan 1972   from this instant (NTP s) on, TAI − UTC = 10 s
//! 3692217600    37    # 1 Jan 2017
//! #h    49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49e    SHA-1 (see crate::hash)
//! ```
//!
//! Other lines starting with `#` are comments. A line that cannot be read is a
//! [`ParseError`] naming the line; data that reads but cannot be right (times out of order,
//! a step of TAI − UTC other than one second, an effective time not at the start of a month)
//! is kept as an [`Inconsistency`] beside the parsed list, so the hash verdict is still given.

use crate::calendar::{date_of_unix_s, iso_date, ntp_to_unix_s, SECS_PER_DAY};
use crate::hash::{digest_words, format_words, parse_word};
use thiserror::Error;

/// One data line: from `ntp_s` on, TAI − UTC is `tai_minus_utc_s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Effective instant, NTP seconds (00:00:00 UTC of the first day of a month).
    pub ntp_s: i64,
    /// TAI − UTC from that instant on, seconds.
    pub tai_minus_utc_s: i32,
    /// Line number in the file (1-based).
    pub line: usize,
}

impl Entry {
    /// The effective instant in Unix seconds.
    pub fn unix_s(&self) -> i64 {
        ntp_to_unix_s(self.ntp_s)
    }
}

/// The verdict on the `#h` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashCheck {
    /// The data hash to the value on the `#h` line.
    Valid {
        /// The `#h` line.
        line: usize,
        /// The digest.
        words: [u32; 5],
    },
    /// The data do not hash to the value on the `#h` line: the file was altered or damaged.
    Mismatch {
        /// The `#h` line.
        line: usize,
        /// What the `#h` line says.
        expected: [u32; 5],
        /// What the data hash to.
        computed: [u32; 5],
    },
    /// There is no `#h` line (a truncated file, or not the IERS/NIST format).
    Missing {
        /// What the data hash to.
        computed: [u32; 5],
    },
}

impl HashCheck {
    /// True only when the hash is present and matches.
    pub fn is_valid(&self) -> bool {
        matches!(self, HashCheck::Valid { .. })
    }

    /// `valid`, `mismatch` or `missing`.
    pub fn as_str(&self) -> &'static str {
        match self {
            HashCheck::Valid { .. } => "valid",
            HashCheck::Mismatch { .. } => "mismatch",
            HashCheck::Missing { .. } => "missing",
        }
    }

    /// What the data hash to, as the list writes it.
    pub fn computed_text(&self) -> String {
        match self {
            HashCheck::Valid { words, .. } => format_words(words),
            HashCheck::Mismatch { computed, .. } | HashCheck::Missing { computed } => {
                format_words(computed)
            }
        }
    }

    /// What the `#h` line says, when there is one.
    pub fn expected_text(&self) -> Option<String> {
        match self {
            HashCheck::Valid { words, .. } => Some(format_words(words)),
            HashCheck::Mismatch { expected, .. } => Some(format_words(expected)),
            HashCheck::Missing { .. } => None,
        }
    }
}

/// Data that parse but cannot be right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inconsistency {
    /// The line (1-based).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A parsed leap-seconds.list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeapList {
    /// `#$`: when the list was last updated, NTP seconds.
    pub last_update_ntp_s: i64,
    /// `#@`: when the list expires, NTP seconds. After it, the list cannot tell whether a
    /// leap second is scheduled.
    pub expires_ntp_s: i64,
    /// The data lines, in file order.
    pub entries: Vec<Entry>,
    /// The `#h` verdict.
    pub hash: HashCheck,
    /// Data that parse but cannot be right.
    pub inconsistencies: Vec<Inconsistency>,
    /// Number of lines in the file.
    pub lines: usize,
}

/// A line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// The line (1-based); for something missing, the last line of the file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses a leap-seconds.list from its bytes.
pub fn parse(bytes: &[u8]) -> Result<LeapList, ParseError> {
    let mut last_update: Option<(i64, String, usize)> = None;
    let mut expires: Option<(i64, String, usize)> = None;
    let mut hash_line: Option<([u32; 5], usize)> = None;
    let mut entries = Vec::new();
    let mut hashed_data = String::new();
    let mut pieces: Vec<&[u8]> = bytes.split(|&c| c == b'\n').collect();
    if pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    let lines = pieces.len();
    for (i, raw) in pieces.into_iter().enumerate() {
        let n = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let err = |message: String| ParseError { line: n, message };
        if let Some(rest) = raw.strip_prefix(b"#$") {
            let (v, text) =
                number_field(rest).map_err(|m| err(format!("`#$` (last update): {m}")))?;
            if let Some((_, _, first)) = &last_update {
                return Err(err(format!(
                    "a second `#$` line (the first is line {first})"
                )));
            }
            last_update = Some((v, text, n));
        } else if let Some(rest) = raw.strip_prefix(b"#@") {
            let (v, text) = number_field(rest).map_err(|m| err(format!("`#@` (expiry): {m}")))?;
            if let Some((_, _, first)) = &expires {
                return Err(err(format!(
                    "a second `#@` line (the first is line {first})"
                )));
            }
            expires = Some((v, text, n));
        } else if let Some(rest) = raw.strip_prefix(b"#h") {
            let text = String::from_utf8_lossy(rest);
            let words: Vec<&str> = text.split_whitespace().collect();
            let parsed: Option<Vec<u32>> = words.iter().map(|w| parse_word(w)).collect();
            match parsed {
                Some(v) if v.len() == 5 => {
                    if let Some((_, first)) = hash_line {
                        return Err(err(format!(
                            "a second `#h` line (the first is line {first})"
                        )));
                    }
                    hash_line = Some(([v[0], v[1], v[2], v[3], v[4]], n));
                }
                _ => {
                    return Err(err(format!(
                        "the `#h` line must hold five hexadecimal 32-bit words, found {:?}",
                        text.trim()
                    )))
                }
            }
        } else if raw.first() == Some(&b'#') || raw.iter().all(u8::is_ascii_whitespace) {
            // A comment (any bytes) or a blank line.
        } else {
            let text = std::str::from_utf8(raw)
                .map_err(|_| err("a data line that is not valid UTF-8 text".to_string()))?;
            let data = text.split('#').next().unwrap_or("");
            let fields: Vec<&str> = data.split_whitespace().collect();
            let shape = || {
                err(format!(
                    "expected a data line `NTP-seconds TAI-UTC [# comment]`, found {:?}",
                    text.trim()
                ))
            };
            if fields.len() < 2 {
                return Err(shape());
            }
            let ntp_s = unsigned(fields[0], 12).ok_or_else(shape)?;
            let tai = unsigned(fields[1], 6).ok_or_else(shape)?;
            hashed_data.push_str(fields[0]);
            hashed_data.push_str(fields[1]);
            entries.push(Entry {
                ntp_s,
                tai_minus_utc_s: tai as i32,
                line: n,
            });
        }
    }
    let end = |what: &str| ParseError {
        line: lines.max(1),
        message: format!(
            "end of file without {what}: the file is truncated or not a leap-seconds.list"
        ),
    };
    let (update_s, update_text, update_line) =
        last_update.ok_or_else(|| end("a `#$` line (last update)"))?;
    let (expires_s, expires_text, expires_line) =
        expires.ok_or_else(|| end("a `#@` line (expiry)"))?;
    if entries.is_empty() {
        return Err(end("any data line"));
    }
    let computed = digest_words(&format!("{update_text}{expires_text}{hashed_data}"));
    let hash = match hash_line {
        Some((expected, line)) if expected == computed => HashCheck::Valid {
            line,
            words: computed,
        },
        Some((expected, line)) => HashCheck::Mismatch {
            line,
            expected,
            computed,
        },
        None => HashCheck::Missing { computed },
    };
    let mut inconsistencies = check_entries(&entries);
    if expires_s < update_s {
        inconsistencies.push(Inconsistency {
            line: expires_line,
            message: format!(
                "the expiry ({}) is before the last update ({}, line {update_line})",
                iso_date(ntp_to_unix_s(expires_s)),
                iso_date(ntp_to_unix_s(update_s))
            ),
        });
    }
    Ok(LeapList {
        last_update_ntp_s: update_s,
        expires_ntp_s: expires_s,
        entries,
        hash,
        inconsistencies,
        lines,
    })
}

/// The first whitespace-separated field of a `#$`/`#@` line as a number, with its text.
fn number_field(rest: &[u8]) -> Result<(i64, String), String> {
    let text = String::from_utf8_lossy(rest);
    let field = text.split_whitespace().next().ok_or("no value")?;
    unsigned(field, 12)
        .map(|v| (v, field.to_string()))
        .ok_or_else(|| format!("{field:?} is not a number of seconds"))
}

fn unsigned(text: &str, max_digits: usize) -> Option<i64> {
    if text.is_empty() || text.len() > max_digits || !text.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn check_entries(entries: &[Entry]) -> Vec<Inconsistency> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let mut bad = |message: String| {
            out.push(Inconsistency {
                line: e.line,
                message,
            })
        };
        if e.ntp_s % SECS_PER_DAY != 0 {
            bad(format!("{} is not at 00:00:00 UTC", e.ntp_s));
        } else if date_of_unix_s(e.unix_s()).day != 1 {
            bad(format!(
                "{} ({}) is not the first day of a month: a leap second takes effect at the start of a month",
                e.ntp_s,
                iso_date(e.unix_s())
            ));
        }
        if let Some(prev) = i.checked_sub(1).map(|j| entries[j]) {
            if e.ntp_s <= prev.ntp_s {
                bad(format!(
                    "{} is not after the previous entry {} (line {})",
                    e.ntp_s, prev.ntp_s, prev.line
                ));
            }
            let step = e.tai_minus_utc_s - prev.tai_minus_utc_s;
            if step.abs() != 1 {
                bad(format!(
                    "TAI-UTC goes from {} s (line {}) to {} s: a leap second changes it by exactly 1 s",
                    prev.tai_minus_utc_s, prev.line, e.tai_minus_utc_s
                ));
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small list in the real format with a correct hash (computed independently with
    /// Python's hashlib over "3676924800" "3707596800" and the data fields).
    pub(crate) const SMALL: &str = "\
#\tA test list.
#$\t 3676924800
#@\t3707596800
#
3550089600\t35\t# 1 Jul 2012
3644697600\t36\t# 1 Jul 2015
3692217600\t37\t# 1 Jan 2017
#
#h\t604b25d3 19368243 a2485049 28514edf 2f9817c8
";

    fn small_with(from: &str, to: &str) -> String {
        assert!(SMALL.contains(from));
        SMALL.replacen(from, to, 1)
    }

    #[test]
    fn parses_small_list() {
        let l = parse(SMALL.as_bytes()).unwrap();
        assert_eq!(l.last_update_ntp_s, 3_676_924_800);
        assert_eq!(l.expires_ntp_s, 3_707_596_800);
        assert_eq!(l.entries.len(), 3);
        assert_eq!(
            l.entries[2],
            Entry {
                ntp_s: 3_692_217_600,
                tai_minus_utc_s: 37,
                line: 7
            }
        );
        assert_eq!(l.lines, 9);
        assert!(l.inconsistencies.is_empty(), "{:?}", l.inconsistencies);
        assert!(l.hash.is_valid(), "{:?}", l.hash);
        assert_eq!(
            l.hash.computed_text(),
            "604b25d3 19368243 a2485049 28514edf 2f9817c8"
        );
    }

    #[test]
    fn crlf_and_no_final_newline() {
        let crlf = SMALL.replace('\n', "\r\n");
        let a = parse(SMALL.as_bytes()).unwrap();
        let b = parse(crlf.as_bytes()).unwrap();
        assert_eq!(a.hash, b.hash);
        let trimmed = SMALL.trim_end_matches('\n');
        assert_eq!(parse(trimmed.as_bytes()).unwrap().hash, a.hash);
    }

    #[test]
    fn comments_are_not_hashed() {
        let a = parse(SMALL.as_bytes()).unwrap();
        let b =
            parse(small_with("A test list.", "Edited comment, \u{e9}t\u{e9}.").as_bytes()).unwrap();
        assert_eq!(a.hash, b.hash);
        let c = parse(small_with("# 1 Jan 2017", "# first of January").as_bytes()).unwrap();
        assert_eq!(a.hash, c.hash);
        // Latin-1 bytes in a comment are fine.
        let mut bytes = SMALL.as_bytes().to_vec();
        bytes.splice(2..2, [0xe9u8]);
        assert_eq!(parse(&bytes).unwrap().hash, a.hash);
    }

    #[test]
    fn any_changed_number_changes_the_hash() {
        let a = parse(SMALL.as_bytes()).unwrap();
        for (from, to) in [
            ("3676924800", "3676924801"),
            ("3707596800", "3739132800"),
            ("3644697600\t36", "3644697600\t35"),
            ("3692217600", "3692131200"),
        ] {
            let b = parse(small_with(from, to).as_bytes()).unwrap();
            match (&a.hash, &b.hash) {
                (
                    HashCheck::Valid { words, .. },
                    HashCheck::Mismatch {
                        expected,
                        computed,
                        line,
                    },
                ) => {
                    assert_eq!(expected, words);
                    assert_ne!(computed, words);
                    assert_eq!(*line, 9);
                }
                other => panic!("{from} -> {to}: {other:?}"),
            }
        }
    }

    #[test]
    fn hash_words_compare_as_integers() {
        // With `#$ 3678652800` the fourth word is 00ae3c12 (Python's hashlib): written
        // without its leading zeros, or in capitals, it still matches.
        let base = small_with("3676924800", "3678652800");
        for h in [
            "fa0160dc 170ca9a3 98a7c5b8 00ae3c12 ca1d7dab",
            "fa0160dc 170ca9a3 98a7c5b8 ae3c12 ca1d7dab",
            "FA0160DC 170CA9A3 98A7C5B8 AE3C12 CA1D7DAB",
        ] {
            let text = base.replacen("604b25d3 19368243 a2485049 28514edf 2f9817c8", h, 1);
            let l = parse(text.as_bytes()).unwrap();
            assert!(l.hash.is_valid(), "{h}: {:?}", l.hash);
            assert_eq!(
                l.hash.expected_text().unwrap(),
                "fa0160dc 170ca9a3 98a7c5b8 00ae3c12 ca1d7dab"
            );
        }
    }

    #[test]
    fn missing_hash() {
        let text = SMALL.replace("#h\t604b25d3 19368243 a2485049 28514edf 2f9817c8\n", "");
        let l = parse(text.as_bytes()).unwrap();
        assert!(matches!(l.hash, HashCheck::Missing { .. }));
        assert!(!l.hash.is_valid());
        assert_eq!(l.hash.expected_text(), None);
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line, needle) in [
            (
                small_with("3644697600\t36", "3644697600"),
                6,
                "expected a data line",
            ),
            (
                small_with("3644697600\t36", "36446"),
                6,
                "expected a data line",
            ),
            (
                small_with("3644697600\t36", "3644697600\tx"),
                6,
                "expected a data line",
            ),
            (
                small_with("3644697600\t36", "-3644697600\t36"),
                6,
                "expected a data line",
            ),
            (
                small_with("#$\t 3676924800", "#$\t soon"),
                2,
                "`#$` (last update)",
            ),
            (
                small_with("#@\t3707596800", "#@"),
                3,
                "`#@` (expiry): no value",
            ),
            (
                small_with("#h\t604b25d3", "#h\t604b25d3 1"),
                9,
                "five hexadecimal",
            ),
            (
                small_with("#h\t604b25d3", "#h\tnothex"),
                9,
                "five hexadecimal",
            ),
            (
                small_with("#$\t 3676924800\n", "#$\t 3676924800\n#$ 1\n"),
                3,
                "second `#$`",
            ),
            (
                small_with("#$\t 3676924800\n", ""),
                8,
                "without a `#$` line",
            ),
            (small_with("#@\t3707596800\n", ""), 8, "without a `#@` line"),
            (
                "#$ 1\n#@ 2\n# nothing\n".to_string(),
                3,
                "without any data line",
            ),
            (String::new(), 1, "without a `#$`"),
        ] {
            let e = parse(text.as_bytes()).unwrap_err();
            assert_eq!(e.line, line, "{e}");
            assert!(e.to_string().contains(needle), "{e}");
            assert!(e.to_string().starts_with(&format!("line {line}: ")), "{e}");
        }
        let mut bytes = SMALL.as_bytes().to_vec();
        let at = SMALL.find("3644697600").unwrap();
        bytes[at + 2] = 0xff;
        assert_eq!(parse(&bytes).unwrap_err().line, 6);
    }

    #[test]
    fn inconsistencies_are_reported_with_lines() {
        let l = parse(small_with("3692217600\t37", "3692217600\t38").as_bytes()).unwrap();
        assert_eq!(l.inconsistencies.len(), 1, "{:?}", l.inconsistencies);
        assert_eq!(l.inconsistencies[0].line, 7);
        assert!(l.inconsistencies[0]
            .message
            .contains("from 36 s (line 6) to 38 s"));
        let l = parse(small_with("3692217600", "3692217601").as_bytes()).unwrap();
        assert!(l.inconsistencies[0].message.contains("not at 00:00:00 UTC"));
        let l = parse(small_with("3692217600", "3692131200").as_bytes()).unwrap();
        assert!(
            l.inconsistencies[0].message.contains("2016-12-31"),
            "{:?}",
            l.inconsistencies
        );
        let l = parse(small_with("3692217600", "3644697600").as_bytes()).unwrap();
        assert!(l
            .inconsistencies
            .iter()
            .any(|i| i.message.contains("not after")));
        let l = parse(small_with("#@\t3707596800", "#@\t3600000000").as_bytes()).unwrap();
        assert!(l
            .inconsistencies
            .iter()
            .any(|i| i.line == 3 && i.message.contains("before the last update")));
    }

    #[test]
    fn extra_fields_are_allowed_and_not_hashed() {
        let a = parse(SMALL.as_bytes()).unwrap();
        let b =
            parse(small_with("3692217600\t37\t#", "3692217600\t37\t57754\t#").as_bytes()).unwrap();
        assert_eq!(a.hash, b.hash);
    }

    /// The real list (tzdata 2026f), as shipped in data/.
    const REAL: &[u8] = include_bytes!("../../../data/leap-seconds.list");
    use proptest::strategy::Strategy;

    proptest::proptest! {
        /// No input makes the parser panic; whatever parses has data and a hash verdict.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            if let Ok(l) = parse(&bytes) {
                proptest::prop_assert!(!l.entries.is_empty());
            }
        }

        /// A digit of a data line's hashed fields (NTP seconds, TAI − UTC) changed in the
        /// real list: it still parses, and the hash says `mismatch` at the `#h` line.
        #[test]
        fn a_changed_data_digit_breaks_the_hash(
            which in proptest::prelude::any::<proptest::sample::Index>(),
            digit in 0u8..9,
        ) {
            let good = parse(REAL).unwrap();
            let HashCheck::Valid { line: h_line, .. } = good.hash else { panic!("real list valid") };
            // Positions of digits in the first two fields of data lines.
            let mut spots = Vec::new();
            let mut offset = 0;
            for line in REAL.split_inclusive(|&b| b == b'\n') {
                if line.first().is_some_and(u8::is_ascii_digit) {
                    let data_end = line.iter().position(|&b| b == b'#').unwrap_or(line.len());
                    spots.extend((0..data_end).filter(|&i| line[i].is_ascii_digit()).map(|i| offset + i));
                }
                offset += line.len();
            }
            let at = spots[which.index(spots.len())];
            let mut bytes = REAL.to_vec();
            // A different digit: 0..9 skipping the current one.
            let old = bytes[at] - b'0';
            bytes[at] = b'0' + if digit >= old { digit + 1 } else { digit };
            let l = parse(&bytes).unwrap();
            match l.hash {
                HashCheck::Mismatch { line, expected, computed } => {
                    proptest::prop_assert_eq!(line, h_line);
                    proptest::prop_assert_ne!(expected, computed);
                }
                other => proptest::prop_assert!(false, "{:?}", other),
            }
        }

        /// Any byte of a comment changed (past its `#` and the next character, so it stays
        /// a comment): the list, its data and its valid hash are unchanged.
        #[test]
        fn comment_bytes_are_not_data(
            which in proptest::prelude::any::<proptest::sample::Index>(),
            byte in proptest::prelude::any::<u8>().prop_filter("not a line break", |b| *b != b'\n'),
        ) {
            let good = parse(REAL).unwrap();
            let mut spots = Vec::new();
            let mut offset = 0;
            for line in REAL.split_inclusive(|&b| b == b'\n') {
                let is_comment = line.first() == Some(&b'#')
                    && !matches!(line.get(1), Some(b'$' | b'@' | b'h'));
                if is_comment && line.len() > 3 {
                    spots.extend((2..line.len() - 1).map(|i| offset + i));
                }
                offset += line.len();
            }
            let at = spots[which.index(spots.len())];
            let mut bytes = REAL.to_vec();
            bytes[at] = byte;
            let l = parse(&bytes).unwrap();
            proptest::prop_assert_eq!(l, good);
        }

        /// The real list cut after any whole line: each missing part is named (no `#$`, no
        /// `#@`, no data), and a list cut after its data but before `#h` reads with the hash
        /// `missing`, never `valid`.
        #[test]
        fn a_list_cut_after_any_line_says_what_is_missing(
            keep in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            let lines: Vec<&[u8]> = REAL.split_inclusive(|&b| b == b'\n').collect();
            let n = keep.index(lines.len()); // lines kept: 0..len-1, so `#h` is always cut
            let bytes: Vec<u8> = lines[..n].concat();
            let has = |prefix: &[u8]| lines[..n].iter().any(|l| l.starts_with(prefix));
            let data = lines[..n].iter().any(|l| l.first().is_some_and(u8::is_ascii_digit));
            match parse(&bytes) {
                Ok(l) => {
                    proptest::prop_assert!(has(b"#$") && has(b"#@") && data);
                    proptest::prop_assert!(matches!(l.hash, HashCheck::Missing { .. }), "{:?}", l.hash);
                }
                Err(e) => {
                    proptest::prop_assert_eq!(e.line, n.max(1));
                    let what = if !has(b"#$") {
                        "`#$`"
                    } else if !has(b"#@") {
                        "`#@`"
                    } else {
                        proptest::prop_assert!(!data);
                        "any data line"
                    };
                    proptest::prop_assert!(e.message.contains(what), "{} lacks {}", e.message, what);
                    proptest::prop_assert!(e.message.starts_with("end of file without"), "{}", e.message);
                }
            }
        }

        /// A data line deleted from the real list: the hash no longer matches, and deleting
        /// any line but the first and the last also leaves a step of 2 s, reported as an
        /// inconsistency on the line after the gap.
        #[test]
        fn a_deleted_data_line_is_caught(which in proptest::prelude::any::<proptest::sample::Index>()) {
            let lines: Vec<&[u8]> = REAL.split_inclusive(|&b| b == b'\n').collect();
            let data: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].first().is_some_and(u8::is_ascii_digit))
                .collect();
            let k = which.index(data.len());
            let bytes: Vec<u8> = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != data[k])
                .flat_map(|(_, l)| l.iter().copied())
                .collect();
            let l = parse(&bytes).unwrap();
            proptest::prop_assert!(matches!(l.hash, HashCheck::Mismatch { .. }), "{:?}", l.hash);
            if k > 0 && k + 1 < data.len() {
                // The next data line moved up by one line; TAI − UTC now jumps by 2 s.
                let next_line = data[k + 1];
                proptest::prop_assert!(
                    l.inconsistencies
                        .iter()
                        .any(|i| i.line == next_line && i.message.contains("changes it by exactly 1 s")),
                    "{:?}",
                    l.inconsistencies
                );
            }
        }

        /// Lines of list-like tokens in any order: no panic, and errors name a real line.
        #[test]
        fn list_like_lines(lines in proptest::collection::vec(
            proptest::sample::select(vec![
                "#$ 3676924800", "#@ 3707596800", "#h 1 2 3 4 5", "# c", "",
                "3550089600 35", "3644697600 36 # x", "3692217600\t37", "99 x", "#h zz",
                "123", "3692217600 37 57754", "\r",
            ]),
            0..12,
        )) {
            let text = lines.join("\n");
            match parse(text.as_bytes()) {
                Ok(l) => proptest::prop_assert!(l.lines >= l.entries.len()),
                Err(e) => proptest::prop_assert!(e.line >= 1 && e.line <= lines.len().max(1)),
            }
        }
    }
}
