//! Serde helpers for fields held in integer nanoseconds and written as seconds: a struct
//! keeps `bound_ns: i64` and serialises it under its `_s` key, so the seconds exist only in
//! the output (`#[serde(rename = "bound_s", with = "skew_time::serde_s")]`).
//!
//! Writing gives [`ns_to_s`](crate::ns_to_s) of the value; reading back rounds to the
//! nearest nanosecond ([`s_to_ns`](crate::s_to_ns)), which recovers every value of up to
//! 2^50 ns (13 days) exactly.

use serde::{Deserialize, Deserializer, Serializer};

/// Writes `ns` as seconds.
pub fn serialize<S: Serializer>(ns: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(crate::ns_to_s(*ns))
}

/// Reads seconds into nanoseconds.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    f64::deserialize(d).map(crate::s_to_ns)
}

/// The same for `Option<i64>`: `None` is `null`.
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `ns` as seconds, `None` as `null`.
    pub fn serialize<S: Serializer>(ns: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match ns {
            Some(ns) => s.serialize_some(&crate::ns_to_s(*ns)),
            None => s.serialize_none(),
        }
    }

    /// Reads seconds (or `null`) into nanoseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Option::<f64>::deserialize(d).map(|v| v.map(crate::s_to_ns))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct T {
        #[serde(rename = "bound_s", with = "crate::serde_s")]
        bound_ns: i64,
        #[serde(rename = "pause_s", with = "crate::serde_s::option")]
        pause_ns: Option<i64>,
    }

    #[test]
    fn written_as_seconds_read_back_exactly() {
        for (ns, pause) in [
            (170, None),
            (1_500_000_001, Some(-37_000_000)),
            ((1 << 50) - 1, Some(0)),
            (-(1 << 50) + 7, Some(999_999_999_999)),
        ] {
            let t = T {
                bound_ns: ns,
                pause_ns: pause,
            };
            let j = serde_json::to_value(&t).unwrap();
            assert_eq!(j["bound_s"], serde_json::json!(ns as f64 / 1e9));
            assert_eq!(
                j["pause_s"],
                serde_json::json!(pause.map(|p| p as f64 / 1e9))
            );
            assert_eq!(serde_json::from_value::<T>(j).unwrap(), t);
        }
    }
}
