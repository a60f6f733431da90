//! The Prometheus text exposition format (version 0.0.4), written by hand.
//!
//! Why not `prometheus-client` (the well-kept OpenMetrics crate): AION's latencies are
//! mergeable sketches whose quantiles are exposed as summaries, and `prometheus-client`
//! 0.24 has no summary type (its `MetricType` is counter, gauge, histogram, info and
//! unknown; summary is listed as not supported), so adopting it would mean re-encoding
//! every latency as fixed-bucket histograms and recording twice on the request path. Every
//! figure here is read at scrape time from the part that owns it (request metrics, store
//! timings, cache and task statistics), which its registry model would also have to copy
//! into collector families per scrape. What is left is escaping label values, one
//! `# HELP`/`# TYPE` per family and number formatting, ~90 lines with a parser the tests
//! check every document with.

use std::{collections::HashSet, fmt::Write};

use super::HistogramSnapshot;

/// Builds one `/metrics` document.
///
/// ```
/// let mut e = server::metrics::Exposition::default();
/// e.counter("aion_requests_total", "Requests.", &[("route", "GET /")], 3.0);
/// let text = e.finish();
/// assert!(text.contains("aion_requests_total{route=\"GET /\"} 3"));
/// ```
#[derive(Default)]
pub struct Exposition {
    out: String,
    declared: HashSet<String>,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Exposition {
    fn declare(&mut self, name: &str, help: &str, kind: &str) {
        if self.declared.insert(name.to_owned()) {
            let _ = writeln!(self.out, "# HELP {name} {help}");
            let _ = writeln!(self.out, "# TYPE {name} {kind}");
        }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", if value.is_finite() { value } else { 0.0 });
    }

    /// A monotonically growing count.
    pub fn counter(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.declare(name, help, "counter");
        self.sample(name, labels, value);
    }

    /// A value that goes up and down.
    pub fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.declare(name, help, "gauge");
        self.sample(name, labels, value);
    }

    /// Latency quantiles (in seconds), count and sum of a histogram.
    pub fn summary(
        &mut self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        h: &HistogramSnapshot,
    ) {
        self.declare(name, help, "summary");
        for (q, v) in [("0.5", h.p50_us), ("0.95", h.p95_us), ("0.99", h.p99_us)] {
            let mut l = labels.to_vec();
            l.push(("quantile", q));
            self.sample(name, &l, v / 1e6);
        }
        self.sample(
            &format!("{name}_sum"),
            labels,
            h.mean_us * h.count as f64 / 1e6,
        );
        self.sample(&format!("{name}_count"), labels, h.count as f64);
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Checks a document line by line: comments are `# HELP`/`# TYPE`, samples are
/// `name{label="value",...} number`. Returns the samples as (series, value).
pub fn parse(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let bad = |why: &str| format!("line {}: {why}: {line}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let kind = rest.split_whitespace().next().unwrap_or("");
            if kind != "HELP" && kind != "TYPE" {
                return Err(bad("unknown comment"));
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').ok_or_else(|| bad("no value"))?;
        let value: f64 = value.parse().map_err(|_| bad("value is not a number"))?;
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(bad("bad metric name"));
        }
        if name_end < series.len() && !series.ends_with('}') {
            return Err(bad("unclosed labels"));
        }
        samples.push((series.to_owned(), value));
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_parse_back() {
        let mut e = Exposition::default();
        e.counter("a_total", "A.", &[("route", "GET /x \"q\"")], 2.0);
        e.counter("a_total", "A.", &[("route", "POST /y")], 1.0);
        e.gauge("b", "B.", &[], 0.5);
        let h = HistogramSnapshot {
            count: 4,
            mean_us: 1500.0,
            p50_us: 1000.0,
            p95_us: 2000.0,
            p99_us: 3000.0,
            max_us: 3000.0,
        };
        e.summary("lat_seconds", "Latency.", &[("route", "GET /x")], &h);
        let text = e.finish();
        assert_eq!(text.matches("# TYPE a_total counter").count(), 1);
        let samples = parse(&text).expect("valid");
        assert!(samples.contains(&(
            "lat_seconds{route=\"GET /x\",quantile=\"0.95\"}".into(),
            0.002
        )));
        assert!(samples.contains(&("lat_seconds_count{route=\"GET /x\"}".into(), 4.0)));
        assert!(parse("bad line").is_err());
        assert!(parse("9name 1").is_err());
    }
}
