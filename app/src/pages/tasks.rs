//! `/tasks`: background work with live status and progress.
//!
//! The list and the queue's statistics are server-rendered; after hydration each row
//! follows the live stream (progress bars move without polling), and the list and the
//! statistics reload when a task finishes.

use dioxus::prelude::*;

use app::model::{
    ApiError, JsonBody, ReportRequest, TaskList, TaskStats, TaskStatus, millis, per_second,
};

use crate::{
    api,
    components::{TaskRow, use_live},
    hooks::hydrated::Hydrated,
};

async fn load_list(status: String) -> Result<TaskList, ApiError> {
    let status = (!status.is_empty()).then_some(status);
    api::list_tasks(status, Some("50".into()), None).await
}

/// Background work: exports, reports, backups.
#[component]
pub fn Tasks() -> Element {
    let live = use_live();
    let mut status = use_signal(String::new);
    // Both are server-rendered and carried to the client in the hydration data.
    let list = use_loader(move || {
        // Read so that a finished task reloads the list and the statistics.
        let _ = (live.finished)();
        let load = load_list(status());
        async move { load.await.map(Hydrated) }
    })?;
    let stats = use_loader(move || {
        let _ = (live.finished)();
        let load = api::task_stats();
        async move { load.await.map(Hydrated) }
    })?;
    let (list, stats): (TaskList, TaskStats) = (list().0, stats().0);
    let mut error = use_signal(|| None::<String>);
    let mut extra = use_signal(Vec::new);
    let start_report = move |_| {
        spawn(async move {
            match api::start_report(JsonBody(ReportRequest::default())).await {
                Ok(task) => extra.write().insert(0, task),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let shown: Vec<_> = extra
        .read()
        .iter()
        .filter(|t| !list.items.iter().any(|l| l.id == t.id))
        .cloned()
        .chain(list.items.iter().cloned())
        .collect();
    rsx! {
        div { class: "page-head",
            h1 { "Tasks" }
            button { class: "btn primary", "data-testid": "library-report", onclick: start_report, "Library report" }
        }
        p { class: "lead", "Exports, reports and backups run in a durable queue: they survive restarts, retry with backoff and can be cancelled." }
        if let Some(e) = error() {
            p { class: "error", "{e}" }
        }
        section { class: "card", "data-testid": "task-stats",
            h2 { "Queue" }
            dl { class: "facts stats-grid",
                dt { "Pending" } dd { "data-testid": "stat-pending", "{stats.pending} of at most {stats.max_pending}" }
                dt { "Running" } dd { "{stats.running} on {stats.workers} workers" }
                dt { "Completed" } dd { "data-testid": "stat-completed", "{stats.completed}" }
                dt { "Failed" } dd { "{stats.failed}" }
                dt { "Cancelled" } dd { "{stats.cancelled}" }
                dt { "Throughput" } dd { "{per_second(stats.finished_last_minute)} tasks/s (last minute)" }
                dt { "Run time" } dd { "mean {millis(stats.run_mean_us)} · p95 {millis(stats.run_p95_us)}" }
                dt { "Pickup" } dd { "p50 {millis(stats.pickup_p50_us)} · p99 {millis(stats.pickup_p99_us)}" }
                dt { "Retries" } dd { "{stats.retries_total} since start" }
            }
        }
        div { class: "filters",
            label { "Status"
                select {
                    "data-testid": "task-filter",
                    value: "{status}",
                    onchange: move |e| status.set(e.value()),
                    option { value: "", "all" }
                    for s in TaskStatus::ALL {
                        option { value: s.as_str(), "{s}" }
                    }
                }
            }
            if (live.connected)() {
                span { class: "muted", "data-testid": "live-on", "● live" }
            }
        }
        if shown.is_empty() {
            p { class: "muted", "data-testid": "no-tasks", "No tasks yet. Export a story from its reader page, or start a library report." }
        }
        ul { class: "task-list", "data-testid": "tasks",
            for task in shown {
                TaskRow { key: "{task.id}", task, show_story: true }
            }
        }
    }
}
