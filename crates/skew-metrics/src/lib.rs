//! One definition of every Prometheus metric skew exposes, shared by the textfile of
//! `skew monitor` and the exporter (`/metrics`, `/probe`), and their encoding.
//!
//! * [`defs`]: name, help, type and labels of each metric (pure data);
//! * [`exposition`]: families with samples, encoded in the Prometheus text format by the
//!   official `prometheus-client` crate;
//! * [`ntp`]: the families of probe results and of the majority's agreement, filled the same
//!   way by every writer.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod defs;
pub mod exposition;
pub mod ntp;

pub use defs::{Kind, MetricDef};
pub use exposition::{Exposition, CONTENT_TYPE};
