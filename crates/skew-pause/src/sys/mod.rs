//! The edges: the Linux clocks and timers, the `/proc` and device readers, the sibling
//! process with its shared-memory heartbeat, and termination signals. Each is thin; every
//! decision is made by the pure modules.

pub mod clocks;
pub mod readers;
pub use skew_process_io::sibling;
pub mod signals;

/// The sibling as the detector uses it: its view is a witness of this process's stalls.
#[cfg(test)]
mod sibling_tests {
    use crate::witness::{sibling_verdict, SiblingVerdict};
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    use skew_clock_io::mono_ns;
    use skew_process_io::sibling::Sibling;
    use std::time::Duration;

    #[test]
    fn a_running_sibling_witnesses_that_this_thread_slept() {
        // Spawning, publishing and stopping are skew-process-io's tests; here the view is
        // judged as the detector judges it.
        let s = Sibling::spawn(5_000_000, 2_000_000, 1).expect("fork sibling");
        std::thread::sleep(Duration::from_millis(100));
        let v = s.view();
        // It ran while this thread slept: it witnesses that.
        let now = mono_ns();
        assert_eq!(
            sibling_verdict(Some(&v), now - 80_000_000, now - 20_000_000),
            SiblingVerdict::Ran
        );
        let pid = s.pid();
        assert!(s.stop().is_some_and(|ns| ns >= 0));
        assert!(kill(Pid::from_raw(pid as i32), None).is_err());
    }

    #[test]
    fn a_stopped_sibling_records_its_stall() {
        let s = Sibling::spawn(2_000_000, 1_000_000, 1).expect("fork sibling");
        std::thread::sleep(Duration::from_millis(30));
        let pid = Pid::from_raw(s.pid() as i32);
        let t0 = mono_ns();
        kill(pid, Signal::SIGSTOP).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        kill(pid, Signal::SIGCONT).unwrap();
        let t1 = mono_ns();
        std::thread::sleep(Duration::from_millis(20));
        let v = s.view();
        assert!(
            v.stalls.iter().any(|x| x.to_ns - x.from_ns >= 40_000_000),
            "{v:?}"
        );
        assert_eq!(
            sibling_verdict(Some(&v), t0 + 5_000_000, t1 - 5_000_000),
            SiblingVerdict::Stalled
        );
        drop(s); // killed and reaped
    }
}
