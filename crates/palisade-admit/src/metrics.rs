//! `/metrics` in the Prometheus text format: reviews by outcome and kind, denials by rule, a
//! latency histogram, bad requests and reloads.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Default)]
struct Counts {
    reviews: BTreeMap<(&'static str, String), u64>,
    denials: BTreeMap<&'static str, u64>,
    buckets: [u64; BUCKETS.len()],
    seconds: f64,
    observed: u64,
    bad_requests: BTreeMap<u16, u64>,
    reloads: BTreeMap<&'static str, u64>,
}

#[derive(Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

impl Metrics {
    fn with(&self, update: impl FnOnce(&mut Counts)) {
        if let Ok(mut counts) = self.counts.lock() {
            update(&mut counts);
        }
    }

    pub fn review(
        &self,
        outcome: &'static str,
        kind: &str,
        rules: &[&'static str],
        took: Duration,
    ) {
        self.with(|c| {
            *c.reviews.entry((outcome, kind.to_string())).or_default() += 1;
            for rule in rules {
                *c.denials.entry(rule).or_default() += 1;
            }
            let seconds = took.as_secs_f64();
            for (bucket, bound) in c.buckets.iter_mut().zip(BUCKETS) {
                if seconds <= bound {
                    *bucket += 1;
                }
            }
            c.seconds += seconds;
            c.observed += 1;
        });
    }

    pub fn bad_request(&self, status: u16) {
        self.with(|c| *c.bad_requests.entry(status).or_default() += 1);
    }

    pub fn reload(&self, what: &'static str) {
        self.with(|c| *c.reloads.entry(what).or_default() += 1);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(c) = self.counts.lock() else {
            return out;
        };
        let mut family = |name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        family(
            "palisade_admission_reviews_total",
            "counter",
            "Admission reviews answered, by outcome (allowed, denied, warned, audited, skipped; timeout: past the deadline, shed: refused at once while too busy) and kind.",
        );
        for ((outcome, kind), n) in &c.reviews {
            let _ = writeln!(
                out,
                "palisade_admission_reviews_total{{outcome=\"{outcome}\",kind=\"{}\"}} {n}",
                escape(kind)
            );
        }
        let mut family = |name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        family(
            "palisade_admission_denials_total",
            "counter",
            "Findings that denied a request, by rule.",
        );
        for (rule, n) in &c.denials {
            let _ = writeln!(
                out,
                "palisade_admission_denials_total{{rule=\"{rule}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP palisade_admission_duration_seconds Time to judge a review.\n\
             # TYPE palisade_admission_duration_seconds histogram"
        );
        for (bound, n) in BUCKETS.iter().zip(c.buckets) {
            let _ = writeln!(
                out,
                "palisade_admission_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "palisade_admission_duration_seconds_bucket{{le=\"+Inf\"}} {}\n\
             palisade_admission_duration_seconds_sum {}\n\
             palisade_admission_duration_seconds_count {}",
            c.observed, c.seconds, c.observed
        );
        let _ = writeln!(
            out,
            "# HELP palisade_admission_bad_requests_total Bodies that were not an AdmissionReview (400) or too large (413).\n\
             # TYPE palisade_admission_bad_requests_total counter"
        );
        for (status, n) in &c.bad_requests {
            let _ = writeln!(
                out,
                "palisade_admission_bad_requests_total{{status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP palisade_reloads_total Files reloaded after they changed (certificate, config).\n\
             # TYPE palisade_reloads_total counter"
        );
        for (what, n) in &c.reloads {
            let _ = writeln!(out, "palisade_reloads_total{{file=\"{what}\"}} {n}");
        }
        out
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_counts_are_labelled() {
        let metrics = Metrics::default();
        metrics.review(
            "denied",
            "Pod",
            &["PAL-PSS-002"],
            Duration::from_micros(300),
        );
        metrics.review("allowed", "Deployment", &[], Duration::from_millis(3));
        metrics.bad_request(400);
        let text = metrics.render();
        assert!(
            text.contains("palisade_admission_reviews_total{outcome=\"denied\",kind=\"Pod\"} 1")
        );
        assert!(text.contains("palisade_admission_denials_total{rule=\"PAL-PSS-002\"} 1"));
        assert!(text.contains("palisade_admission_duration_seconds_bucket{le=\"0.00025\"} 0"));
        assert!(text.contains("palisade_admission_duration_seconds_bucket{le=\"0.0005\"} 1"));
        assert!(text.contains("palisade_admission_duration_seconds_bucket{le=\"0.005\"} 2"));
        assert!(text.contains("palisade_admission_duration_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(text.contains("palisade_admission_duration_seconds_count 2"));
        assert!(text.contains("palisade_admission_bad_requests_total{status=\"400\"} 1"));
    }
}
