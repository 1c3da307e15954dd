//! Tests that share one binary but were written for binaries of their own.

use std::sync::{Condvar, Mutex};

/// Held by a test while it runs; tests of other modules wait for it.
#[derive(Debug)]
pub struct OneModule(());

static MODULE_RUNNING: Mutex<(Option<&'static str>, usize)> = Mutex::new((None, 0));
static MODULE_DONE: Condvar = Condvar::new();

/// Keeps tests of different modules from overlapping, as when each module was a test binary
/// of its own and cargo ran them one after another: timing-sensitive tests (spoofed replies,
/// pauses, clock steps) were written for that, and the scale and fault-matrix runs load both
/// cores. Tests of one module still run in parallel with each other, as before. Call it first
/// in every test with `module_path!()`.
///
/// Relies on libtest starting tests in name order, so that a module's tests are handed out
/// together: a test waits only for tests of the module before it that are already running.
pub fn one_module_at_a_time(module: &'static str) -> OneModule {
    let mut s = MODULE_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    while s.0.is_some_and(|m| m != module) {
        s = MODULE_DONE.wait(s).unwrap_or_else(|e| e.into_inner());
    }
    s.0 = Some(module);
    s.1 += 1;
    OneModule(())
}

impl Drop for OneModule {
    fn drop(&mut self) {
        let mut s = MODULE_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        s.1 -= 1;
        if s.1 == 0 {
            s.0 = None;
            MODULE_DONE.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::one_module_at_a_time;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn modules_wait_for_each_other_and_a_module_runs_in_parallel() {
        let a1 = one_module_at_a_time("m::a");
        let a2 = one_module_at_a_time("m::a"); // same module: no wait
        let entered = Arc::new(AtomicBool::new(false));
        let e = entered.clone();
        let b = std::thread::spawn(move || {
            let _g = one_module_at_a_time("m::b");
            e.store(true, Ordering::SeqCst);
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!entered.load(Ordering::SeqCst), "m::b ran beside m::a");
        drop(a1);
        std::thread::sleep(Duration::from_millis(20));
        assert!(!entered.load(Ordering::SeqCst), "m::b ran beside m::a");
        drop(a2);
        b.join().unwrap();
        assert!(entered.load(Ordering::SeqCst));
    }
}
