//! Cron-run drift monitoring: what one `skew monitor` run leaves behind.
//!
//! * [`rows`]: a run's results turned into drift-log rows (pure; the schema, reader and
//!   appender are `skew-driftlog`'s);
//! * [`plan`]: what a run does, from flags over the configuration file over the defaults;
//! * [`outputs`]: writing a run's log rows, state and textfile, failures collected;
//! * [`prom`]: the Prometheus textfile (rendered purely, written atomically);
//! * [`nagios`]: the check_ntp_time-style status line and exit code (pure);
//! * [`nts`]: NTS servers' findings (key exchange, authentication, certificate end) (pure);
//! * [`config`]: the TOML configuration file;
//! * [`ntpconf`]: the servers of the system's NTP configuration (chrony, ntpd, timesyncd);
//! * [`run`]: one run: probe and local readings concurrently, assembled into a report.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod nagios;
pub mod ntpconf;
pub mod nts;
pub mod outputs;
pub mod plan;
pub mod prom;
pub mod rows;
pub mod run;

pub use rows::{ClockReading, LeapReading, PauseReading, RunReport};
pub use skew_driftlog::{DriftRow, Kind, SCHEMA_VERSION};
