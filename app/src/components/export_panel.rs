//! Export buttons for a story: JSON, PDF and a report, each started as a background task
//! with a live progress bar, a cancel button, and a download link when it is done.

use dioxus::prelude::*;

use app::model::{ExportRequest, JsonBody, ReportRequest, TaskStatus, TaskView, result_url};

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
    // The task as fetched when the live stream (re)opened: a task that changed before the
    // stream was open (e.g. started the moment the page hydrated) is not in the stream.
    let mut fetched = use_signal(|| None::<TaskUpdate>);
    let refetch_id = task.id.clone();
    let settled = task.is_final();
    use_effect(move || {
        let opened = (live.opened)();
        if settled || opened == 0 {
            return;
        }
        let id = refetch_id.clone();
        spawn(async move {
            if let Ok(t) = api::get_task(id).await {
                fetched.set(Some(update_of(&t)));
            }
        });
    });
    let streamed = live.tasks.read().get(&task.id).cloned();
    // Whichever view has reached a final status wins; else the stream, else the fetch.
    let candidates = [streamed, fetched(), Some(update_of(&task))];
    let TaskUpdate {
        status,
        progress,
        message,
        error,
        ..
    } = candidates
        .iter()
        .flatten()
        .find(|u| u.status.is_final())
        .or_else(|| candidates.iter().flatten().next())
        .cloned()
        .unwrap_or_else(|| update_of(&task));
    let mut cancel_error = use_signal(|| None::<String>);
    let id = task.id.clone();
    let cancellable = status.is_cancellable();
    let download = (status == TaskStatus::Completed && task.kind.writes_file()).then(|| {
        task.download
            .clone()
            .unwrap_or_else(|| result_url(&task.id))
    });
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
                span { class: "muted", title: "{task.id}", "{task.created_at.get(11..19).unwrap_or_default()}" }
            }
            progress { max: "100", value: "{progress}", "data-testid": "task-progress", "{progress}%" }
            div { class: "row task-foot",
                span { class: "muted task-message", "{message}" }
                if let Some(e) = error.filter(|_| status != TaskStatus::Completed) {
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

fn update_of(t: &TaskView) -> TaskUpdate {
    TaskUpdate {
        kind: t.kind,
        status: t.status,
        progress: t.progress,
        message: t.message.clone(),
        error: t.error.clone(),
    }
}
