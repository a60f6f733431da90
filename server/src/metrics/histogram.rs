//! A thread-safe latency histogram in microseconds.
//!
//! Recording takes a short mutex around an HDR histogram (tens of nanoseconds uncontended);
//! reading takes a snapshot so percentiles never see a half-written state. Values are clamped
//! to one hour so a stuck clock cannot make a record fail.

use std::{sync::Mutex, time::Duration};

use serde::Serialize;

const MAX_MICROS: u64 = 3_600_000_000;

/// Latencies with exact percentiles.
///
/// ```
/// use std::time::Duration;
/// let h = server::metrics::Histogram::new();
/// h.record(Duration::from_micros(120));
/// h.record(Duration::from_micros(80));
/// let s = h.snapshot();
/// assert_eq!(s.count, 2);
/// assert!(s.p99_us >= 119.0);
/// ```
pub struct Histogram {
    inner: Mutex<hdrhistogram::Histogram<u64>>,
}

/// Count, mean and percentiles of a histogram at one moment, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct HistogramSnapshot {
    /// Number of recorded values.
    pub count: u64,
    /// Arithmetic mean.
    pub mean_us: f64,
    /// Median.
    pub p50_us: f64,
    /// 95th percentile.
    pub p95_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Largest value.
    pub max_us: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    /// An empty histogram covering 1 µs to 1 h at three significant digits.
    pub fn new() -> Self {
        let h = hdrhistogram::Histogram::new_with_bounds(1, MAX_MICROS, 3)
            .expect("static bounds are valid");
        Self {
            inner: Mutex::new(h),
        }
    }

    /// Records one latency.
    pub fn record(&self, latency: Duration) {
        let micros = (latency.as_micros() as u64).clamp(1, MAX_MICROS);
        let mut h = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // Cannot fail: the value is clamped into the histogram's bounds.
        let _ = h.record(micros);
    }

    /// Count, mean and percentiles now.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let h = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        snapshot_of(&h)
    }

    /// Takes the snapshot and clears the histogram (for rolling windows).
    pub fn drain(&self) -> (HistogramSnapshot, hdrhistogram::Histogram<u64>) {
        let mut h = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let copy = h.clone();
        h.reset();
        (snapshot_of(&copy), copy)
    }
}

/// The snapshot of a plain HDR histogram.
pub fn snapshot_of(h: &hdrhistogram::Histogram<u64>) -> HistogramSnapshot {
    if h.is_empty() {
        return HistogramSnapshot::default();
    }
    HistogramSnapshot {
        count: h.len(),
        mean_us: h.mean(),
        p50_us: h.value_at_quantile(0.50) as f64,
        p95_us: h.value_at_quantile(0.95) as f64,
        p99_us: h.value_at_quantile(0.99) as f64,
        max_us: h.max() as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let h = Histogram::new();
        for us in 1..=1000 {
            h.record(Duration::from_micros(us));
        }
        let s = h.snapshot();
        assert_eq!(s.count, 1000);
        assert_eq!(s.p50_us, 500.0);
        assert_eq!(s.p95_us, 950.0);
        assert_eq!(s.p99_us, 990.0);
        assert_eq!(s.max_us, 1000.0);
        assert!((s.mean_us - 500.5).abs() < 0.5);
    }

    #[test]
    fn empty_is_all_zero_and_drain_clears() {
        let h = Histogram::new();
        assert_eq!(h.snapshot(), HistogramSnapshot::default());
        h.record(Duration::from_millis(3));
        let (s, _) = h.drain();
        assert_eq!(s.count, 1);
        assert_eq!(h.snapshot().count, 0);
    }
}
