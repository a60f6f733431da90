//! The panels of work and of what users get: the task queue, real-user Web Vitals per page
//! and the resources the server uses (its process, the bundle it serves). Each takes its
//! section of the snapshot and the history's points.

use dioxus::prelude::*;

use crate::model::{
    HistoryPoint, PageVitals, ResourcesSection, TaskStats, Vital, VitalsSummary, millis,
};

use super::{bytes, fixed, metric, ms, section, series};

/// Count per status, throughput, run time, queue wait, failures and retries.
pub fn tasks_panel(t: &TaskStats, points: &[HistoryPoint]) -> Element {
    let body = rsx! {
        {metric("Pending / running", "tasks-pending", format!("{} / {}", t.pending, t.running), Some(series(points, |p| p.tasks_pending as f64)),
            "Tasks waiting for a worker and being worked on now; a growing queue means workers cannot keep up.")}
        {metric("Throughput", "tasks-throughput", format!("{} / min", t.finished_last_minute), Some(series(points, |p| p.tasks_per_min)),
            "Tasks finished (completed or failed) in the last minute.")}
        {metric("Run time p95", "tasks-run", millis(t.run_p95_us), None,
            "How long a task runs once picked up (95th percentile).")}
        {metric("Queue wait p50 / p99", "tasks-wait", format!("{} / {}", millis(t.pickup_p50_us), millis(t.pickup_p99_us)), None,
            "From queued to picked up by a worker.")}
        {metric("Failures / retries", "tasks-failures", format!("{} / {}", t.failed_total, t.retries_total), None,
            "Tasks that failed for good, and attempts retried after an error, since start.")}
        dl { class: "facts status-classes",
            dt { "completed" } dd { "{t.completed}" }
            dt { "failed" } dd { "{t.failed}" }
            dt { "cancelled" } dd { "{t.cancelled}" }
        }
    };
    section("Tasks", "tasks", body)
}

/// One cell of the vitals table: the p75 in its unit, classed by its rating.
fn vital_cell(page: &PageVitals, v: Vital) -> Element {
    let Some(m) = page.metrics.iter().find(|m| m.name == v.as_str()) else {
        return rsx! { td { class: "muted", "—" } };
    };
    let shown = if v == Vital::Cls {
        fixed(m.p75, 3)
    } else {
        ms(m.p75)
    };
    let rating = ["good", "needs-improvement", "poor"][v.rating(m.p75)];
    rsx! { td { class: "{rating}", title: "{m.samples} samples", "{shown}" } }
}

/// p75 of LCP, INP, CLS, FCP and TTFB per page with samples, and each page's score.
pub fn rum_panel(rum: &VitalsSummary) -> Element {
    let pages = &rum.pages;
    let views = |page: &PageVitals| -> u64 { page.navigations.iter().map(|(_, n)| n).sum() };
    let body = rsx! {
        p { class: "metric-explain",
            "Web Vitals measured in visitors' browsers (this one included) and sent when a page is hidden: "
            "the 75th percentile per page, the figure the thresholds are set on. Good: LCP ≤ 2.5 s, "
            "INP ≤ 200 ms, CLS ≤ 0.1, FCP ≤ 1.8 s, TTFB ≤ 0.8 s. The score weighs them like Lighthouse (0-100)."
        }
        if pages.is_empty() {
            p { class: "muted", "No page views reported yet: they arrive as visitors leave or hide a page." }
        }
        table { class: "dash-table", "data-testid": "rum-pages",
            thead { tr {
                th { "page" } th { "views" }
                for v in Vital::ALL { th { key: "{v.as_str()}", "{v.as_str()} p75" } }
                th { "score" }
            } }
            tbody {
                for page in pages {
                    tr { key: "{page.route}", "data-route": "{page.route}",
                        td { code { "{page.route}" } }
                        td { "{views(page)}" }
                        for v in Vital::ALL { {vital_cell(page, v)} }
                        td { class: "score",
                            {page.score.map_or("—".to_owned(), |s| s.to_string())}
                        }
                    }
                }
            }
        }
    };
    section("Front end (real users)", "rum", body)
}

/// The server process and the bundle as served (this tab's memory is measured by the page
/// itself).
pub fn resources_panel(res: &ResourcesSection, points: &[HistoryPoint]) -> Element {
    let cpu = points.last().map_or(0.0, |p| p.cpu_percent);
    let body = rsx! {
        {metric("Server memory (RSS)", "res-rss", bytes(res.rss_bytes), Some(series(points, |p| p.rss_bytes as f64)),
            "Resident memory of the server process.")}
        {metric("Server CPU", "res-cpu", format!("{} %", fixed(cpu, 1)), Some(series(points, |p| p.cpu_percent)),
            "CPU time used per interval, as a percentage of one core.")}
        {metric("Open connections", "res-connections", res.open_connections.to_string(), Some(series(points, |p| p.open_connections as f64)),
            "HTTP connections held open now (keep-alive and event streams included).")}
        {metric("Client WASM memory p75 / max", "res-client-memory",
            match res.client_memory_samples {
                0 => "no reports yet".to_owned(),
                n => format!("{} / {} ({n} views)", bytes(res.client_memory_p75_bytes), bytes(res.client_memory_max_bytes)),
            }, None,
            "The WebAssembly memory of visitors' pages when they left them, reported with the vitals (this tab's is below).")}
        {metric("Client bundle", "res-bundle", format!("{} brotli", bytes(res.bundle_brotli_bytes)), None,
            "What a browser downloads on first load (WASM, JS, CSS), measured from the files being served.")}
    };
    section("Resources", "resources", body)
}
