//! skew-report's integration tests, in one binary that links once: each module was a test
//! binary of its own; every test takes `skew_testkit::one_module_at_a_time` first, so modules
//! never overlap (the scaling tests time themselves) while the tests of one module run in
//! parallel, as before.

mod hostile_values;
mod picture;
mod render;
mod scaling;
