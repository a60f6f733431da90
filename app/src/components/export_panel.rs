//! Export buttons for a story: JSON, PDF and a report, each started as a background task
//! with a live progress bar, a cancel button, and a download link when it is done.

use dioxus::prelude::*;

use app::model::{ExportRequest, JsonBody, ReportRequest, TaskView};

use crate::{
    api,
    components::{TaskUpdate, use_live},
};

/// The panel under a story.
#[component]
pub fn ExportPanel(story_id: String) -> Element {
    let mut started = use_signal(Vec::<TaskView>::new);
    let mut error = use_signal(|| None::<String>);
    let start = move |format: &'static str| {
        let story_id = story_id.clone();
        move |_| {
            let story_id = story_id.clone();
            spawn(async move {
                error.set(None);
                let result = if format == "report" {
                    api::start_report(JsonBody(ReportRequest {
                        story_id: Some(story_id),
                    }))
                    .await
                } else {
                    api::start_export(
                        story_id,
                        JsonBody(ExportRequest {
                            format: format.to_owned(),
                        }),
                    )
                    .await
                };
                match result {
                    Ok(task) => started.write().insert(0, task),
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        }
    };
    rsx! {
        section { class: "card exports", "data-testid": "exports",
            h2 { "Export" }
            div { class: "row",
                button { class: "btn", "data-testid": "export-json", onclick: start("json"), "JSON" }
                button { class: "btn", "data-testid": "export-pdf", onclick: start("pdf"), "PDF" }
                button { class: "btn", "data-testid": "export-report", onclick: start("report"), "Report" }
            }
            if let Some(e) = error() {
                p { class: "error", "{e}" }
            }
            ul { class: "task-list",
                for task in started.read().iter().cloned() {
                    TaskRow { key: "{task.id}", task, show_story: false }
                }
            }
        }
    }
}

/// A task with its live progress, cancel and download.
#[component]
pub fn TaskRow(task: TaskView, show_story: bool) -> Element {
    let live = use_live();
    let update = live.tasks.read().get(&task.id).cloned();
    let TaskUpdate {
        status,
        progress,
        message,
        error,
        ..
    } = update.unwrap_or(TaskUpdate {
        kind: task.kind.clone(),
        status: task.status.clone(),
        progress: task.progress,
        message: task.message.clone(),
        error: task.error.clone(),
    });
    let mut cancel_error = use_signal(|| None::<String>);
    let id = task.id.clone();
    let cancellable = matches!(status.as_str(), "pending" | "running");
    let download = (status == "completed" && task.kind != "db.backup")
        .then(|| format!("/api/tasks/{}/result", task.id));
    rsx! {
        li { class: "task-row task-{status}", "data-testid": "task", "data-status": "{status}",
            div { class: "task-head",
                strong { "{task.label()}" }
                span { class: "status task-status", "data-testid": "task-status", "{status}" }
                if show_story {
                    if let Some(story) = task.story_id.clone() {
                        a { class: "muted", href: "/stories/{story}", "story" }
                    }
                }
                span { class: "muted", "#{task.id}" }
            }
            progress { max: "100", value: "{progress}", "data-testid": "task-progress", "{progress}%" }
            div { class: "row task-foot",
                span { class: "muted task-message", "{message}" }
                if let Some(e) = error.filter(|_| status != "completed") {
                    span { class: "error", "{e}" }
                }
                if cancellable {
                    button {
                        class: "btn danger",
                        "data-testid": "task-cancel",
                        onclick: move |_| {
                            let id = id.clone();
                            spawn(async move {
                                if let Err(e) = api::cancel_task(id).await {
                                    cancel_error.set(Some(e.to_string()));
                                }
                            });
                        },
                        "Cancel"
                    }
                }
                if let Some(href) = download {
                    a { class: "btn primary", "data-testid": "task-download", href: "{href}", download: "", "Download" }
                }
                if let Some(e) = cancel_error() {
                    span { class: "error", "{e}" }
                }
            }
        }
    }
}
