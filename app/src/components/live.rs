//! The live connection every page shares: task progress and notifications pushed by the
//! server over `GET /api/events` (server-sent events).
//!
//! The shell opens the stream once in the browser (effects never run on the server) with
//! the browser's own `EventSource`, which reconnects by itself after a drop, and keeps it
//! open across client-side navigation; pages read the signals it fills through
//! [`use_live`]. (`EventSource` instead of Dioxus's `ServerEvents` client: the same
//! stream, without a streaming HTTP client in the WASM bundle.) Messages are `LiveEvent`s
//! (`model::task`), read as [`WireEvent`].

use std::collections::HashMap;

use dioxus::prelude::*;

use serde::Deserialize;

use app::model::{MarkRead, Notification, TaskKind, TaskStatus};

use crate::api;

/// The last known state of a task, as the stream reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskUpdate {
    /// What the task does.
    pub kind: TaskKind,
    /// Where it stands.
    pub status: TaskStatus,
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
    /// Bumped each time the stream (re)opens: what happened before it is not in the stream,
    /// so views of unfinished tasks ask for them once more.
    pub opened: Signal<u64>,
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
        opened: Signal::new(0),
        finished: Signal::new(0),
    });
    use_effect(move || {
        spawn(run(live));
    });
    live
}

/// What the browser's `EventSource` reports.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
enum Wire {
    Open,
    Message(String),
    Error,
}

async fn run(mut live: Live) {
    let Some(mut rx) = open_stream() else {
        return;
    };
    while let Ok(wire) = rx.recv().await {
        match wire {
            Wire::Open => {
                live.connected.set(true);
                live.opened += 1;
                // (Re)connected: catch up on what happened while the stream was down.
                catch_up(&mut live).await;
            }
            Wire::Message(text) => match serde_json::from_slice::<WireEvent>(text.as_bytes()) {
                Ok(event) if event.r#type == "notification" => catch_up(&mut live).await,
                Ok(event) => apply(&mut live, event),
                Err(_) => {}
            },
            Wire::Error => live.connected.set(false),
        }
    }
}

/// Opens `GET /api/events` with the browser's `EventSource`, which reconnects by itself
/// after a drop (e.g. a server restart). Its callbacks only forward to a channel: signals
/// are written by the Dioxus task that reads it.
#[cfg(target_arch = "wasm32")]
fn open_stream() -> Option<futures_channel::mpsc::UnboundedReceiver<Wire>> {
    use wasm_bindgen::{JsCast, closure::Closure};
    let (tx, rx) = futures_channel::mpsc::unbounded();
    let source = web_sys::EventSource::new("/api/events").ok()?;
    let on_open = {
        let tx = tx.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let _ = tx.unbounded_send(Wire::Open);
        })
    };
    let on_message = {
        let tx = tx.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(text) = e.data().as_string() {
                let _ = tx.unbounded_send(Wire::Message(text));
            }
        })
    };
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        let _ = tx.unbounded_send(Wire::Error);
    });
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    // The stream lives as long as the page: the callbacks are never freed.
    on_open.forget();
    on_message.forget();
    on_error.forget();
    Some(rx)
}

/// Effects never run on the server, so there is never a stream there.
#[cfg(not(target_arch = "wasm32"))]
fn open_stream() -> Option<futures_channel::mpsc::UnboundedReceiver<Wire>> {
    None
}

/// The latest notifications and the unread count, from the server.
async fn catch_up(live: &mut Live) {
    if let Ok(list) = api::list_notifications().await {
        live.unread.set(list.unread);
        live.notes.set(list.items);
    }
}

/// A stream message as the client reads it: `LiveEvent`'s fields side by side, its `type`
/// saying which are there. A task event carries the task's state; for a notification
/// the client asks for the list (as it does when the stream opens) rather than decoding
/// the notification. Decoding the internally tagged enum itself went through serde's
/// buffered-content path, the only one in the client, which cost the bundle more than
/// this struct (`cargo xtask bundle-size`, BENCHMARKS.md).
#[derive(Deserialize)]
struct WireEvent {
    r#type: String,
    id: Option<String>,
    kind: Option<TaskKind>,
    status: Option<TaskStatus>,
    progress: Option<u8>,
    message: Option<String>,
    error: Option<String>,
}

fn apply(live: &mut Live, event: WireEvent) {
    let (Some(id), Some(kind), Some(status)) = (event.id, event.kind, event.status) else {
        return;
    };
    live.tasks.write().insert(
        id,
        TaskUpdate {
            kind,
            status,
            progress: event.progress.unwrap_or(0),
            message: event.message.unwrap_or_default(),
            error: event.error,
        },
    );
    if status.is_final() {
        live.finished += 1;
    }
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
                // An inline icon: a bell character shows as an empty box without an emoji font.
                svg {
                    class: "icon",
                    view_box: "0 0 24 24",
                    width: "20",
                    height: "20",
                    fill: "none",
                    stroke: "currentColor",
                    stroke_width: "2",
                    stroke_linecap: "round",
                    stroke_linejoin: "round",
                    "aria-hidden": "true",
                    "focusable": "false",
                    path { d: "M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" }
                    path { d: "M10.3 21a1.94 1.94 0 0 0 3.4 0" }
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::LiveEvent;

    fn read(event: &LiveEvent) -> WireEvent {
        let text = serde_json::to_string(event).expect("serialises");
        serde_json::from_str(&text).expect("reads as a wire event")
    }

    #[test]
    fn what_the_server_sends_reads_back_with_every_field_the_client_shows() {
        let task = read(&LiveEvent::Task {
            id: "t1".into(),
            kind: TaskKind::ExportPdf,
            status: TaskStatus::Running,
            progress: 40,
            message: "页 4 of 10".into(),
            error: Some("retrying".into()),
        });
        assert_eq!(task.r#type, "task");
        assert_eq!(
            (task.id.as_deref(), task.kind, task.status, task.progress),
            (
                Some("t1"),
                Some(TaskKind::ExportPdf),
                Some(TaskStatus::Running),
                Some(40)
            )
        );
        assert_eq!(task.message.as_deref(), Some("页 4 of 10"));
        assert_eq!(task.error.as_deref(), Some("retrying"));
        let note = read(&LiveEvent::Notification {
            notification: Notification {
                id: "n1".into(),
                level: "success".into(),
                title: "Export ready".into(),
                body: String::new(),
                link: None,
                task_id: Some("t1".into()),
                created_at: "2026-12-07T00:00:00Z".into(),
                read: false,
            },
            unread: 3,
        });
        assert_eq!(note.r#type, "notification");
    }
}
