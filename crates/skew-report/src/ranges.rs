//! Which values set a panel's scale. The offset panel is scaled to the servers the
//! majority trusts, so that one liar 250 ms off does not flatten the honest microseconds:
//! a falseticker's points outside that scale are drawn at the edge, marked.

use crate::data::ServerSeries;

/// The smallest and largest finite value, if any.
pub fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// The smallest positive and the largest finite value, if any value is positive.
pub fn positive_extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    extent(values.into_iter().filter(|v| *v > 0.0))
}

/// The offset panel's extent: offsets and hard bounds of the points not marked as
/// falsetickers (all points when every point is a falseticker).
pub fn offset_extent(series: &[&ServerSeries]) -> Option<(f64, f64)> {
    let pick = |trusted_only: bool| {
        extent(series.iter().flat_map(|s| {
            (0..s.len())
                .filter(move |&i| !trusted_only || s.truechimer[i] != Some(false))
                .flat_map(move |i| [s.offset_s[i], s.bound_lo_s[i], s.bound_hi_s[i]])
        }))
    };
    pick(true).or_else(|| pick(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extents() {
        assert_eq!(extent([1.0, f64::NAN, -2.0, 3.0]), Some((-2.0, 3.0)));
        assert_eq!(extent([f64::NAN]), None);
        assert_eq!(positive_extent([0.0, 1e-5, 0.3, -1.0]), Some((1e-5, 0.3)));
    }

    #[test]
    fn liars_do_not_set_the_offset_scale() {
        let mk = |off: f64, tc: Option<bool>| ServerSeries {
            t_ns: vec![0],
            offset_s: vec![off],
            bound_lo_s: vec![off - 1e-6],
            bound_hi_s: vec![off + 1e-6],
            truechimer: vec![tc],
            ..ServerSeries::default()
        };
        let honest = mk(0.0, Some(true));
        let unknown = mk(2e-6, None);
        let liar = mk(0.25, Some(false));
        let e = offset_extent(&[&honest, &unknown, &liar]).unwrap();
        assert!(
            (e.0 + 1e-6).abs() < 1e-15 && (e.1 - 3e-6).abs() < 1e-15,
            "{e:?}"
        );
        let e = offset_extent(&[&liar]).unwrap();
        assert!(e.0 > 0.2);
    }
}
