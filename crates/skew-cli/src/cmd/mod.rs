//! One module per subcommand; each turns its arguments into library calls and prints.

pub mod check;
pub mod clocks;
pub mod completions;
pub mod daemon;
pub mod exporter;
pub mod leap;
pub mod leap_fetch;
pub mod man;
pub mod monitor;
pub mod now;
pub mod nts_args;
pub mod pauses;
pub mod probe;
pub mod proxy;
pub mod report;
pub mod run_options;
pub mod serve;
