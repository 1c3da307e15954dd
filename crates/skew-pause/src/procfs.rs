//! Parsers for what the edges read: `/proc/<tid>/schedstat`, the steal column of
//! `/proc/stat`, the VMClock page header and the VM generation ID. Bytes in, values out.
#![forbid(unsafe_code)]

use crate::snapshot::ThreadSched;

/// Parses `/proc/<pid>/task/<tid>/schedstat`: "cpu_ns run_delay_ns timeslices", read at
/// `at_mono_ns`.
pub fn parse_schedstat(text: &str, at_mono_ns: i64) -> Option<ThreadSched> {
    let mut it = text.split_ascii_whitespace();
    let cpu_ns = it.next()?.parse::<u64>().ok()?;
    let run_delay_ns = it.next()?.parse::<u64>().ok()?;
    Some(ThreadSched {
        cpu_ns: cpu_ns.min(i64::MAX as u64) as i64,
        run_delay_ns: run_delay_ns.min(i64::MAX as u64) as i64,
        at_mono_ns,
    })
}

/// Parses the per-CPU steal column (the 8th value) of `/proc/stat`, converting clock
/// ticks to ns. The aggregate `cpu` line is skipped. `None` when no CPU line has one.
pub fn parse_steal_ns(text: &str, ticks_per_s: i64) -> Option<Vec<i64>> {
    if ticks_per_s <= 0 {
        return None;
    }
    let ns_per_tick = 1_000_000_000 / ticks_per_s;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut it = line.split_ascii_whitespace();
        let Some(label) = it.next() else { continue };
        if label.len() <= 3 || !label.starts_with("cpu") {
            continue;
        }
        if !label[3..].bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let steal: u64 = it.nth(7)?.parse().ok()?;
        out.push((steal.min(i64::MAX as u64) as i64).saturating_mul(ns_per_tick));
    }
    (!out.is_empty()).then_some(out)
}

/// "VCLK" in little-endian: the first field of the VMClock page.
pub const VMCLOCK_MAGIC: u32 = 0x4b4c_4356;
/// Bytes of the VMClock page header read (magic … flags).
pub const VMCLOCK_HEADER_LEN: usize = 32;

/// The start of the VMClock page (`struct vmclock_abi`, Linux
/// `include/uapi/linux/vmclock-abi.h`): little-endian, magic at 0, size at 4, version at
/// 8, seq_count at 12, disruption_marker at 16, flags at 24.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmClockHeader {
    /// Layout version.
    pub version: u16,
    /// Sequence counter; odd while the host updates the page.
    pub seq_count: u32,
    /// Changes to a new value whenever the host disrupts the counter (live migration).
    pub disruption_marker: u64,
    /// Flags (bit 1: disruption soon, bit 2: imminent).
    pub flags: u64,
}

/// Why a VMClock page could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VmClockError {
    /// Fewer than 32 bytes.
    #[error("VMClock page too short ({0} bytes)")]
    Short(usize),
    /// Wrong magic number.
    #[error("not a VMClock page (magic {0:#010x})")]
    Magic(u32),
    /// The host was updating the page (odd sequence count).
    #[error("VMClock page being updated")]
    Updating,
}

/// Parses the header of a VMClock page.
pub fn parse_vmclock(bytes: &[u8]) -> Result<VmClockHeader, VmClockError> {
    if bytes.len() < VMCLOCK_HEADER_LEN {
        return Err(VmClockError::Short(bytes.len()));
    }
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let magic = u32_at(0);
    if magic != VMCLOCK_MAGIC {
        return Err(VmClockError::Magic(magic));
    }
    let seq_count = u32_at(12);
    if seq_count & 1 == 1 {
        return Err(VmClockError::Updating);
    }
    Ok(VmClockHeader {
        version: u16::from_le_bytes([bytes[8], bytes[9]]),
        seq_count,
        disruption_marker: u64_at(16),
        flags: u64_at(24),
    })
}

/// Builds a VMClock page header (for tests and fakes).
pub fn vmclock_bytes(disruption_marker: u64, seq_count: u32) -> [u8; VMCLOCK_HEADER_LEN] {
    let mut b = [0u8; VMCLOCK_HEADER_LEN];
    b[0..4].copy_from_slice(&VMCLOCK_MAGIC.to_le_bytes());
    b[4..8].copy_from_slice(&(VMCLOCK_HEADER_LEN as u32).to_le_bytes());
    b[8..10].copy_from_slice(&1u16.to_le_bytes());
    b[12..16].copy_from_slice(&seq_count.to_le_bytes());
    b[16..24].copy_from_slice(&disruption_marker.to_le_bytes());
    b
}

/// A digest of a VM generation ID (any bytes; FNV-1a, 64 bits): only changes matter.
pub fn digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedstat() {
        assert_eq!(
            parse_schedstat("111847 2816589 2\n", 5),
            Some(ThreadSched {
                cpu_ns: 111_847,
                run_delay_ns: 2_816_589,
                at_mono_ns: 5,
            })
        );
        assert_eq!(parse_schedstat("", 0), None);
        assert_eq!(parse_schedstat("12", 0), None);
        assert_eq!(parse_schedstat("a b c", 0), None);
    }

    #[test]
    fn steal() {
        let text = "cpu  17349 0 5990 191366 1136 0 82 113 0 0\n\
                    cpu0 8000 0 3000 95000 500 0 40 13 0 0\n\
                    cpu1 9349 0 2990 96366 636 0 42 100 0 0\n\
                    intr 12345 0 0\n\
                    cpufreq 1\n";
        assert_eq!(
            parse_steal_ns(text, 100),
            Some(vec![130_000_000, 1_000_000_000])
        );
        assert_eq!(parse_steal_ns("intr 1\n", 100), None);
        assert_eq!(parse_steal_ns(text, 0), None);
        // A kernel without the steal column.
        assert_eq!(parse_steal_ns("cpu0 1 2 3 4\n", 100), None);
    }

    #[test]
    fn vmclock() {
        let b = vmclock_bytes(0xdead_beef, 4);
        let h = parse_vmclock(&b).unwrap();
        assert_eq!(h.disruption_marker, 0xdead_beef);
        assert_eq!(h.seq_count, 4);
        assert_eq!(h.version, 1);
        assert_eq!(parse_vmclock(&b[..10]), Err(VmClockError::Short(10)));
        assert_eq!(
            parse_vmclock(&vmclock_bytes(1, 5)),
            Err(VmClockError::Updating)
        );
        let mut bad = b;
        bad[0] = 0;
        assert!(matches!(parse_vmclock(&bad), Err(VmClockError::Magic(_))));
    }

    #[test]
    fn digests_differ() {
        assert_ne!(digest(b"gen-1"), digest(b"gen-2"));
        assert_eq!(digest(b""), 0xcbf2_9ce4_8422_2325);
    }
}
