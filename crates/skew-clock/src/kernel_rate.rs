//! What rate the kernel's discipline predicts for MONOTONIC (and REALTIME) against
//! MONOTONIC_RAW, to compare with the measured one.
//!
//! The kernel advances MONOTONIC by `tick × USER_HZ` µs per second of RAW, plus `freq`
//! (ppm), plus, in PLL mode, a slice of the remaining offset each second
//! (`offset / 2^(SHIFT_PLL + constant)`, SHIFT_PLL = 2). MONOTONIC_RAW gets none of it.
#![forbid(unsafe_code)]

use crate::kernel::{KernelState, STA_FLL, STA_PLL, STA_PPSSIGNAL, STA_PPSTIME};
use serde::Serialize;

/// The kernel's PLL shift (`SHIFT_PLL` in kernel/time/ntp.c).
pub const SHIFT_PLL: i64 = 2;

/// The rate the kernel's state predicts, by part.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KernelRate {
    /// The frequency correction (`adjtimex` freq), ppm.
    pub freq_ppm: f64,
    /// The tick's deviation from nominal (`tick × USER_HZ − 10⁶`), ppm.
    pub tick_ppm: f64,
    /// The PLL's slew of the remaining offset, ppm (0 unless STA_PLL).
    pub pll_slew_ppm: f64,
    /// Their sum: the expected rate of MONOTONIC against RAW, ppm.
    pub expected_ppm: f64,
}

/// The rate predicted by `k`; `user_hz` is `sysconf(_SC_CLK_TCK)` (100 on Linux).
pub fn expected(k: &KernelState, user_hz: i64) -> KernelRate {
    let tick_ppm = (k.tick_us * user_hz - 1_000_000) as f64;
    let pll = k.status_raw & STA_PLL != 0
        && k.status_raw & STA_FLL == 0
        && !(k.status_raw & STA_PPSTIME != 0 && k.status_raw & STA_PPSSIGNAL != 0);
    let pll_slew_ppm = if pll {
        let shift = (SHIFT_PLL + k.constant.clamp(0, 10)) as i32;
        k.offset_s / 2f64.powi(shift) * 1e6
    } else {
        0.0
    };
    KernelRate {
        freq_ppm: k.freq_ppm,
        tick_ppm,
        pll_slew_ppm,
        expected_ppm: k.freq_ppm + tick_ppm + pll_slew_ppm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Timex, STA_NANO, STA_UNSYNC};

    #[test]
    fn undisciplined_machine() {
        let k = KernelState::decode(&Timex {
            state: 5,
            status: STA_UNSYNC,
            tick: 10_000,
            constant: 2,
            freq: 65536 * 3,
            ..Timex::default()
        });
        let r = expected(&k, 100);
        assert_eq!(r.freq_ppm, 3.0);
        assert_eq!(r.tick_ppm, 0.0);
        assert_eq!(r.pll_slew_ppm, 0.0);
        assert_eq!(r.expected_ppm, 3.0);
    }

    #[test]
    fn tick_and_pll() {
        let k = KernelState::decode(&Timex {
            status: STA_PLL | STA_NANO,
            tick: 10_001,
            constant: 2,
            offset: 1_600_000, // 1.6 ms, ns units
            freq: -65536 * 10,
            ..Timex::default()
        });
        let r = expected(&k, 100);
        assert_eq!(r.tick_ppm, 100.0);
        // 1.6 ms / 2^(2+2) per second = 100 µs/s = 100 ppm.
        assert!((r.pll_slew_ppm - 100.0).abs() < 1e-9, "{r:?}");
        assert!((r.expected_ppm - 190.0).abs() < 1e-9);
    }
}
