//! Statistics over a window of one server's samples, as chrony's `sourcestats` reports them,
//! and the overlapping Allan deviation of the offset series. Pure: integer nanoseconds in,
//! figures out; no IO, no clock reads.
//!
//! * [`runs`]: the runs test on residual signs (exact critical values from the binomial law);
//! * [`tdist`]: Student's t quantile used for the frequency's error bound;
//! * [`regression`]: weighted least squares that drops the oldest samples until the
//!   residuals pass the runs test (chrony's approach, our code);
//! * [`sourcestats`]: NP, NR, span, frequency, frequency skew, offset, standard deviation;
//! * [`allan`]: the overlapping Allan deviation of phase (offset) data on a regular grid,
//!   gaps allowed.
//!
//! Signs follow skew: an offset is server − local, so a positive frequency means the server's
//! clock gains on the local one (the local clock runs slow against it).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod allan;
pub mod regression;
pub mod runs;
pub mod sourcestats;
pub mod tdist;

pub use allan::{adev_octaves, overlapping_adev, phase_grid, AdevPoint};
pub use sourcestats::{sourcestats, Sample, SourceStats, StatsConfig};
