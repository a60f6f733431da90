//! The live connection every page shares: task progress and notifications pushed by the
//! server over `GET /api/events` (server-sent events).
//!
//! The shell opens the stream once in the browser (effects never run on the server) and
//! keeps it open across client-side navigation, reconnecting after a drop; pages read
//! the signals it fills through [`use_live`].

use std::collections::HashMap;

use dioxus::prelude::*;

use app::model::{LiveEvent, MarkRead, Notification};

use crate::api;

/// The last known state of a task, as the stream reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskUpdate {
    /// Kind, e.g. `story.export_pdf`.
    pub kind: String,
    /// Status.
    pub status: String,
    /// 0-100.
    pub progress: u8,
    /// What it is doing.
    pub message: String,
    /// The last error.
    pub error: Option<String>,
}

/// Signals filled by the live stream.
#[derive(Clone, Copy)]
pub struct Live {
    /// Tasks by id, as last reported.
    pub tasks: Signal<HashMap<String, TaskUpdate>>,
    /// Latest notifications, newest first.
    pub notes: Signal<Vec<Notification>>,
    /// Unread notifications.
    pub unread: Signal<u64>,
    /// Whether the stream is open.
    pub connected: Signal<bool>,
    /// Bumped whenever a task reaches a final status (pages reload lists on it).
    pub finished: Signal<u64>,
}

impl Live {
    /// Marks every notification read.
    pub fn mark_all_read(mut self) {
        spawn(async move {
            if let Ok(list) =
                api::mark_notifications_read(app::model::JsonBody(MarkRead::default())).await
            {
                self.unread.set(list.unread);
                self.notes.set(list.items);
            }
        });
    }
}

/// The live signals (provided by the shell).
pub fn use_live() -> Live {
    use_context::<Live>()
}

/// Creates the signals and, in the browser, keeps the stream open.
pub fn use_live_provider() -> Live {
    let live = use_context_provider(|| Live {
        tasks: Signal::new(HashMap::new()),
        notes: Signal::new(Vec::new()),
        unread: Signal::new(0),
        connected: Signal::new(false),
        finished: Signal::new(0),
    });
    use_effect(move || {
        spawn(run(live));
    });
    live
}

async fn run(mut live: Live) {
    loop {
        if let Ok(list) = api::list_notifications().await {
            live.unread.set(list.unread);
            live.notes.set(list.items);
        }
        if let Ok(mut stream) = api::live_events().await {
            live.connected.set(true);
            while let Some(Ok(event)) = stream.recv().await {
                apply(&mut live, event);
            }
            live.connected.set(false);
        }
        // The server restarted or the network dropped: try again shortly.
        sleep_ms(2_000).await;
    }
}

fn apply(live: &mut Live, event: LiveEvent) {
    match event {
        LiveEvent::Task {
            id,
            kind,
            status,
            progress,
            message,
            error,
        } => {
            let is_final = matches!(status.as_str(), "completed" | "failed" | "cancelled");
            live.tasks.write().insert(
                id,
                TaskUpdate {
                    kind,
                    status,
                    progress,
                    message,
                    error,
                },
            );
            if is_final {
                live.finished += 1;
            }
        }
        LiveEvent::Notification {
            notification,
            unread,
        } => {
            live.unread.set(unread);
            let mut notes = live.notes.write();
            notes.insert(0, notification);
            notes.truncate(50);
        }
    }
}

#[cfg(target_arch = "wasm32")]
async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

#[cfg(not(target_arch = "wasm32"))]
async fn sleep_ms(ms: u32) {
    // The stream only runs in the browser; on the server effects never run.
    let _ = ms;
    std::future::pending::<()>().await;
}

/// The bell in the navigation: unread count, and the latest notifications when opened.
#[component]
pub fn Bell() -> Element {
    let live = use_live();
    let mut open = use_signal(|| false);
    let unread = (live.unread)();
    rsx! {
        div { class: "bell-wrap",
            button {
                class: "bell",
                "data-testid": "bell",
                aria_label: "Notifications: {unread} unread",
                aria_expanded: open(),
                onclick: move |_| open.toggle(),
                "🔔"
                if unread > 0 {
                    span { class: "badge", "data-testid": "unread-count", "{unread}" }
                }
            }
            if open() {
                div { class: "notes card", "data-testid": "notifications",
                    div { class: "row notes-head",
                        strong { "Notifications" }
                        button {
                            class: "btn",
                            disabled: unread == 0,
                            onclick: move |_| live.mark_all_read(),
                            "Mark all read"
                        }
                    }
                    if live.notes.read().is_empty() {
                        p { class: "muted", "Nothing yet. Finished exports, reports and backups show up here." }
                    }
                    ul { class: "note-list",
                        for n in live.notes.read().iter().cloned() {
                            li { class: if n.read { "note" } else { "note unread" }, key: "{n.id}",
                                span { class: "note-level {n.level}", if n.level == "success" { "✓" } else { "✗" } }
                                div {
                                    div { class: "note-title", "{n.title}" }
                                    if !n.body.is_empty() {
                                        div { class: "muted note-body", "{n.body}" }
                                    }
                                    if let Some(link) = n.link.clone() {
                                        if link.starts_with("/api/") {
                                            a { href: "{link}", download: "", "Download" }
                                        } else {
                                            a { href: "{link}", "Open" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
