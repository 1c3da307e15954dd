//! The CLI's integration tests, in one binary that links once: each module runs the `skew`
//! binary against real peers (chronyd, libfaketime, `skew serve`/`skew proxy`) on loopback.
//! `common` holds the helpers they share. Each module was a test binary of its own; every test
//! takes `common::one_module_at_a_time` first, so modules still never overlap while the tests
//! of one module run in parallel, as before.

mod common;

mod clocks;
mod disk_full;
mod docs;
mod etiquette;
mod exporter;
mod exporter_nts;
mod exporter_pool;
mod exporter_prometheus;
mod fault_matrix;
mod flood;
mod formats;
mod leap;
mod leap_chrony;
mod leap_fetch;
mod leap_in_use;
mod leap_serve;
mod log_limits;
mod man_completions;
mod monitor;
mod nts_monitor;
mod nts_probe;
mod pauses;
mod probe_chrony;
mod proxy_paths;
mod report;
mod run_id;
mod sandbox;
mod scale;
mod select_chrony;
mod serve_faults;
mod spoofing;
mod stop_signals;
mod structure;
mod symlinks;
mod unreachable;
mod validation;
mod verdicts;
