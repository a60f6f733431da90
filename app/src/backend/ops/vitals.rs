//! Field data from real browsers (`POST /api/vitals`), aggregated per page and metric: a
//! DDSketch (1 % relative error, mergeable) for the percentiles and counts per rating.
//!
//! Memory is bounded by construction: pages are the app's route templates plus `other`,
//! metrics are five, navigation types six; a sketch holds at most 1,024 bins whatever
//! arrives. Each minute's aggregate per page is persisted (`vitals_minutes`, one JSON row
//! per minute and page, merged if the minute is flushed twice) every [`FLUSH_EVERY`] and at
//! shutdown, and kept [`RETENTION_MINUTES`] (7 days); at start the summary is rebuilt from
//! them, so a restart loses no history.
//!
//! While the database refuses writes (disk full, read-only) the minutes stay pending, at
//! most [`MAX_PENDING_MINUTES`] of them: past that the oldest is merged into the next, so
//! memory stays bounded through an outage of any length and no sample is lost, only the
//! minute it is filed under.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use serde::{Deserialize, Serialize};
use server::store::{Store, StoreError};
use sketches_ddsketch::{Config, DDSketch};

use crate::model::{
    MetricVitals, NAVIGATION_TYPES, PageVitals, VITAL_ROUTES, ValidVitals, Vital, VitalsSummary,
};

const PAGES: usize = VITAL_ROUTES.len() + 1;

/// How often pending minutes are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(10);

/// Distinct minutes kept waiting for the database at most (an hour).
pub const MAX_PENDING_MINUTES: usize = 60;

/// How long minute rollups are kept: 7 days.
pub const RETENTION_MINUTES: i64 = 7 * 24 * 60;

#[derive(Clone, Serialize, Deserialize)]
struct Metric {
    sketch: DDSketch,
    ratings: [u64; 3],
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct Page {
    navigations: [u64; NAVIGATION_TYPES.len()],
    metrics: [Option<Metric>; Vital::ALL.len()],
}

impl Page {
    fn add(&mut self, report: &ValidVitals) {
        self.navigations[report.nav] += 1;
        for &(vital, value) in &report.metrics {
            let m = self.metrics[vital.index()].get_or_insert_with(|| Metric {
                sketch: DDSketch::new(Config::new(0.01, 1024, 1e-3)),
                ratings: [0; 3],
            });
            m.sketch.add(value);
            m.ratings[vital.rating(value)] += 1;
        }
    }

    fn merge(&mut self, other: &Page) {
        for (a, b) in self.navigations.iter_mut().zip(other.navigations) {
            *a += b;
        }
        for (mine, theirs) in self.metrics.iter_mut().zip(&other.metrics) {
            match (mine.as_mut(), theirs) {
                (_, None) => {}
                (None, Some(t)) => *mine = Some(t.clone()),
                (Some(m), Some(t)) => {
                    // Same configuration on both sides, so merging cannot fail.
                    let _ = m.sketch.merge(&t.sketch);
                    for (a, b) in m.ratings.iter_mut().zip(t.ratings) {
                        *a += b;
                    }
                }
            }
        }
    }
}

/// Every page's vitals: the totals, and the minutes not yet written; and the WASM memory
/// pages reported when they were left (since start, not kept).
pub struct Vitals {
    pages: Mutex<Vec<Page>>,
    pending: Mutex<HashMap<(i64, usize), Page>>,
    memory: Mutex<DDSketch>,
}

impl Default for Vitals {
    fn default() -> Self {
        Self {
            pages: Mutex::new((0..PAGES).map(|_| Page::default()).collect()),
            pending: Mutex::new(HashMap::new()),
            memory: Mutex::new(DDSketch::new(Config::new(0.01, 1024, 1.0))),
        }
    }
}

/// The WASM memory browsers reported: `(samples, p75 bytes, max bytes)`.
pub type ClientMemory = (u64, u64, u64);

/// The current minute since the Unix epoch.
fn minute_now() -> i64 {
    crate::backend::time::now_micros() / 60_000_000
}

impl Vitals {
    /// The totals of the last 7 days' persisted minutes.
    pub async fn load(store: &Store) -> Result<Self, StoreError> {
        let vitals = Self::default();
        let reader = store.read().await?;
        let rows = reader
            .query(
                "vitals.load",
                "SELECT page, data FROM vitals_minutes WHERE minute >= ?1",
                [minute_now() - RETENTION_MINUTES],
                |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
            )
            .await?;
        drop(reader);
        let mut pages = vitals.pages.lock().unwrap_or_else(|p| p.into_inner());
        for (page, data) in rows {
            let (Some(total), Ok(minute)) = (
                usize::try_from(page).ok().and_then(|p| pages.get_mut(p)),
                serde_json::from_str::<Page>(&data),
            ) else {
                tracing::warn!(page, "unreadable vitals rollup skipped");
                continue;
            };
            total.merge(&minute);
        }
        drop(pages);
        Ok(vitals)
    }

    /// The WASM memory pages reported when left, since start.
    pub fn client_memory(&self) -> ClientMemory {
        let sketch = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        let q = |x: f64| sketch.quantile(x).ok().flatten().unwrap_or(0.0) as u64;
        (
            sketch.count() as u64,
            q(0.75),
            sketch.max().unwrap_or(0.0) as u64,
        )
    }

    /// Adds one validated beacon.
    pub fn record(&self, report: &ValidVitals) {
        if let Some(bytes) = report.wasm_memory_bytes {
            self.memory
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .add(bytes as f64);
        }
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        let Some(page) = pages.get_mut(report.route) else {
            return;
        };
        page.add(report);
        drop(pages);
        self.record_pending(minute_now(), report);
    }

    fn record_pending(&self, minute: i64, report: &ValidVitals) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let key = (minute, report.route);
        let new = !pending.contains_key(&key);
        pending.entry(key).or_default().add(report);
        if new {
            bound(&mut pending);
        }
    }

    /// Writes the pending minutes (merged into rows already there) and drops rollups older
    /// than the retention; on failure they stay pending for the next flush.
    pub async fn flush(&self, store: &Store) -> Result<usize, StoreError> {
        let batch = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        if batch.is_empty() {
            return Ok(0);
        }
        let n = batch.len();
        let result = write(store, &batch).await;
        if result.is_err() {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (key, page) in batch {
                pending.entry(key).or_default().merge(&page);
            }
            bound(&mut pending);
        }
        result.map(|()| n)
    }

    /// Distinct minutes waiting to be written.
    pub fn pending_minutes(&self) -> usize {
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        distinct_minutes(&pending).len()
    }

    /// Pages with samples, in route order, `other` last.
    pub fn summary(&self) -> VitalsSummary {
        let pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        let pages = pages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.navigations.iter().any(|n| *n > 0))
            .map(|(i, p)| {
                let mut page = PageVitals {
                    route: VITAL_ROUTES.get(i).copied().unwrap_or("other").to_owned(),
                    navigations: NAVIGATION_TYPES
                        .iter()
                        .zip(p.navigations)
                        .filter(|(_, n)| *n > 0)
                        .map(|(t, n)| ((*t).to_owned(), n))
                        .collect(),
                    metrics: Vital::ALL
                        .iter()
                        .filter_map(|v| {
                            let m = p.metrics[v.index()].as_ref()?;
                            let q = |x: f64| m.sketch.quantile(x).ok().flatten().unwrap_or(0.0);
                            Some(MetricVitals {
                                name: v.as_str().to_owned(),
                                samples: m.sketch.count() as u64,
                                p50: q(0.5),
                                p75: q(0.75),
                                p95: q(0.95),
                                good: m.ratings[0],
                                needs_improvement: m.ratings[1],
                                poor: m.ratings[2],
                            })
                        })
                        .collect(),
                    score: None,
                };
                page.score = super::vitals_score::page_score(&page.metrics);
                page
            })
            .collect();
        VitalsSummary { pages }
    }
}

async fn write(store: &Store, batch: &HashMap<(i64, usize), Page>) -> Result<(), StoreError> {
    // One transaction: a failed flush writes nothing, so re-queuing it cannot count twice.
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    for (&(minute, page), data) in batch {
        let existing = tx
            .query_opt(
                "vitals.read_minute",
                "SELECT data FROM vitals_minutes WHERE minute = ?1 AND page = ?2",
                (minute, page as i64),
                |r| r.get::<String>(0),
            )
            .await?;
        let mut merged = existing
            .and_then(|d| serde_json::from_str::<Page>(&d).ok())
            .unwrap_or_default();
        merged.merge(data);
        let Ok(json) = serde_json::to_string(&merged) else {
            continue;
        };
        tx.execute(
            "vitals.write_minute",
            "INSERT OR REPLACE INTO vitals_minutes (minute, page, data) VALUES (?1, ?2, ?3)",
            (minute, page as i64, json),
        )
        .await?;
    }
    tx.execute(
        "vitals.expire",
        "DELETE FROM vitals_minutes WHERE minute < ?1",
        [minute_now() - RETENTION_MINUTES],
    )
    .await?;
    tx.commit().await
}

fn distinct_minutes(pending: &HashMap<(i64, usize), Page>) -> std::collections::BTreeSet<i64> {
    pending.keys().map(|(minute, _)| *minute).collect()
}

/// Merges the oldest pending minutes into the next until at most [`MAX_PENDING_MINUTES`]
/// remain.
fn bound(pending: &mut HashMap<(i64, usize), Page>) {
    let minutes: Vec<i64> = distinct_minutes(pending).into_iter().collect();
    let excess = minutes.len().saturating_sub(MAX_PENDING_MINUTES);
    for pair in minutes.windows(2).take(excess) {
        let (from, into) = (pair[0], pair[1]);
        for page in 0..PAGES {
            if let Some(data) = pending.remove(&(from, page)) {
                pending.entry((into, page)).or_default().merge(&data);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{VitalSample, VitalsReport};

    fn beacon(route: &str, lcp: f64) -> ValidVitals {
        VitalsReport {
            route: route.into(),
            nav: "navigate".into(),
            metrics: vec![VitalSample {
                name: "LCP".into(),
                value: lcp,
            }],
            wasm_memory_bytes: None,
        }
        .validate()
        .expect("valid")
    }

    #[test]
    fn percentiles_and_ratings_per_page() {
        let v = Vitals::default();
        for i in 1..=100 {
            v.record(&beacon("/stories", f64::from(i) * 50.0)); // 50 ms .. 5 s
        }
        let s = v.summary();
        assert_eq!(s.pages.len(), 1);
        let lcp = &s.pages[0].metrics[0];
        assert_eq!((lcp.name.as_str(), lcp.samples), ("LCP", 100));
        assert!((lcp.p75 - 3750.0).abs() / 3750.0 < 0.03, "p75 {}", lcp.p75);
        assert_eq!((lcp.good, lcp.needs_improvement, lcp.poor), (50, 30, 20));
        assert_eq!(s.pages[0].navigations, vec![("navigate".to_owned(), 100)]);
    }

    /// A store with the app's schema, in a directory that lives as long as the guard.
    async fn migrated_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(server::store::StoreConfig::new(dir.path().join("v.db")))
            .await
            .expect("store");
        store
            .migrate(crate::backend::schema::MIGRATIONS)
            .await
            .expect("migrations");
        (dir, store)
    }

    #[tokio::test]
    async fn a_restart_loses_no_history() {
        let (_dir, store) = migrated_store().await;
        let v = Vitals::default();
        for i in 1..=40 {
            v.record(&beacon("/", f64::from(i) * 100.0));
        }
        assert_eq!(v.flush(&store).await.expect("flush"), 1);
        // More in the same minute: the row is merged, not replaced.
        for i in 41..=60 {
            v.record(&beacon("/", f64::from(i) * 100.0));
        }
        v.record(&beacon("/tasks", 900.0));
        assert_eq!(v.flush(&store).await.expect("flush"), 2);
        assert_eq!(v.flush(&store).await.expect("nothing pending"), 0);
        let loaded = Vitals::load(&store).await.expect("load").summary();
        assert_eq!(loaded, v.summary());
        assert_eq!(loaded.pages[0].metrics[0].samples, 60);
    }

    #[tokio::test]
    async fn a_long_outage_keeps_an_hour_of_minutes_and_every_sample() {
        let v = Vitals::default();
        // A day in which the database took nothing: one beacon a minute on two pages.
        let start = minute_now() - 1_440;
        for minute in start..start + 1_440 {
            v.record_pending(minute, &beacon("/", 1_000.0));
            v.record_pending(minute, &beacon("/tasks", 2_000.0));
        }
        assert_eq!(v.pending_minutes(), MAX_PENDING_MINUTES);
        // The database is back: everything is written, under fewer minutes.
        let (_dir, store) = migrated_store().await;
        assert_eq!(
            v.flush(&store).await.expect("flush"),
            2 * MAX_PENDING_MINUTES
        );
        let loaded = Vitals::load(&store).await.expect("load").summary();
        let samples: u64 = loaded.pages.iter().map(|p| p.metrics[0].samples).sum();
        assert_eq!(samples, 2 * 1_440, "every sample was kept");
    }

    #[test]
    fn any_number_of_unknown_routes_is_one_page() {
        let v = Vitals::default();
        for i in 0..1000 {
            v.record(&beacon(&format!("/made-up/{i}"), 100.0));
        }
        let s = v.summary();
        assert_eq!(s.pages.len(), 1);
        assert_eq!(s.pages[0].route, "other");
        assert_eq!(s.pages[0].metrics[0].samples, 1000);
    }
}
