//! Cron-run drift monitoring: what one `skew monitor` run leaves behind.
//!
//! * [`schema`]: the versioned drift-log CSV schema, one row type for every kind of row;
//! * [`rows`]: a run's results turned into drift-log rows (pure);
//! * [`log`]: appending rows under an advisory lock with fsync, repairing a torn last line
//!   left by a killed run, and reading logs back (torn last line skipped with a warning);
//! * [`prom`]: the Prometheus textfile (rendered purely, written atomically);
//! * [`nagios`]: the check_ntp_time-style status line and exit code (pure);
//! * [`nts`]: NTS servers' findings (key exchange, authentication, certificate end) (pure);
//! * [`config`]: the TOML configuration file;
//! * [`ntpconf`]: the servers of the system's NTP configuration (chrony, ntpd, timesyncd);
//! * [`run`]: one run: probe and local readings concurrently, assembled into a report.
#![warn(missing_docs)]

pub mod config;
pub mod log;
pub mod nagios;
pub mod ntpconf;
pub mod nts;
pub mod prom;
pub mod rows;
pub mod run;
pub mod scan;
pub mod schema;

pub use rows::{ClockReading, LeapReading, PauseReading, RunReport};
pub use schema::{DriftRow, Kind, SCHEMA_VERSION};
