//! The kernel's clocksource: which hardware counter the clocks are read from
//! (`/sys/devices/system/clocksource/clocksource0/{current,available}_clocksource`).
//!
//! Pure: parses the two files' contents; [`crate::linux::read_clocksource`] reads them.
#![forbid(unsafe_code)]

use serde::Serialize;

/// The current clocksource and the alternatives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clocksource {
    /// In use (`tsc`, `kvm-clock`, `hpet`, `acpi_pm`, `arch_sys_counter`...).
    pub current: String,
    /// Available.
    pub available: Vec<String>,
    /// What the current one means for measurements, when known.
    pub note: Option<&'static str>,
}

/// What a clocksource means for clock measurements.
pub fn note(name: &str) -> Option<&'static str> {
    Some(match name {
        "tsc" => "CPU time-stamp counter, read in user space (vDSO); in a VM it keeps counting while the VM is paused, so every thread sees a pause at once",
        "kvm-clock" => "paravirtual clock, read in user space (vDSO); a paused VM's clocks freeze, so a VM pause is invisible inside (only an outside reference shows it)",
        "hyperv_clocksource_tsc_page" => "Hyper-V reference TSC page, read in user space (vDSO)",
        "xen" => "Xen paravirtual clock",
        "hpet" | "acpi_pm" => "slow to read: every clock_gettime is a system call and a device access (µs)",
        "arch_sys_counter" => "ARM generic timer, read in user space (vDSO)",
        "jiffies" => "the timer tick: resolution of one tick (1–10 ms)",
        _ => return None,
    })
}

/// Parses the contents of `current_clocksource` and `available_clocksource`.
pub fn parse(current: &str, available: &str) -> Clocksource {
    let current = current.trim().to_string();
    Clocksource {
        note: note(&current),
        available: available.split_whitespace().map(str::to_string).collect(),
        current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine() {
        let c = parse("tsc\n", "tsc kvm-clock \n");
        assert_eq!(c.current, "tsc");
        assert_eq!(c.available, vec!["tsc", "kvm-clock"]);
        assert!(c.note.unwrap().contains("vDSO"));
        let c = parse("weird\n", "");
        assert_eq!(c.note, None);
        assert!(c.available.is_empty());
    }
}
