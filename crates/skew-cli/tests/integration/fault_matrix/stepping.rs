//! The truth for a server that steps its clock between samples (issue 14.8), and the checks
//! of its row.
//!
//! `skew serve --step-after AFTER --step S` serves this machine's clock until AFTER has passed
//! since it read its start time (right before binding), and the clock + S from then on; each
//! reply's T2 and T3 are stamped by the clock in force when they are read. The start is only
//! known to lie between the instant the test spawned the server and the instant it saw the
//! server ready, so the step's instant is known to an interval. A sample whose exchange
//! (T1 to T4, on the same local clock as the server's) ends before that interval saw the
//! clock before the step; one that begins after it saw the clock after the step; one that
//! overlaps it may have seen either.
//!
//! The hard bound is the best sample's own interval, so it must hold the server's clock at
//! the best sample: 0 before the step, S after it, either when the best sample overlaps the
//! step's interval. The joint bound (the intersection) assumes no step: it may be absent or
//! miss, but when present it must lie inside the hard bound, and it must be absent when the
//! samples on the two sides of the step are too narrow to intersect.

use serde_json::Value;

/// Slack added on each side of the step's interval, ns: the local clock may be slewed a
/// little between the test's reads and the samples'.
const SLACK_NS: i64 = 1_000_000;
/// Allowance for the precisions and the drift widening of the joint bound when deciding that
/// two samples on either side of a step cannot intersect, s.
const JOINT_ALLOWANCE_S: f64 = 50e-6;

/// A server that steps by `step_s` at an instant in `[at_lo_ns, at_hi_ns]` (local Unix ns).
#[derive(Debug, Clone, Copy)]
pub struct Stepping {
    /// The step, s (exact to the ns: the server was given it with 9 decimals).
    pub step_s: f64,
    /// Earliest instant of the step, local Unix ns.
    pub at_lo_ns: i64,
    /// Latest instant of the step, local Unix ns.
    pub at_hi_ns: i64,
}

/// Which clock a sample saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Before,
    After,
    Either,
}

/// One sample as the probe printed it.
struct Smp {
    t1_ns: i64,
    t4_ns: i64,
    offset_s: f64,
    delay_s: f64,
}

fn samples(p: &Value) -> Vec<Smp> {
    p["samples"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| Smp {
                    t1_ns: s["t1_ns"].as_i64().unwrap_or(0),
                    t4_ns: s["t4_ns"].as_i64().unwrap_or(0),
                    offset_s: s["offset_s"].as_f64().unwrap_or(f64::NAN),
                    delay_s: s["delay_s"].as_f64().unwrap_or(f64::NAN),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What the rows' columns show for a stepping server, and what went wrong.
pub struct Verdict {
    /// The truth at the best sample, for the offset column: `+0`, `+S` or `+0 or +S`.
    pub truth: String,
    /// The truth-in-bound column.
    pub in_bound: String,
    /// Failed checks.
    pub problems: Vec<String>,
}

impl Stepping {
    fn side(&self, s: &Smp) -> Side {
        if s.t4_ns < self.at_lo_ns - SLACK_NS {
            Side::Before
        } else if s.t1_ns >= self.at_hi_ns + SLACK_NS {
            Side::After
        } else {
            Side::Either
        }
    }

    /// Checks the probe entry `p` of the stepping server.
    pub fn verdict(&self, p: &Value) -> Verdict {
        let smp = samples(p);
        let sides: Vec<Side> = smp.iter().map(|s| self.side(s)).collect();
        let count = |k: Side| sides.iter().filter(|&&x| x == k).count();
        let mut problems = Vec::new();
        // The best sample: the one whose offset and delay the result reports (the latest of
        // equals, as the filter picks).
        let best = smp.iter().rposition(|s| {
            Some(s.offset_s) == p["offset_s"].as_f64() && Some(s.delay_s) == p["delay_s"].as_f64()
        });
        let (lo, hi) = (p["bound_lo_s"].as_f64(), p["bound_hi_s"].as_f64());
        let holds =
            |x: f64| matches!((lo, hi), (Some(l), Some(h)) if l - 1e-9 <= x && x <= h + 1e-9);
        let step = self.step_s;
        let (truth, side_text, held) = match best.map(|i| sides[i]) {
            Some(Side::Before) => ("+0".to_string(), "before the step", holds(0.0)),
            Some(Side::After) => (format!("{step:+}"), "after the step", holds(step)),
            Some(Side::Either) => (
                format!("+0 or {step:+}"),
                "either clock: best sample at the step",
                holds(0.0) || holds(step),
            ),
            None => {
                problems.push("no sample matches the reported offset and delay".into());
                ("?".into(), "no best sample", false)
            }
        };
        if !held {
            problems.push(format!(
                "hard bound [{}, {}] misses the server's clock at the best sample ({truth})",
                p["bound_lo_s"], p["bound_hi_s"]
            ));
        }
        let joint = match (p["joint_lo_s"].as_f64(), p["joint_hi_s"].as_f64()) {
            (Some(jl), Some(jh)) => {
                if p["bound_consistent"] != true {
                    problems.push("a joint bound although the bounds are inconsistent".into());
                }
                if !(holds(jl) && holds(jh)) {
                    problems.push(format!("joint bound [{jl}, {jh}] outside the hard bound"));
                }
                let truths = [0.0, step];
                if truths.iter().any(|t| jl - 1e-9 <= *t && *t <= jh + 1e-9) {
                    "joint bound holds a clock"
                } else {
                    "joint bound misses both clocks"
                }
            }
            _ => {
                if p["bound_consistent"] != false {
                    problems.push("no joint bound, yet bound_consistent is not false".into());
                }
                "no joint bound"
            }
        };
        // Samples on the two sides of a step larger than both their widths cannot intersect.
        let narrowest = |k: Side| {
            smp.iter()
                .zip(&sides)
                .filter(|(_, &x)| x == k)
                .map(|(s, _)| s.delay_s / 2.0)
                .fold(f64::INFINITY, f64::min)
        };
        let apart = narrowest(Side::Before) + narrowest(Side::After) + JOINT_ALLOWANCE_S;
        if apart < step.abs() && p["bound_consistent"] != false {
            problems.push(format!(
                "samples {step} s apart, each narrower, gave bound_consistent {}",
                p["bound_consistent"]
            ));
        }
        let at = match count(Side::Either) {
            0 => String::new(),
            n => format!(", {n} at"),
        };
        let verdict = if held { "yes" } else { "**no**" };
        Verdict {
            truth,
            in_bound: format!(
                "{verdict} ({side_text}; samples {} before{at}, {} after; {joint})",
                count(Side::Before),
                count(Side::After)
            ),
            problems,
        }
    }
}
