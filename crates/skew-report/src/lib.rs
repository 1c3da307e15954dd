//! PNG drift reports from skew's drift logs: `skew report`.
//!
//! Pure parts (no IO, no clock): [`time`] (RFC 3339, `--since 7d`), [`filter`], [`data`]
//! (the rows as columns), [`ingest`] (a column-selective decoder over
//! [`skew_driftlog::scan`]), [`gaps`], [`decimate`] (min/max per pixel column), [`stats`]
//! (ntpviz-style), [`events`], [`fleet`] (pairwise skew and lease margins from logs),
//! [`analysis`], [`ranges`], [`ticks`], [`timescale`] (the time axis, broken at long
//! gaps), [`layout`], [`text`].
//!
//! Edges: [`read`] (files, globs, gzip, threads), [`render`] (plotters bitmap backend with
//! an embedded font), [`output`] (PNG encoding, atomic writes), and [`report`], which runs
//! them in order.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod analysis;
pub mod data;
pub mod decimate;
pub mod events;
pub mod filter;
pub mod fleet;
pub mod gaps;
pub mod ingest;
pub mod layout;
pub mod output;
pub mod ranges;
pub mod read;
pub mod render;
pub mod report;
pub mod stats;
pub mod text;
pub mod ticks;
pub mod time;
pub mod timescale;

pub use analysis::{analyze, Analysis, AnalysisOptions};
pub use filter::Filter;
pub use report::{run_report, ReportError, ReportOutcome, ReportRequest};
pub use skew_driftlog::scan::parse_size;
pub use skew_driftlog::ReadLimits;
