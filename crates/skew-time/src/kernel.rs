//! The kernel's clock discipline (NTP kernel model, RFC 1589 / `adjtimex(2)`), decoded.
//!
//! Pure: [`Timex`] is a plain snapshot of the fields `adjtimex` returns; [`KernelState::decode`]
//! turns it into named states, flags, SI units and a "synchronized" verdict with its reason.

use serde::Serialize;

/// Status flag: phase-locked loop updates enabled.
pub const STA_PLL: i32 = 0x0001;
/// Status flag: PPS frequency discipline enabled.
pub const STA_PPSFREQ: i32 = 0x0002;
/// Status flag: PPS time discipline enabled.
pub const STA_PPSTIME: i32 = 0x0004;
/// Status flag: frequency-locked loop mode.
pub const STA_FLL: i32 = 0x0008;
/// Status flag: insert a leap second at the end of the UTC day.
pub const STA_INS: i32 = 0x0010;
/// Status flag: delete a leap second at the end of the UTC day.
pub const STA_DEL: i32 = 0x0020;
/// Status flag: the clock is not synchronized.
pub const STA_UNSYNC: i32 = 0x0040;
/// Status flag: frequency held.
pub const STA_FREQHOLD: i32 = 0x0080;
/// Status flag: PPS signal present.
pub const STA_PPSSIGNAL: i32 = 0x0100;
/// Status flag: PPS jitter limit exceeded.
pub const STA_PPSJITTER: i32 = 0x0200;
/// Status flag: PPS wander limit exceeded.
pub const STA_PPSWANDER: i32 = 0x0400;
/// Status flag: PPS calibration error.
pub const STA_PPSERROR: i32 = 0x0800;
/// Status flag: clock hardware fault.
pub const STA_CLOCKERR: i32 = 0x1000;
/// Status flag: offsets are in nanoseconds (else microseconds).
pub const STA_NANO: i32 = 0x2000;
/// Status flag: FLL mode (else PLL).
pub const STA_MODE: i32 = 0x4000;
/// Status flag: clock source B (else A).
pub const STA_CLK: i32 = 0x8000;

/// Every status flag with its conventional name (as in `adjtimex --print` / ntptime).
pub const STATUS_FLAGS: &[(i32, &str)] = &[
    (STA_PLL, "PLL"),
    (STA_PPSFREQ, "PPSFREQ"),
    (STA_PPSTIME, "PPSTIME"),
    (STA_FLL, "FLL"),
    (STA_INS, "INS"),
    (STA_DEL, "DEL"),
    (STA_UNSYNC, "UNSYNC"),
    (STA_FREQHOLD, "FREQHOLD"),
    (STA_PPSSIGNAL, "PPSSIGNAL"),
    (STA_PPSJITTER, "PPSJITTER"),
    (STA_PPSWANDER, "PPSWANDER"),
    (STA_PPSERROR, "PPSERROR"),
    (STA_CLOCKERR, "CLOCKERR"),
    (STA_NANO, "NANO"),
    (STA_MODE, "MODE"),
    (STA_CLK, "CLK"),
];

/// The maximum error (16 s) at which the kernel considers the clock unsynchronized.
pub const NTP_PHASE_LIMIT_US: i64 = 16_000_000;

/// A snapshot of `struct timex` as `adjtimex(modes = 0)` returns it, with the return value.
/// Units are the kernel's: offset in µs (ns with STA_NANO), freq in ppm × 2^16, maxerror and
/// esterror in µs, tick in µs per tick, tai in s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timex {
    /// The return value: TIME_OK (0) ... TIME_ERROR (5).
    pub state: i32,
    /// Status flags (STA_*).
    pub status: i32,
    /// Remaining phase offset being slewed (µs, or ns with STA_NANO).
    pub offset: i64,
    /// Frequency offset, ppm × 2^16.
    pub freq: i64,
    /// Maximum error, µs.
    pub maxerror: i64,
    /// Estimated error, µs.
    pub esterror: i64,
    /// PLL time constant.
    pub constant: i64,
    /// Clock precision, µs.
    pub precision: i64,
    /// Frequency tolerance, ppm × 2^16.
    pub tolerance: i64,
    /// Microseconds between clock ticks.
    pub tick: i64,
    /// TAI − UTC offset, s (0 when nobody set it).
    pub tai: i32,
}

/// The kernel's leap-second state machine (`adjtimex` return value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TimeState {
    /// TIME_OK: no leap second pending.
    #[serde(rename = "TIME_OK")]
    Ok,
    /// TIME_INS: a leap second will be inserted at the end of the UTC day.
    #[serde(rename = "TIME_INS")]
    Ins,
    /// TIME_DEL: a leap second will be deleted at the end of the UTC day.
    #[serde(rename = "TIME_DEL")]
    Del,
    /// TIME_OOP: a leap second is being inserted right now.
    #[serde(rename = "TIME_OOP")]
    Oop,
    /// TIME_WAIT: a leap second has just happened.
    #[serde(rename = "TIME_WAIT")]
    Wait,
    /// TIME_ERROR: the clock is not synchronized.
    #[serde(rename = "TIME_ERROR")]
    Error,
    /// A value this program does not know.
    #[serde(rename = "UNKNOWN")]
    Unknown(i32),
}

impl TimeState {
    /// From the `adjtimex` return value.
    pub fn from_raw(v: i32) -> TimeState {
        match v {
            0 => TimeState::Ok,
            1 => TimeState::Ins,
            2 => TimeState::Del,
            3 => TimeState::Oop,
            4 => TimeState::Wait,
            5 => TimeState::Error,
            x => TimeState::Unknown(x),
        }
    }

    /// The kernel's name: `TIME_OK`, `TIME_INS`... (`UNKNOWN(n)` otherwise).
    pub fn name(self) -> String {
        match self {
            TimeState::Ok => "TIME_OK".into(),
            TimeState::Ins => "TIME_INS".into(),
            TimeState::Del => "TIME_DEL".into(),
            TimeState::Oop => "TIME_OOP".into(),
            TimeState::Wait => "TIME_WAIT".into(),
            TimeState::Error => "TIME_ERROR".into(),
            TimeState::Unknown(x) => format!("UNKNOWN({x})"),
        }
    }
}

/// The decoded kernel discipline state, in SI units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelState {
    /// Leap-second state (`TIME_OK`, `TIME_INS`, `TIME_DEL`, `TIME_OOP`, `TIME_WAIT`, `TIME_ERROR`).
    pub state: String,
    /// Names of the status flags that are set (`PLL`, `UNSYNC`, `NANO`, `INS`...).
    pub status: Vec<String>,
    /// The raw status word.
    pub status_raw: i32,
    /// Remaining phase offset being slewed, s.
    pub offset_s: f64,
    /// Frequency correction, ppm (positive: the kernel speeds the clock up).
    pub freq_ppm: f64,
    /// Maximum error, s.
    pub maxerror_s: f64,
    /// Estimated error, s.
    pub esterror_s: f64,
    /// PLL time constant.
    pub constant: i64,
    /// Microseconds per tick.
    pub tick_us: i64,
    /// TAI − UTC as the kernel knows it, s (0 = unset).
    pub tai_s: i32,
    /// Whether the kernel considers the clock synchronized.
    pub synchronized: bool,
    /// Why (or why not).
    pub sync_reason: String,
    /// A leap second is armed (STA_INS or STA_DEL, or state INS/DEL/OOP).
    pub leap_armed: bool,
}

impl KernelState {
    /// Decodes a snapshot.
    pub fn decode(t: &Timex) -> KernelState {
        let state = TimeState::from_raw(t.state);
        let status: Vec<String> = STATUS_FLAGS
            .iter()
            .filter(|(bit, _)| t.status & bit != 0)
            .map(|(_, n)| n.to_string())
            .collect();
        let offset_scale = if t.status & STA_NANO != 0 { 1e-9 } else { 1e-6 };
        let unsync = t.status & STA_UNSYNC != 0;
        let (synchronized, sync_reason) = if unsync {
            (
                false,
                "STA_UNSYNC is set: no one is disciplining this clock through the kernel"
                    .to_string(),
            )
        } else if state == TimeState::Error {
            (false, "the kernel reports TIME_ERROR".to_string())
        } else if t.maxerror >= NTP_PHASE_LIMIT_US {
            (
                false,
                format!(
                    "maximum error {:.3} s reached the 16 s limit",
                    t.maxerror as f64 / 1e6
                ),
            )
        } else {
            (
                true,
                format!(
                    "kernel synchronized, maximum error {:.6} s",
                    t.maxerror as f64 / 1e6
                ),
            )
        };
        KernelState {
            state: state.name(),
            status,
            status_raw: t.status,
            offset_s: t.offset as f64 * offset_scale,
            freq_ppm: t.freq as f64 / 65536.0,
            maxerror_s: t.maxerror as f64 / 1e6,
            esterror_s: t.esterror as f64 / 1e6,
            constant: t.constant,
            tick_us: t.tick,
            tai_s: t.tai,
            synchronized,
            sync_reason,
            leap_armed: t.status & (STA_INS | STA_DEL) != 0
                || matches!(state, TimeState::Ins | TimeState::Del | TimeState::Oop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What this machine kind reports: TIME_ERROR, STA_UNSYNC, maxerror 16 s, tai 0.
    fn undisciplined() -> Timex {
        Timex {
            state: 5,
            status: STA_UNSYNC,
            maxerror: 16_000_000,
            esterror: 16_000_000,
            tick: 10_000,
            constant: 2,
            ..Timex::default()
        }
    }

    #[test]
    fn every_state() {
        for (raw, name) in [
            (0, "TIME_OK"),
            (1, "TIME_INS"),
            (2, "TIME_DEL"),
            (3, "TIME_OOP"),
            (4, "TIME_WAIT"),
            (5, "TIME_ERROR"),
            (9, "UNKNOWN(9)"),
        ] {
            let k = KernelState::decode(&Timex {
                state: raw,
                ..Timex::default()
            });
            assert_eq!(k.state, name);
            assert_eq!(k.leap_armed, (1..=3).contains(&raw), "{name}");
        }
        assert_eq!(serde_json::to_value(TimeState::Oop).unwrap(), "TIME_OOP");
    }

    #[test]
    fn every_flag() {
        for (bit, name) in STATUS_FLAGS {
            let k = KernelState::decode(&Timex {
                status: *bit,
                ..Timex::default()
            });
            assert_eq!(k.status, vec![name.to_string()]);
        }
        let all = STATUS_FLAGS.iter().fold(0, |a, (b, _)| a | b);
        assert_eq!(
            KernelState::decode(&Timex {
                status: all,
                ..Timex::default()
            })
            .status
            .len(),
            16
        );
        assert!(
            KernelState::decode(&Timex {
                status: STA_INS,
                ..Timex::default()
            })
            .leap_armed
        );
        assert!(
            KernelState::decode(&Timex {
                status: STA_DEL,
                ..Timex::default()
            })
            .leap_armed
        );
    }

    #[test]
    fn units() {
        let k = KernelState::decode(&Timex {
            offset: 1500,
            freq: -65536 * 12 - 32768,
            maxerror: 250_000,
            esterror: 1_000,
            tick: 10_000,
            tai: 37,
            ..Timex::default()
        });
        assert_eq!(k.offset_s, 0.0015);
        assert_eq!(k.freq_ppm, -12.5);
        assert_eq!(k.maxerror_s, 0.25);
        assert_eq!(k.esterror_s, 0.001);
        assert_eq!(k.tai_s, 37);
        assert!(k.synchronized, "{}", k.sync_reason);
        let k = KernelState::decode(&Timex {
            offset: 1500,
            status: STA_NANO | STA_PLL,
            ..Timex::default()
        });
        assert!((k.offset_s - 1.5e-6).abs() < 1e-15);
    }

    #[test]
    fn synchronization_verdicts() {
        let k = KernelState::decode(&undisciplined());
        assert!(!k.synchronized);
        assert!(k.sync_reason.contains("STA_UNSYNC"));
        assert_eq!(k.state, "TIME_ERROR");
        let k = KernelState::decode(&Timex {
            state: 5,
            ..Timex::default()
        });
        assert!(!k.synchronized && k.sync_reason.contains("TIME_ERROR"));
        let k = KernelState::decode(&Timex {
            maxerror: 16_000_000,
            ..Timex::default()
        });
        assert!(!k.synchronized && k.sync_reason.contains("16 s"));
    }
}
