//! Local clocks for skew.
//!
//! * [`kernel`]: the kernel's clock discipline state as reported by `adjtimex` — decoded
//!   purely from a snapshot ([`kernel::Timex`]) so every state and flag can be tested;
//! * [`adjtimex`]: the edge that reads that snapshot, strictly read-only (`modes = 0`).
#![warn(missing_docs)]

pub mod adjtimex;
pub mod kernel;

pub use kernel::{KernelState, TimeState, Timex};
