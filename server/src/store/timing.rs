//! Every query is timed: a latency histogram per query kind, plus a slow-query log.
//!
//! Queries are labelled by a static `kind` (e.g. `"story.by_id"`) chosen by the caller, so
//! the number of histograms is bounded by the code, not by the data. The slow log keeps the
//! statement text as written (placeholders, never bound values) so it can be shown to
//! operators without leaking content.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime},
};

use serde::Serialize;

use crate::metrics::{Histogram, HistogramSnapshot};

/// Timing of one query kind.
#[derive(Default)]
struct KindStats {
    latency: Histogram,
    errors: AtomicU64,
    rows: AtomicU64,
}

/// A query that took longer than the threshold.
#[derive(Debug, Clone, Serialize)]
pub struct SlowQuery {
    /// The query's label.
    pub kind: &'static str,
    /// The statement with placeholders, never with values.
    pub sql: String,
    /// How long it took, in milliseconds.
    pub duration_ms: f64,
    /// Rows returned or changed.
    pub rows: u64,
    /// When it finished (seconds since the Unix epoch).
    pub at_unix: f64,
}

/// Timing of one query kind at a moment.
#[derive(Debug, Clone, Serialize)]
pub struct QueryKindSnapshot {
    /// The query's label.
    pub kind: &'static str,
    /// Latency percentiles.
    pub latency: HistogramSnapshot,
    /// Failed executions.
    pub errors: u64,
    /// Rows returned or changed in total.
    pub rows: u64,
}

/// Histograms per kind, one of every query since it was last drained, and the slow log.
pub(crate) struct QueryTimings {
    kinds: RwLock<HashMap<&'static str, Arc<KindStats>>>,
    recent: Histogram,
    slow: Mutex<VecDeque<SlowQuery>>,
    threshold: Duration,
    capacity: usize,
}

impl QueryTimings {
    pub fn new(threshold: Duration, capacity: usize) -> Self {
        Self {
            kinds: RwLock::default(),
            recent: Histogram::new(),
            slow: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
            threshold,
            capacity,
        }
    }

    fn kind(&self, kind: &'static str) -> Arc<KindStats> {
        if let Some(stats) = self
            .kinds
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(kind)
        {
            return stats.clone();
        }
        self.kinds
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(kind)
            .or_default()
            .clone()
    }

    /// Records one execution.
    pub fn record(&self, kind: &'static str, sql: &str, took: Duration, rows: u64, ok: bool) {
        let stats = self.kind(kind);
        stats.latency.record(took);
        self.recent.record(took);
        stats.rows.fetch_add(rows, Ordering::Relaxed);
        if !ok {
            stats.errors.fetch_add(1, Ordering::Relaxed);
        }
        if took >= self.threshold && self.capacity > 0 {
            tracing::warn!(kind, ms = took.as_secs_f64() * 1e3, rows, "slow query");
            let entry = SlowQuery {
                kind,
                sql: compact(sql),
                duration_ms: took.as_secs_f64() * 1e3,
                rows,
                at_unix: SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64()),
            };
            let mut slow = self.slow.lock().unwrap_or_else(|p| p.into_inner());
            if slow.len() == self.capacity {
                slow.pop_front();
            }
            slow.push_back(entry);
        }
    }

    /// Per-kind timings, sorted by kind.
    pub fn snapshot(&self) -> Vec<QueryKindSnapshot> {
        let kinds = self.kinds.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<_> = kinds
            .iter()
            .map(|(kind, s)| QueryKindSnapshot {
                kind,
                latency: s.latency.snapshot(),
                errors: s.errors.load(Ordering::Relaxed),
                rows: s.rows.load(Ordering::Relaxed),
            })
            .collect();
        out.sort_by_key(|k| k.kind);
        out
    }

    /// Every query since the previous call, of all kinds (the dashboard's trend).
    pub fn drain_recent(&self) -> HistogramSnapshot {
        self.recent.drain().0
    }

    /// The slow log, newest first.
    pub fn slow_queries(&self) -> Vec<SlowQuery> {
        let slow = self.slow.lock().unwrap_or_else(|p| p.into_inner());
        slow.iter().rev().cloned().collect()
    }
}

/// Collapses whitespace so multi-line SQL reads as one line.
fn compact(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_queries_are_logged_without_values_and_bounded() {
        let t = QueryTimings::new(Duration::from_millis(10), 2);
        t.record("a", "SELECT 1", Duration::from_millis(1), 1, true);
        t.record(
            "b",
            "SELECT *\n  FROM x WHERE id = ?1",
            Duration::from_millis(20),
            3,
            true,
        );
        t.record("c", "SELECT 2", Duration::from_millis(30), 0, false);
        t.record("d", "SELECT 3", Duration::from_millis(40), 0, true);
        let slow = t.slow_queries();
        assert_eq!(slow.iter().map(|s| s.kind).collect::<Vec<_>>(), ["d", "c"]);
        let all = t.snapshot();
        assert_eq!(all.len(), 4);
        assert_eq!(all[2].errors, 1);
        assert_eq!(all[1].rows, 3);
    }

    #[test]
    fn statement_text_is_compacted() {
        assert_eq!(
            compact("SELECT *\n   FROM x\tWHERE id = ?1"),
            "SELECT * FROM x WHERE id = ?1"
        );
    }
}
