//! The panels of work and of what users get: the task queue, real-user Web Vitals per page
//! and the resources the server uses (its process, the bundle it serves). Each takes its
//! part of the snapshot as JSON and the history's points.

use dioxus::prelude::*;
use serde_json::Value;

use app::model::{Vital, millis};

use super::{bytes, fixed, int, list, metric, ms, num, section, series, text};

/// Count per status, throughput, run time, queue wait, failures and retries.
pub fn tasks_panel(tasks: &Value, points: &[Value]) -> Element {
    let t = |k: &str| int(tasks, k);
    let body = rsx! {
        {metric("Pending / running", "tasks-pending", format!("{} / {}", t("pending"), t("running")), Some(series(points, "tasks_pending")),
            "Tasks waiting for a worker and being worked on now; a growing queue means workers cannot keep up.")}
        {metric("Throughput", "tasks-throughput", format!("{} / min", t("finished_last_minute")), Some(series(points, "tasks_per_min")),
            "Tasks finished (completed or failed) in the last minute.")}
        {metric("Run time p95", "tasks-run", millis(t("run_p95_us")), None,
            "How long a task runs once picked up (95th percentile).")}
        {metric("Queue wait p50 / p99", "tasks-wait", format!("{} / {}", millis(t("pickup_p50_us")), millis(t("pickup_p99_us"))), None,
            "From queued to picked up by a worker.")}
        {metric("Failures / retries", "tasks-failures", format!("{} / {}", t("failed_total"), t("retries_total")), None,
            "Tasks that failed for good, and attempts retried after an error, since start.")}
        dl { class: "facts status-classes",
            dt { "completed" } dd { "{t(\"completed\")}" }
            dt { "failed" } dd { "{t(\"failed\")}" }
            dt { "cancelled" } dd { "{t(\"cancelled\")}" }
        }
    };
    section("Tasks", "tasks", body)
}

/// One cell of the vitals table: the p75 in its unit, classed by its rating.
fn vital_cell(page: &Value, v: Vital) -> Element {
    let name = v.as_str();
    let Some(m) = list(page, "metrics")
        .iter()
        .find(|m| text(m, "name") == name)
    else {
        return rsx! { td { class: "muted", "—" } };
    };
    let p75 = num(m, "p75");
    let shown = if v == Vital::Cls {
        fixed(p75, 3)
    } else {
        ms(p75)
    };
    let rating = ["good", "needs-improvement", "poor"][v.rating(p75)];
    rsx! { td { class: "{rating}", title: "{int(m, \"samples\")} samples", "{shown}" } }
}

/// p75 of LCP, INP, CLS, FCP and TTFB per page with samples, and each page's score.
pub fn rum_panel(rum: &Value) -> Element {
    let pages = list(rum, "pages");
    let views = |page: &Value| -> u64 {
        list(page, "navigations")
            .iter()
            .filter_map(|n| n.get(1)?.as_u64())
            .sum()
    };
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
                    tr { key: "{text(page, \"route\")}", "data-route": "{text(page, \"route\")}",
                        td { code { "{text(page, \"route\")}" } }
                        td { "{views(page)}" }
                        for v in Vital::ALL { {vital_cell(page, v)} }
                        td { class: "score",
                            {page.get("score").and_then(Value::as_u64).map_or("—".to_owned(), |s| s.to_string())}
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
pub fn resources_panel(res: &Value, points: &[Value]) -> Element {
    let cpu = points.last().map_or(0.0, |p| num(p, "cpu_percent"));
    let body = rsx! {
        {metric("Server memory (RSS)", "res-rss", bytes(int(res, "rss_bytes")), Some(series(points, "rss_bytes")),
            "Resident memory of the server process.")}
        {metric("Server CPU", "res-cpu", format!("{} %", fixed(cpu, 1)), Some(series(points, "cpu_percent")),
            "CPU time used per interval, as a percentage of one core.")}
        {metric("Open connections", "res-connections", int(res, "open_connections").to_string(), Some(series(points, "open_connections")),
            "HTTP connections held open now (keep-alive and event streams included).")}
        {metric("Client WASM memory p75 / max", "res-client-memory",
            match int(res, "client_memory_samples") {
                0 => "no reports yet".to_owned(),
                n => format!("{} / {} ({n} views)", bytes(int(res, "client_memory_p75_bytes")), bytes(int(res, "client_memory_max_bytes"))),
            }, None,
            "The WebAssembly memory of visitors' pages when they left them, reported with the vitals (this tab's is below).")}
        {metric("Client bundle", "res-bundle", format!("{} brotli", bytes(int(res, "bundle_brotli_bytes"))), None,
            "What a browser downloads on first load (WASM, JS, CSS), measured from the files being served.")}
    };
    section("Resources", "resources", body)
}
