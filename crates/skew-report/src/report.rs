//! One report from start to finish: read the logs, analyse, draw, write the PNG (and the
//! statistics CSV) atomically. Nothing is written unless everything before succeeded.

use crate::analysis::{analyze, Analysis, AnalysisOptions};
use crate::filter::Filter;
use crate::output::{encode_png, write_atomic, WriteError};
use crate::read::{expand_inputs, read_logs, FileSummary, ReadError};
use crate::render::{render, PageOptions, RenderError};
use crate::time::rfc3339_s;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// What to report on and where to write it.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// Log files or glob patterns.
    pub inputs: Vec<String>,
    /// Rows to use.
    pub filter: Filter,
    /// How to analyse.
    pub analysis: AnalysisOptions,
    /// Page width, px.
    pub width: u32,
    /// Page height, px.
    pub height: u32,
    /// Title (default: from the hosts).
    pub title: Option<String>,
    /// The PNG to write.
    pub output: PathBuf,
    /// Where to write the statistics as CSV.
    pub stats_csv: Option<PathBuf>,
    /// Threads for parsing.
    pub threads: usize,
    /// How much of each log is read at most (size, line length).
    pub limits: skew_driftlog::ReadLimits,
}

/// Why no report was written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A log could not be found or read, or is not a valid drift log.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The logs hold no row in the selected range.
    #[error("nothing to report: {0}")]
    NoData(String),
    /// Drawing failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// An output could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Wall time of each stage, s.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Reading and parsing the logs.
    pub read_s: f64,
    /// Analysis (statistics, events, skew).
    pub analyze_s: f64,
    /// Drawing.
    pub render_s: f64,
    /// PNG encoding and writing.
    pub write_s: f64,
}

/// A report that was written.
#[derive(Debug, Clone, Serialize)]
pub struct ReportOutcome {
    /// The PNG written.
    pub output: String,
    /// The statistics CSV written, if asked.
    pub stats_csv: Option<String>,
    /// Page size.
    pub width: u32,
    /// Page height.
    pub height: u32,
    /// The files read.
    pub files: Vec<FileSummary>,
    /// Rows read from all files.
    pub rows_read: u64,
    /// Rows the filters kept.
    pub rows_used: u64,
    /// Things skipped while reading (torn last lines).
    pub warnings: Vec<String>,
    /// The analysis.
    #[serde(flatten)]
    pub analysis: Analysis,
    /// Time spent.
    pub timings: Timings,
}

fn no_data_reason(files: &[FileSummary], filter: &Filter) -> String {
    let rows: u64 = files.iter().map(|f| f.rows).sum();
    let first = files.iter().filter_map(|f| f.first.clone()).min();
    let last = files.iter().filter_map(|f| f.last.clone()).max();
    let mut why = Vec::new();
    if let Some(s) = filter.since_ns {
        why.push(format!("since {}", rfc3339_s(s)));
    }
    if let Some(u) = filter.until_ns {
        why.push(format!("until {}", rfc3339_s(u)));
    }
    if !filter.hosts.is_empty() {
        why.push(format!("host {}", filter.hosts.join(", ")));
    }
    if !filter.servers.is_empty() {
        why.push(format!("server {}", filter.servers.join(", ")));
    }
    let range = match (first, last) {
        (Some(a), Some(b)) => format!(" (the logs run from {a} to {b})"),
        _ => String::new(),
    };
    format!(
        "no rows match {} in {rows} rows read{range}",
        if why.is_empty() {
            "anything".into()
        } else {
            why.join(", ")
        }
    )
}

/// Reads, analyses, draws and writes.
pub fn run_report(req: &ReportRequest) -> Result<ReportOutcome, ReportError> {
    let t0 = Instant::now();
    let paths = expand_inputs(&req.inputs)?;
    let (data, files) = read_logs(&paths, &req.filter, req.threads, req.limits)?;
    let rows_used: u64 = files.iter().map(|f| f.used).sum();
    let has_series = data.series.iter().any(|s| !s.is_empty());
    if rows_used == 0 || (!req.filter.servers.is_empty() && !has_series) {
        return Err(ReportError::NoData(no_data_reason(&files, &req.filter)));
    }
    let t1 = Instant::now();
    let analysis = analyze(&data, &req.analysis);
    let t2 = Instant::now();
    let title = req
        .title
        .clone()
        .unwrap_or_else(|| crate::text::default_title(&analysis));
    let rgb = render(
        &data,
        &analysis,
        &PageOptions {
            width: req.width,
            height: req.height,
            title,
        },
    )?;
    let t3 = Instant::now();
    let png = encode_png(&rgb, req.width, req.height).map_err(RenderError)?;
    write_atomic(&req.output, &png)?;
    if let Some(p) = &req.stats_csv {
        write_atomic(p, crate::stats::to_csv(&analysis.stats).as_bytes())?;
    }
    let t4 = Instant::now();
    Ok(ReportOutcome {
        output: req.output.display().to_string(),
        stats_csv: req.stats_csv.as_ref().map(|p| p.display().to_string()),
        width: req.width,
        height: req.height,
        rows_read: files.iter().map(|f| f.rows).sum(),
        rows_used,
        warnings: files.iter().flat_map(|f| f.warnings.clone()).collect(),
        files,
        analysis,
        timings: Timings {
            read_s: (t1 - t0).as_secs_f64(),
            analyze_s: (t2 - t1).as_secs_f64(),
            render_s: (t3 - t2).as_secs_f64(),
            write_s: (t4 - t3).as_secs_f64(),
        },
    })
}
