//! Leap seconds for skew.
//!
//! Pure modules (no clock reads, no files, no sockets):
//!
//! * [`calendar`]: NTP/Unix/MJD seconds, civil dates, month ends, ISO 8601, `--at` parsing;
//! * [`list`] and [`hash`]: the IERS/IANA leap-seconds.list, parsed, with its SHA-1 checked;
//! * [`schedule`]: what the list says at an instant (TAI − UTC, last and next leap) — the small
//!   API other commands use: [`LeapList::tai_minus_utc_at`];
//! * [`list_check`], [`kernel_check`], [`announce`], [`smear`]: the judgements — the list's
//!   hash and expiry, the kernel's leap state and TAI offset, servers' leap indicators,
//!   leap smearing detected from offsets against the majority;
//! * [`fetch`]: `skew leap --fetch`'s decisions (sources, whether a download may replace the
//!   list in use), over a download function the caller gives;
//! * [`in_use`]: which of several lists (the system's, skew's cache) to use;
//! * [`report`]: all of it at once, as the serialisable report of `skew leap`;
//! * [`observe`]: what the judgements need from a probe result;
//! * [`finding`]: findings and the overall verdict.
//!
//! The edge, [`system`], finds and reads the lists on this machine (the system's and skew's
//! cache).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod announce;
pub mod calendar;
pub mod fetch;
pub mod finding;
pub mod hash;
pub mod in_use;
pub mod kernel_check;
pub mod list;
pub mod list_check;
pub mod observe;
pub mod report;
pub mod schedule;
pub mod smear;
pub mod system;

pub use finding::{Finding, Severity, Verdict};
pub use list::{parse, HashCheck, LeapList, ParseError};
pub use schedule::{LeapEvent, LeapKind};
