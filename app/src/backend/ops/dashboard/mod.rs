//! The panels of `/performance-dashboard`, rendered on the server: one per section (API,
//! database, caches, tasks, real-user vitals, resources) and the alert list, each to an
//! HTML string that `GET /api/metrics/dashboard` sends and the page swaps in, panel by
//! panel, only where it changed.
//!
//! Why on the server: the WASM client has a 400 KB brotli cap and sits at it. The same
//! panels as client components cost 40.7 KB brotli with the typed snapshot, 25.4 KB
//! reading it as JSON (`cargo xtask bundle-size`, each build side by side with the one
//! before); rendered here they cost the client nothing but the page's frame and the
//! refresh hook. The charts are still SVG drawn in Rust ([`chart`]), the figures
//! still those of the snapshot and history the API serves.
//!
//! Shared by the panels: a metric with its value, trend and one-line explanation, the
//! percentile selector and number formatting. The panels read the typed
//! [`MetricsSnapshot`], so a renamed field is a compile error, not a silent zero.

mod alerts;
pub mod chart;
mod client_panels;
pub mod layers;
mod results;
mod server_panels;

use std::rc::Rc;

use alerts::alert_list;
use client_panels::{resources_panel, rum_panel, tasks_panel};
use server_panels::{api_panel, cache_panel, database_panel};

use dioxus::prelude::*;

use crate::model::{HistoryPoint, Latency, MetricsSnapshot};

use chart::trend_chart;

/// Which latency percentile the panels show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Percentile {
    /// Median.
    P50,
    /// 95th.
    P95,
    /// 99th.
    P99,
}

impl Percentile {
    /// All, for the selector.
    pub const ALL: [Percentile; 3] = [Percentile::P50, Percentile::P95, Percentile::P99];

    /// `p50`, `p95`, `p99`.
    pub fn as_str(self) -> &'static str {
        match self {
            Percentile::P50 => "p50",
            Percentile::P95 => "p95",
            Percentile::P99 => "p99",
        }
    }

    /// The one named `s`.
    pub fn named(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// This percentile of `l`, in milliseconds.
    pub fn of(self, l: &Latency) -> f64 {
        match self {
            Percentile::P50 => l.p50_ms,
            Percentile::P95 => l.p95_ms,
            Percentile::P99 => l.p99_ms,
        }
    }
}

/// `v` with `decimals` decimals, by integer arithmetic; `—` if it is not a number.
pub fn fixed(v: f64, decimals: u32) -> String {
    if !v.is_finite() {
        return "—".to_owned();
    }
    let scale = 10u64.pow(decimals);
    let n = (v.abs() * scale as f64).round() as u64;
    let sign = if v < 0.0 && n > 0 { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{n}")
    } else {
        let width = decimals as usize;
        format!("{sign}{}.{:0width$}", n / scale, n % scale)
    }
}

/// Milliseconds, with fewer decimals as they grow: `0.42 ms`, `12.3 ms`, `250 ms`.
pub fn ms(v: f64) -> String {
    let decimals = if v < 10.0 {
        2
    } else if v < 100.0 {
        1
    } else {
        0
    };
    format!("{} ms", fixed(v, decimals))
}

/// A ratio 0-1 as a percentage with one decimal.
pub fn pct(ratio: f64) -> String {
    format!("{} %", fixed(ratio * 100.0, 1))
}

/// Bytes in B, KiB, MiB or GiB with one decimal.
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut unit = 0;
    let mut scaled = b as f64;
    while scaled >= 1024.0 && unit < UNITS.len() - 1 {
        scaled /= 1024.0;
        unit += 1;
    }
    let decimals = if unit == 0 { 0 } else { 1 };
    format!("{} {}", fixed(scaled, decimals), UNITS[unit])
}

/// Every panel as `(id, html)`, in the page's order, from the snapshot and the history's
/// points.
pub fn render(
    snapshot: &MetricsSnapshot,
    points: &[HistoryPoint],
    p: Percentile,
) -> Vec<(&'static str, String)> {
    let s = Rc::new(snapshot.clone());
    let points: Rc<[HistoryPoint]> = points.into();
    let panel = |f: fn(&MetricsSnapshot, &[HistoryPoint], Percentile) -> Element| {
        let (s, points) = (s.clone(), points.clone());
        to_html(move || f(&s, &points, p))
    };
    vec![
        (
            "alerts",
            panel(|s, _, _| alert_list(&s.alerts, s.at_unix_ms)),
        ),
        ("api", panel(|s, pts, p| api_panel(&s.api, pts, p))),
        (
            "database",
            panel(|s, pts, p| database_panel(&s.database, pts, p, s.at_unix_ms)),
        ),
        ("caches", panel(|s, pts, _| cache_panel(&s.caches, pts))),
        ("tasks", panel(|s, pts, _| tasks_panel(&s.tasks, pts))),
        ("rum", panel(|s, _, _| rum_panel(&s.rum))),
        (
            "resources",
            panel(|s, pts, _| resources_panel(&s.resources, pts)),
        ),
    ]
}

/// `at` (Unix ms) as how long before `now` (Unix ms).
pub fn ago(now: u64, at: u64) -> String {
    let s = now.saturating_sub(at) / 1000;
    match s {
        s if s < 60 => format!("{s} s ago"),
        s if s < 3600 => format!("{} min ago", s / 60),
        s => format!("{} h {} min ago", s / 3600, (s % 3600) / 60),
    }
}

pub use crate::backend::html::to_html;

/// One figure of the history's points (e.g. `|p| p.rps`), oldest first.
pub fn series(points: &[HistoryPoint], figure: impl Fn(&HistoryPoint) -> f64) -> Vec<f64> {
    points.iter().map(figure).collect()
}

/// A metric: its name, value, trend (if it has one) and what it means.
pub fn metric(
    label: &str,
    testid: &str,
    value: String,
    trend: Option<Vec<f64>>,
    explain: &str,
) -> Element {
    rsx! {
        div { class: "metric", "data-testid": "{testid}",
            div { class: "metric-head",
                span { class: "metric-label", "{label}" }
                strong { class: "metric-value", "{value}" }
            }
            if let Some(values) = trend {
                {trend_chart(&values, label)}
            }
            p { class: "metric-explain", "{explain}" }
        }
    }
}

/// One of the six sections.
pub fn section(title: &str, id: &str, children: Element) -> Element {
    rsx! {
        section { class: "card dash-section", id: "{id}", "data-testid": "section-{id}",
            h2 { "{title}" }
            div { class: "metrics", {children} }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_printed_without_float_formatting() {
        assert_eq!(fixed(12.345, 1), "12.3");
        assert_eq!(fixed(0.005, 2), "0.01");
        assert_eq!(fixed(-1.5, 0), "-2");
        assert_eq!(fixed(-0.0001, 2), "0.00");
        assert_eq!(fixed(f64::NAN, 1), "—");
        assert_eq!(ms(0.42), "0.42 ms");
        assert_eq!(ms(12.34), "12.3 ms");
        assert_eq!(ms(250.4), "250 ms");
        assert_eq!(pct(0.9751), "97.5 %");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(410_000), "400.4 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn percentiles_read_their_own_figure() {
        let l = Latency {
            count: 3,
            p50_ms: 1.0,
            p95_ms: 1.5,
            p99_ms: 9.0,
        };
        assert_eq!(Percentile::P50.of(&l), 1.0);
        assert_eq!(Percentile::P95.of(&l), 1.5);
        assert_eq!(Percentile::P99.of(&l), 9.0);
        assert_eq!(Percentile::named("p99"), Some(Percentile::P99));
        assert_eq!(Percentile::named("p90"), None);
    }

    #[test]
    fn every_panel_renders_from_the_typed_snapshot() {
        let mut s = MetricsSnapshot::default();
        s.api.rps_1m = 12.5;
        s.api.latency_1m.p95_ms = 4.25;
        s.tasks.pending = 7;
        s.resources.rss_bytes = 3 * 1024 * 1024;
        let point = HistoryPoint {
            cpu_percent: 42.0,
            ..HistoryPoint::default()
        };
        let panels = render(&s, &[point], Percentile::P95);
        let html = |id: &str| {
            panels
                .iter()
                .find(|(k, _)| *k == id)
                .map(|(_, h)| h.clone())
                .unwrap_or_default()
        };
        let ids: Vec<&str> = panels.iter().map(|(id, _)| *id).collect();
        assert_eq!(
            ids,
            [
                "alerts",
                "api",
                "database",
                "caches",
                "tasks",
                "rum",
                "resources"
            ]
        );
        assert!(html("api").contains("12.5"), "{}", html("api"));
        assert!(html("api").contains("p95 4.25 ms"));
        assert!(html("tasks").contains("7 / 0"));
        assert!(html("resources").contains("3.0 MiB"));
        assert!(html("resources").contains("42.0 %"));
        assert!(html("alerts").contains("Nothing firing"));
    }
}
