//! The process edge of skew: what touches processes and their signal dispositions, each
//! `unsafe` block with a `// SAFETY:` comment.
//!
//! * [`sibling`]: the pause detector's witness, a forked child sharing an anonymous page
//!   (mmap, fork, wait4, close_range, prctl);
//! * [`signals`]: SIGINT and SIGTERM as a stop flag for loops that end cleanly, and the
//!   default SIGPIPE disposition for a command-line tool.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod sibling;
pub mod signals;
