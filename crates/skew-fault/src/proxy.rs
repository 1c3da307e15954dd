//! The impairment proxy's decisions, without IO.
//!
//! Each datagram crossing the proxy, client → server (`fwd`) or server → client (`back`),
//! is lost, or delivered once or twice, each copy after its own delay:
//!
//! ```text
//! delay = base(direction) + uniform(0..=jitter(direction)) [+ reorder_delay if reordered]
//! ```
//!
//! A reordered datagram is held `reorder_delay` longer, so datagrams behind it overtake it.
//! A duplicate copy gets its own jitter draw. Per datagram the generator is drawn exactly
//! five times, so `--seed` repeats a run given the same traffic.
//!
//! [`shift_server_timestamps`] is the man in the middle: it moves a server reply's receive,
//! transmit and reference timestamps by a signed amount, exactly as if the server's clock
//! were that far off.

use crate::rng::{Probability, SplitMix64};
use skew_ntp::packet::{HEADER_LEN, MODE_SERVER};

/// Which way a datagram travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server.
    Fwd,
    /// Server to client.
    Back,
}

impl Direction {
    /// `fwd` or `back`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Fwd => "fwd",
            Direction::Back => "back",
        }
    }
}

/// The impairments of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PathConfig {
    /// Fixed delay, ns (`--fwd`, `--back`).
    pub delay_ns: i64,
    /// Uniform extra delay in `0..=jitter_ns` (`--fwd-jitter`, `--back-jitter`).
    pub jitter_ns: i64,
    /// Probability of loss (`--loss-fwd`, `--loss-back`).
    pub loss: Probability,
}

/// Everything the proxy does to traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProxyConfig {
    /// Client → server.
    pub fwd: PathConfig,
    /// Server → client.
    pub back: PathConfig,
    /// Probability that a datagram is delivered twice (`--duplicate`).
    pub duplicate: Probability,
    /// Probability that a datagram is held back so later ones overtake it (`--reorder`).
    pub reorder: Probability,
    /// How much longer a reordered datagram is held, ns (`--reorder-delay`).
    pub reorder_delay_ns: i64,
    /// Shift applied to server replies' T2, T3 and reference timestamps, ns (`--shift`).
    pub shift_ns: i64,
    /// Seed of the random choices (`--seed`).
    pub seed: u64,
}

impl ProxyConfig {
    /// The path configuration of a direction.
    pub fn path(&self, dir: Direction) -> &PathConfig {
        match dir {
            Direction::Fwd => &self.fwd,
            Direction::Back => &self.back,
        }
    }
}

/// What happens to one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Dropped on purpose.
    Lost,
    /// Delivered after `delay_ns`, and a second time after `duplicate_delay_ns` if set.
    Deliver {
        /// Delay of the first copy, ns.
        delay_ns: i64,
        /// Delay of the duplicate copy, ns.
        duplicate_delay_ns: Option<i64>,
        /// The first copy was held back to be overtaken.
        reordered: bool,
    },
}

/// The proxy's decision maker: configuration plus seeded generator.
#[derive(Debug, Clone)]
pub struct Impairer {
    config: ProxyConfig,
    rng: SplitMix64,
}

fn jitter(draw: u64, max_ns: i64) -> i64 {
    if max_ns <= 0 {
        0
    } else {
        ((draw as u128 * (max_ns as u128 + 1)) >> 64) as i64
    }
}

impl Impairer {
    /// A decision maker for `config`.
    pub fn new(config: ProxyConfig) -> Self {
        Impairer {
            config,
            rng: SplitMix64::new(config.seed),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// Decides the fate of the next datagram travelling `dir`.
    pub fn decide(&mut self, dir: Direction) -> Fate {
        let r_loss = self.rng.next_u64();
        let r_dup = self.rng.next_u64();
        let r_reorder = self.rng.next_u64();
        let r_j1 = self.rng.next_u64();
        let r_j2 = self.rng.next_u64();
        let path = *self.config.path(dir);
        if path.loss.admits(r_loss) {
            return Fate::Lost;
        }
        let base = path.delay_ns.max(0);
        let reordered = self.config.reorder.admits(r_reorder) && self.config.reorder_delay_ns > 0;
        let extra = if reordered {
            self.config.reorder_delay_ns
        } else {
            0
        };
        Fate::Deliver {
            delay_ns: base
                .saturating_add(jitter(r_j1, path.jitter_ns))
                .saturating_add(extra),
            duplicate_delay_ns: self
                .config
                .duplicate
                .admits(r_dup)
                .then(|| base.saturating_add(jitter(r_j2, path.jitter_ns))),
            reordered,
        }
    }
}

/// `shift_ns` in NTP timestamp units (2^-32 s), rounded to the nearest.
fn shift_units(shift_ns: i64) -> i128 {
    let scaled = (shift_ns as i128) << 32;
    let q = scaled.div_euclid(1_000_000_000);
    let r = scaled.rem_euclid(1_000_000_000);
    q + i128::from(r >= 500_000_000)
}

/// Moves a server reply's reference, receive and transmit timestamps by `shift_ns` (zero,
/// i.e. unset, timestamps stay zero). Returns whether the datagram was a server reply (at
/// least 48 bytes, mode 4) and so was rewritten.
pub fn shift_server_timestamps(bytes: &mut [u8], shift_ns: i64) -> bool {
    if bytes.len() < HEADER_LEN || bytes[0] & 7 != MODE_SERVER {
        return false;
    }
    let units = shift_units(shift_ns);
    for start in [16usize, 32, 40] {
        let field = &mut bytes[start..start + 8];
        let v = u64::from_be_bytes(field.try_into().unwrap_or_default());
        if v == 0 {
            continue;
        }
        let shifted = (v as i128 + units).rem_euclid(1i128 << 64) as u64;
        field.copy_from_slice(&shifted.to_be_bytes());
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use skew_ntp::packet::Packet;
    use skew_ntp::timestamp::NtpTimestamp;

    const MS: i64 = 1_000_000;

    #[test]
    fn fixed_delays_per_direction() {
        let mut i = Impairer::new(ProxyConfig {
            fwd: PathConfig {
                delay_ns: 20 * MS,
                ..PathConfig::default()
            },
            ..ProxyConfig::default()
        });
        assert_eq!(
            i.decide(Direction::Fwd),
            Fate::Deliver {
                delay_ns: 20 * MS,
                duplicate_delay_ns: None,
                reordered: false
            }
        );
        assert_eq!(
            i.decide(Direction::Back),
            Fate::Deliver {
                delay_ns: 0,
                duplicate_delay_ns: None,
                reordered: false
            }
        );
    }

    #[test]
    fn jitter_loss_duplicate_reorder_statistics() {
        let cfg = ProxyConfig {
            fwd: PathConfig {
                delay_ns: 5 * MS,
                jitter_ns: 5 * MS,
                loss: Probability::parse("10%").unwrap(),
            },
            back: PathConfig {
                loss: Probability::ALWAYS,
                ..PathConfig::default()
            },
            duplicate: Probability::parse("0.2").unwrap(),
            reorder: Probability::parse("0.1").unwrap(),
            reorder_delay_ns: 50 * MS,
            shift_ns: 0,
            seed: 9,
        };
        let mut i = Impairer::new(cfg);
        let (mut lost, mut dup, mut reord) = (0, 0, 0);
        for _ in 0..10_000 {
            match i.decide(Direction::Fwd) {
                Fate::Lost => lost += 1,
                Fate::Deliver {
                    delay_ns,
                    duplicate_delay_ns,
                    reordered,
                } => {
                    let extra = if reordered { 50 * MS } else { 0 };
                    assert!((5 * MS + extra..=10 * MS + extra).contains(&delay_ns));
                    if let Some(d) = duplicate_delay_ns {
                        assert!((5 * MS..=10 * MS).contains(&d));
                        dup += 1;
                    }
                    reord += i32::from(reordered);
                }
            }
        }
        assert!((900..1100).contains(&lost), "{lost}");
        assert!((1600..2000).contains(&dup), "{dup}");
        assert!((800..1000).contains(&reord), "{reord}");
        assert!((0..100).all(|_| i.decide(Direction::Back) == Fate::Lost));
        // Same seed, same fates.
        let mut a = Impairer::new(cfg);
        let mut b = Impairer::new(cfg);
        for _ in 0..1000 {
            assert_eq!(a.decide(Direction::Fwd), b.decide(Direction::Fwd));
        }
    }

    #[test]
    fn shift_moves_server_timestamps_exactly() {
        let t = 1_795_000_000_123_456_789i64;
        let p = Packet {
            mode: MODE_SERVER,
            reference_ts: NtpTimestamp::from_unix_ns(t - 1_000_000_000),
            origin_ts: NtpTimestamp(0xabcdef),
            receive_ts: NtpTimestamp::from_unix_ns(t),
            transmit_ts: NtpTimestamp::from_unix_ns(t + 10_000),
            ..Packet::decode(&[0u8; 48]).unwrap()
        };
        let mut b = p.encode();
        assert!(shift_server_timestamps(&mut b, 250_000_000));
        let q = Packet::decode(&b).unwrap();
        assert_eq!(q.origin_ts, p.origin_ts, "the origin is untouched");
        assert_eq!(q.receive_ts.to_unix_ns(t), t + 250_000_000);
        assert_eq!(q.transmit_ts.to_unix_ns(t), t + 10_000 + 250_000_000);
        assert_eq!(q.reference_ts.to_unix_ns(t), t - 750_000_000);
        let mut b = p.encode();
        shift_server_timestamps(&mut b, -37_000_001);
        let q = Packet::decode(&b).unwrap();
        assert_eq!(q.receive_ts.to_unix_ns(t), t - 37_000_001);
        // Requests and short datagrams are left alone.
        let mut req = Packet::client_request(5).encode();
        let before = req;
        assert!(!shift_server_timestamps(&mut req, 1_000));
        assert_eq!(req, before);
        assert!(!shift_server_timestamps(&mut [4u8; 20], 1_000));
        // Zero stays zero.
        let mut z = Packet {
            transmit_ts: NtpTimestamp::ZERO,
            ..p
        }
        .encode();
        shift_server_timestamps(&mut z, 1_000);
        assert!(Packet::decode(&z).unwrap().transmit_ts.is_zero());
    }

    proptest! {
        /// Whatever the proxy decides (delays, jitter, reordering, duplicates), a client's
        /// per-sample hard bound through it contains the true offset of an honest server.
        #[test]
        fn bounds_hold_through_any_fate(seed in any::<u64>(), fwd_ms in 0i64..50, back_ms in 0i64..50,
                                         fj_ms in 0i64..20, bj_ms in 0i64..20, true_offset_ns in -1_000_000_000i64..1_000_000_000) {
            use skew_ntp::bounds::{sample_bound, BoundParams};
            let mut imp = Impairer::new(ProxyConfig {
                fwd: PathConfig { delay_ns: fwd_ms * MS, jitter_ns: fj_ms * MS, loss: Probability::NEVER },
                back: PathConfig { delay_ns: back_ms * MS, jitter_ns: bj_ms * MS, loss: Probability::NEVER },
                duplicate: Probability::parse("0.3").unwrap(),
                reorder: Probability::parse("0.3").unwrap(),
                reorder_delay_ns: 7 * MS,
                shift_ns: 0,
                seed,
            });
            let t1 = 1_795_000_000_000_000_000i64;
            for _ in 0..20 {
                let (Fate::Deliver { delay_ns: d1, .. }, Fate::Deliver { delay_ns: d2, .. }) =
                    (imp.decide(Direction::Fwd), imp.decide(Direction::Back)) else { unreachable!() };
                let t2 = t1 + d1 + true_offset_ns;
                let t3 = t2 + 3_000;
                let t4 = t1 + d1 + 3_000 + d2;
                let s = skew_ntp::Sample { t1_ns: t1, t2_ns: t2, t3_ns: t3, t4_ns: t4 };
                prop_assert!(sample_bound(&s, 1, &BoundParams::default()).contains(true_offset_ns));
            }
        }

        /// Any datagram from the server through `--shift`: only a mode-4 header of 48 bytes
        /// or more is rewritten, and then only its three timestamps (zero ones stay zero);
        /// everything else passes byte for byte.
        #[test]
        fn shift_touches_only_server_timestamps(
            bytes in proptest::collection::vec(any::<u8>(), 0..120),
            mode4 in any::<bool>(),
            zero_rx in any::<bool>(),
            s in any::<i64>(),
        ) {
            let mut input = bytes;
            if mode4 && !input.is_empty() {
                input[0] = (input[0] & !7) | MODE_SERVER;
            }
            if zero_rx && input.len() >= 40 {
                input[32..40].fill(0);
            }
            let mut out = input.clone();
            let rewritten = shift_server_timestamps(&mut out, s);
            prop_assert_eq!(rewritten, input.len() >= 48 && input[0] & 7 == MODE_SERVER);
            prop_assert_eq!(out.len(), input.len());
            for (i, (a, b)) in input.iter().zip(&out).enumerate() {
                let stamp = rewritten && ((16..24).contains(&i) || (32..48).contains(&i));
                if !stamp {
                    prop_assert_eq!(a, b, "byte {} changed", i);
                }
            }
            if rewritten && zero_rx {
                prop_assert!(out[32..40].iter().all(|&b| b == 0));
            }
        }

        #[test]
        fn shift_is_within_half_a_unit(t in 1_000_000_000_000_000_000i64..2_000_000_000_000_000_000, s in -1_000_000_000_000i64..1_000_000_000_000) {
            let p = Packet { mode: MODE_SERVER, receive_ts: NtpTimestamp::from_unix_ns(t), ..Packet::decode(&[0u8; 48]).unwrap() };
            let mut b = p.encode();
            shift_server_timestamps(&mut b, s);
            let got = Packet::decode(&b).unwrap().receive_ts.to_unix_ns(t);
            prop_assert!((got - (t + s)).abs() <= 1);
        }
    }
}
