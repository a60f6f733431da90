//! The panels of `/performance-dashboard`, rendered on the server: one per section (API,
//! database, caches, tasks, real-user vitals, resources) and the alert list, each to an
//! HTML string that `GET /api/metrics/dashboard` sends and the page swaps in, panel by
//! panel, only where it changed.
//!
//! Why on the server: the WASM client has a 400 KB brotli cap and sits at it. The same
//! panels as client components cost 40.7 KB brotli with the typed snapshot, 25.4 KB
//! reading it as JSON (`cargo xtask bundle-size`, each build side by side with the one
//! before); rendered here they cost the client nothing but the page's frame and the
//! refresh hook. The charts are still SVG drawn in Rust ([`super::chart`]), the figures
//! still those of the snapshot and history the API serves.
//!
//! Shared by the panels: a metric with its value, trend and one-line explanation, the
//! percentile selector, JSON accessors, and number formatting.

mod alerts;
mod client_panels;
pub mod layers;
mod results;
mod server_panels;

use std::rc::Rc;

use alerts::alert_list;
use client_panels::{resources_panel, rum_panel, tasks_panel};
use server_panels::{api_panel, cache_panel, database_panel};

use dioxus::prelude::*;
use serde_json::Value;

use super::chart::trend_chart;

/// The number at `path` (keys joined by `/`, e.g. `api/latency_1m/p95_ms`) in `v`; 0 when
/// absent (a server older or newer than this page shows zeros, not an error).
pub fn num(v: &Value, path: &str) -> f64 {
    at(v, path).and_then(Value::as_f64).unwrap_or(0.0)
}

/// The whole number at `path`; 0 when absent.
pub fn int(v: &Value, path: &str) -> u64 {
    at(v, path).and_then(Value::as_u64).unwrap_or(0)
}

/// The text at `path`; empty when absent.
pub fn text<'a>(v: &'a Value, path: &str) -> &'a str {
    at(v, path).and_then(Value::as_str).unwrap_or("")
}

/// The list at `path`; empty when absent.
pub fn list<'a>(v: &'a Value, path: &str) -> &'a [Value] {
    at(v, path)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(v, |v, key| v.get(key))
}

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

    /// This percentile of the `Latency` object `l`, in milliseconds.
    pub fn of(self, l: &Value) -> f64 {
        num(l, &format!("{}_ms", self.as_str()))
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
/// points (both as the API serves them).
pub fn render(snapshot: &Value, points: &[Value], p: Percentile) -> Vec<(&'static str, String)> {
    let now = int(snapshot, "at_unix_ms");
    let s = |key: &str| snapshot.get(key).cloned().unwrap_or(Value::Null);
    let points: Rc<[Value]> = points.into();
    let panel = |f: Rc<dyn Fn() -> Element>| to_html(move || f());
    let (alerts, api, db, caches) = (s("alerts"), s("api"), s("database"), s("caches"));
    let (tasks, rum, res) = (s("tasks"), s("rum"), s("resources"));
    let pts = points.clone();
    let api_html = panel(Rc::new(move || api_panel(&api, &pts, p)));
    let pts = points.clone();
    let db_html = panel(Rc::new(move || database_panel(&db, &pts, p, now)));
    let pts = points.clone();
    let cache_html = panel(Rc::new(move || cache_panel(&caches, &pts)));
    let pts = points.clone();
    let tasks_html = panel(Rc::new(move || tasks_panel(&tasks, &pts)));
    let res_html = panel(Rc::new(move || resources_panel(&res, &points)));
    vec![
        ("alerts", panel(Rc::new(move || alert_list(&alerts, now)))),
        ("api", api_html),
        ("database", db_html),
        ("caches", cache_html),
        ("tasks", tasks_html),
        ("rum", panel(Rc::new(move || rum_panel(&rum)))),
        ("resources", res_html),
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

/// What `f` renders, as HTML.
pub fn to_html(f: impl Fn() -> Element + 'static) -> String {
    let f: Rc<dyn Fn() -> Element> = Rc::new(f);
    let mut dom = VirtualDom::new_with_props(|f: Rc<dyn Fn() -> Element>| f(), f);
    dom.rebuild_in_place();
    dioxus::ssr::render(&dom)
}

/// The history's `key` (e.g. `rps`), oldest first.
pub fn series(points: &[Value], key: &str) -> Vec<f64> {
    points.iter().map(|p| num(p, key)).collect()
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
    fn figures_are_read_by_path_and_absent_ones_are_zero() {
        let v = serde_json::json!({"api": {"latency_1m": {"p95_ms": 1.5, "count": 3}, "route": "GET /"}, "xs": [1, 2]});
        assert_eq!(num(&v, "api/latency_1m/p95_ms"), 1.5);
        assert_eq!(int(&v, "api/latency_1m/count"), 3);
        assert_eq!(text(&v, "api/route"), "GET /");
        assert_eq!(list(&v, "xs").len(), 2);
        assert_eq!(num(&v, "api/nothing/here"), 0.0);
        assert_eq!(list(&v, "api"), &[] as &[Value]);
        assert_eq!(Percentile::P99.of(&v["api"]["latency_1m"]), 0.0);
        assert_eq!(Percentile::P95.of(&v["api"]["latency_1m"]), 1.5);
    }
}
