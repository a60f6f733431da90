//! The last 7 days of the system's vital signs, one [`HistoryPoint`] per minute
//! (`AION_HISTORY_ROLLUP_MS`), kept in the store (`metrics_minutes`) so that a restart
//! loses no history; the hour at 5 s stays in memory ([`super::history`]).
//!
//! Each minute is rolled up from the ring's points of that minute when the sampler passes
//! into the next one: rates and ratios are averaged, latencies keep their worst reading
//! (a spike must not be averaged away), sizes and counts keep the last. The same rollup
//! thins a long range for a chart ([`downsample`]). One row per minute, a JSON point:
//! 10,080 rows for 7 days, pruned by primary key at each write.

use server::store::{Store, StoreError};

use crate::model::HistoryPoint;

/// How long minute points are kept: 7 days.
pub const RETENTION_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// The rollup of `points` (all of one period) dated `at`; `None` for no points.
pub fn rollup(at: u64, points: &[HistoryPoint]) -> Option<HistoryPoint> {
    let last = points.last()?;
    let n = points.len() as f64;
    let mean = |f: fn(&HistoryPoint) -> f64| points.iter().map(f).sum::<f64>() / n;
    let max = |f: fn(&HistoryPoint) -> f64| points.iter().map(f).fold(0.0, f64::max);
    Some(HistoryPoint {
        at_unix_ms: at,
        rps: mean(|p| p.rps),
        p95_ms: max(|p| p.p95_ms),
        error_rate: mean(|p| p.error_rate),
        cpu_percent: mean(|p| p.cpu_percent),
        rss_bytes: last.rss_bytes,
        open_connections: last.open_connections,
        cache_hit_ratio: mean(|p| p.cache_hit_ratio),
        db_p95_ms: max(|p| p.db_p95_ms),
        wal_bytes: last.wal_bytes,
        tasks_pending: last.tasks_pending,
        tasks_per_min: mean(|p| p.tasks_per_min),
    })
}

/// At most `max` points from `points` (oldest first), consecutive runs rolled up into one
/// dated at the run's first point.
pub fn downsample(points: &[HistoryPoint], max: usize) -> Vec<HistoryPoint> {
    if points.len() <= max || max == 0 {
        return points.to_vec();
    }
    let run = points.len().div_ceil(max);
    points
        .chunks(run)
        .filter_map(|c| rollup(c[0].at_unix_ms, c))
        .collect()
}

/// Keeps the point of one period (replacing one of the same time) and drops points older
/// than the retention.
pub async fn save(store: &Store, point: &HistoryPoint) -> Result<(), StoreError> {
    let json = serde_json::to_string(point).unwrap_or_default();
    let at = point.at_unix_ms as i64;
    let w = store.write().await?;
    w.execute(
        "history.save",
        "INSERT OR REPLACE INTO metrics_minutes (at_unix_ms, point) VALUES (?1, ?2)",
        server::store::params![at, json],
    )
    .await?;
    w.execute(
        "history.prune",
        "DELETE FROM metrics_minutes WHERE at_unix_ms < ?1",
        [at - RETENTION_MS as i64],
    )
    .await?;
    Ok(())
}

/// The kept points after `since_ms` (Unix ms), oldest first; unreadable rows are skipped.
pub async fn load(store: &Store, since_ms: u64) -> Result<Vec<HistoryPoint>, StoreError> {
    let reader = store.read().await?;
    let rows = reader
        .query(
            "history.load",
            "SELECT point FROM metrics_minutes WHERE at_unix_ms > ?1 ORDER BY at_unix_ms",
            [since_ms as i64],
            |r| r.get::<String>(0),
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|json| serde_json::from_str(json).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(at: u64, rps: f64, p95: f64, rss: u64) -> HistoryPoint {
        HistoryPoint {
            at_unix_ms: at,
            rps,
            p95_ms: p95,
            rss_bytes: rss,
            ..HistoryPoint::default()
        }
    }

    #[test]
    fn a_minute_averages_rates_keeps_the_worst_latency_and_the_last_size() {
        let m = rollup(
            60_000,
            &[
                point(60_000, 10.0, 5.0, 100),
                point(65_000, 20.0, 50.0, 300),
                point(70_000, 30.0, 7.0, 200),
            ],
        )
        .expect("points");
        assert_eq!(
            (m.at_unix_ms, m.rps, m.p95_ms, m.rss_bytes),
            (60_000, 20.0, 50.0, 200)
        );
        assert_eq!(rollup(0, &[]), None);
    }

    #[test]
    fn a_long_range_is_thinned_to_at_most_the_points_a_chart_draws() {
        let week: Vec<HistoryPoint> = (0..10_080)
            .map(|m| point(m * 60_000, m as f64, 1.0, 0))
            .collect();
        let thin = downsample(&week, 720);
        assert!(thin.len() <= 720 && thin.len() >= 700, "{}", thin.len());
        assert_eq!(thin[0].at_unix_ms, 0);
        assert!(thin.windows(2).all(|w| w[0].at_unix_ms < w[1].at_unix_ms));
        assert_eq!(downsample(&week[..5], 720).len(), 5);
    }
}
