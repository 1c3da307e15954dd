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
                let in_joint = |t: f64| jl - 1e-9 <= t && t <= jh + 1e-9;
                match (in_joint(0.0), in_joint(step)) {
                    (true, true) => "joint bound holds both clocks".to_string(),
                    (true, false) => "joint bound holds +0".to_string(),
                    (false, true) => format!("joint bound holds {step:+}"),
                    (false, false) => "joint bound misses both clocks".to_string(),
                }
            }
            _ => {
                if p["bound_consistent"] != false {
                    problems.push("no joint bound, yet bound_consistent is not false".into());
                }
                "no joint bound".to_string()
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Issue 14.8's failure: a 6 µs step between samples 2 and 3, the best sample after it,
    /// and a "consistent" bound [+0.3, +2.6] µs that holds neither clock.
    fn entry(bound: (f64, f64), joint: Option<(f64, f64)>) -> Value {
        let smp = |t1: i64, offset_s: f64, delay_s: f64| json!({"t1_ns": t1, "t4_ns": t1 + 20_000, "offset_s": offset_s, "delay_s": delay_s});
        json!({
            "status": "ok",
            "offset_s": 5e-6,
            "delay_s": 10e-6,
            "bound_lo_s": bound.0,
            "bound_hi_s": bound.1,
            "joint_lo_s": joint.map(|j| j.0),
            "joint_hi_s": joint.map(|j| j.1),
            "bound_consistent": joint.is_some(),
            "samples": [
                smp(1_000_000_000, 1e-6, 12e-6),
                smp(1_020_000_000, 0.5e-6, 11e-6),
                smp(1_040_000_000, 5e-6, 10e-6),
                smp(1_060_000_000, 6.5e-6, 13e-6),
            ],
        })
    }

    const STEP: Stepping = Stepping {
        step_s: 6e-6,
        at_lo_ns: 1_028_000_000,
        at_hi_ns: 1_031_000_000,
    };

    #[test]
    fn the_truth_is_the_clock_at_the_best_sample() {
        // The old intersection as the hard bound: caught.
        let v = STEP.verdict(&entry((0.3e-6, 2.6e-6), Some((0.3e-6, 2.6e-6))));
        assert!(!v.problems.is_empty(), "{}", v.in_bound);
        assert!(v.in_bound.starts_with("**no**"), "{}", v.in_bound);
        // The best sample's own interval: holds the clock after the step.
        let v = STEP.verdict(&entry((-0.5e-6, 10.5e-6), None));
        assert!(v.problems.is_empty(), "{:?}", v.problems);
        assert_eq!(v.truth, "+0.000006");
        assert!(
            v.in_bound.contains("samples 2 before, 2 after"),
            "{}",
            v.in_bound
        );
        // A bound that holds 0 but not the clock in force at the best sample: caught.
        let v = STEP.verdict(&entry((-5.0e-6, 4.0e-6), None));
        assert!(!v.problems.is_empty(), "{}", v.in_bound);
        // A joint bound outside the hard bound: caught.
        let v = STEP.verdict(&entry((-0.5e-6, 10.5e-6), Some((9.0e-6, 12.0e-6))));
        assert!(!v.problems.is_empty(), "{}", v.in_bound);
    }

    #[test]
    fn a_large_step_between_narrow_samples_must_leave_no_joint_bound() {
        let big = Stepping {
            step_s: 1e-3,
            ..STEP
        };
        let mut p = entry((994e-6, 1006e-6), Some((999e-6, 1001e-6)));
        p["offset_s"] = json!(1000e-6);
        p["samples"][2]["offset_s"] = json!(1000e-6);
        assert!(!big.verdict(&p).problems.is_empty());
        p["joint_lo_s"] = Value::Null;
        p["joint_hi_s"] = Value::Null;
        p["bound_consistent"] = json!(false);
        assert!(
            big.verdict(&p).problems.is_empty(),
            "{:?}",
            big.verdict(&p).problems
        );
    }
}
