//! A set of metric families with their samples, encoded in the Prometheus text format
//! (version 0.0.4: what node_exporter's textfile collector reads and every Prometheus
//! scrapes) by the official `prometheus-client` crate.
//!
//! Families are written in the order they were first given a sample; a family without
//! samples is not written (a value that does not exist is absent, not 0 or NaN). A label set
//! given twice in one family keeps its first value, so the text is always valid.

use crate::defs::{Kind, MetricDef};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::collections::{HashMap, HashSet};

/// The Content-Type of the text this module writes.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Debug)]
struct Family {
    def: &'static MetricDef,
    samples: Vec<(Vec<String>, f64)>,
    seen: HashSet<Vec<String>>,
}

/// Metric families being assembled.
#[derive(Debug, Default)]
pub struct Exposition {
    families: Vec<Family>,
    index: HashMap<&'static str, usize>,
}

impl Exposition {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sample of `def` with label values `labels` (in the order of `def.labels`).
    /// A label set already present in the family is ignored.
    ///
    /// # Panics
    /// When the number of label values differs from the definition's (a programming error).
    pub fn add(&mut self, def: &'static MetricDef, labels: &[&str], value: f64) {
        assert_eq!(
            labels.len(),
            def.labels.len(),
            "{}: label values do not match the definition",
            def.name
        );
        let i = *self.index.entry(def.name).or_insert_with(|| {
            self.families.push(Family {
                def,
                samples: Vec::new(),
                seen: HashSet::new(),
            });
            self.families.len() - 1
        });
        let f = &mut self.families[i];
        let labels: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
        if f.seen.insert(labels.clone()) {
            f.samples.push((labels, value));
        }
    }

    /// Adds a sample when the value exists.
    pub fn add_opt(&mut self, def: &'static MetricDef, labels: &[&str], value: Option<f64>) {
        if let Some(v) = value {
            self.add(def, labels, v);
        }
    }

    /// Adds a boolean as 1 or 0 when it exists.
    pub fn add_flag(&mut self, def: &'static MetricDef, labels: &[&str], value: Option<bool>) {
        self.add_opt(def, labels, value.map(|b| if b { 1.0 } else { 0.0 }));
    }

    /// Families with at least one sample.
    pub fn len(&self) -> usize {
        self.families.len()
    }

    /// Whether no sample was added.
    pub fn is_empty(&self) -> bool {
        self.families.is_empty()
    }

    /// Encodes everything in the Prometheus text format 0.0.4.
    pub fn render(self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Rendered(self)));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
        out
    }
}

#[derive(Debug)]
struct Rendered(Exposition);

impl Collector for Rendered {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for f in &self.0.families {
            let (name, kind) = match f.def.kind {
                // The encoder appends `_total` to counters itself.
                Kind::Counter => (
                    f.def.name.strip_suffix("_total").unwrap_or(f.def.name),
                    MetricType::Counter,
                ),
                Kind::Gauge => (f.def.name, MetricType::Gauge),
            };
            let mut metric = encoder.encode_descriptor(name, f.def.help, None, kind)?;
            for (values, v) in &f.samples {
                let labels: Vec<(&str, &str)> = f
                    .def
                    .labels
                    .iter()
                    .copied()
                    .zip(values.iter().map(String::as_str))
                    .collect();
                let sample = metric.encode_family(&labels)?;
                // Whole numbers are written as integers (`8`, not `8.0`), as the textfile
                // always wrote them.
                let whole = v.fract() == 0.0 && v.abs() < 9.0e15;
                match (f.def.kind, whole) {
                    (Kind::Counter, true) => ConstCounter::new(v.max(0.0) as u64).encode(sample)?,
                    (Kind::Counter, false) => ConstCounter::new(v.max(0.0)).encode(sample)?,
                    (Kind::Gauge, true) => ConstGauge::new(*v as i64).encode(sample)?,
                    (Kind::Gauge, false) => ConstGauge::new(*v).encode(sample)?,
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::{CLOCK_STEPS_TOTAL, NTP_OFFSET, NTP_SERVERS, NTP_UP};

    #[test]
    fn families_are_written_with_help_and_type() {
        let mut e = Exposition::new();
        e.add(&NTP_OFFSET, &["a\"b\\c\nd", "127.0.0.1:123"], 1.5e-6);
        e.add(&NTP_OFFSET, &["a\"b\\c\nd", "127.0.0.1:123"], 9.0); // repeated: ignored
        e.add_opt(&NTP_UP, &["x", "y"], None);
        e.add(&CLOCK_STEPS_TOTAL, &[], 3.0);
        e.add(&CLOCK_STEPS_TOTAL, &[], 4.0); // repeated: ignored
        e.add(&NTP_SERVERS, &[], f64::NAN);
        let text = e.render();
        assert_eq!(
            text,
            "# HELP skew_ntp_offset_seconds Offset of the server's clock from the local clock (server - local) of the best sample.\n\
             # TYPE skew_ntp_offset_seconds gauge\n\
             skew_ntp_offset_seconds{server=\"a\\\"b\\\\c\\nd\",address=\"127.0.0.1:123\"} 0.0000015\n\
             # HELP skew_clock_steps_total Steps of the time-of-day clock seen by all monitor runs.\n\
             # TYPE skew_clock_steps_total counter\n\
             skew_clock_steps_total 3\n\
             # HELP skew_ntp_servers Servers probed in the run.\n\
             # TYPE skew_ntp_servers gauge\n\
             skew_ntp_servers NaN\n"
        );
    }

    #[test]
    #[should_panic(expected = "label values do not match")]
    fn label_count_is_checked() {
        Exposition::new().add(&NTP_OFFSET, &["only one"], 0.0);
    }
}
