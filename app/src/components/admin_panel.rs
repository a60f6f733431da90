//! The dashboard's admin actions: an operator unlocks this browser's session with the admin
//! token (kept by the server for 12 hours, never stored in the browser), then starts
//! maintenance (analyze, optimize, vacuum, checkpoint, integrity check, cache warm and
//! clear) or a backup, each a task whose progress arrives over the live stream like an
//! export's; the backups list reloads when a backup finishes.

use dioxus::prelude::*;
use serde_json::Value;

use app::model::{AdminUnlock, JsonBody, TaskView};

use crate::{
    api,
    components::{TaskRow, use_live},
};

/// `(operation, button)`; `backup` is its own task kind.
const ACTIONS: [(&str, &str); 8] = [
    ("analyze", "Analyze"),
    ("optimize", "Optimize"),
    ("vacuum", "Vacuum"),
    ("checkpoint", "Checkpoint"),
    ("integrity-check", "Integrity check"),
    ("backup", "Back up"),
    ("cache-warm", "Warm cache"),
    ("cache-clear", "Clear cache"),
];

/// The panel.
#[component]
pub fn AdminPanel() -> Element {
    let live = use_live();
    let mut access = use_signal(|| None::<Value>);
    let mut token = use_signal(String::new);
    let mut error = use_signal(|| None::<String>);
    let mut started = use_signal(Vec::<TaskView>::new);
    let mut backups = use_signal(Vec::<Value>::new);
    let admin = access.read().as_ref().is_some_and(|a| a["admin"] == true);

    use_effect(move || {
        spawn(async move {
            if let Ok(a) = api::admin_session().await {
                access.set(Some(a));
            }
        });
    });
    // Loads the backups once unlocked, and again when a task finishes.
    use_effect(move || {
        let _ = (live.finished)();
        let unlocked = access.read().as_ref().is_some_and(|a| a["admin"] == true);
        if unlocked {
            spawn(async move {
                if let Ok(Value::Array(list)) = api::admin_list_backups().await {
                    backups.set(list);
                }
            });
        }
    });

    let unlock = move |e: FormEvent| {
        e.prevent_default();
        spawn(async move {
            let body = JsonBody(AdminUnlock { token: token() });
            match api::admin_unlock(body).await {
                Ok(a) => {
                    token.set(String::new());
                    error.set(None);
                    access.set(Some(a));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let lock = move |_| {
        spawn(async move {
            if let Ok(a) = api::admin_lock().await {
                access.set(Some(a));
            }
        });
    };
    let start = move |op: &'static str| {
        move |_| {
            spawn(async move {
                let task = if op == "backup" {
                    api::admin_start_backup().await
                } else {
                    api::admin_start_maintenance(op.to_owned()).await
                };
                match task {
                    Ok(t) => {
                        error.set(None);
                        started.write().insert(0, t);
                    }
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        }
    };

    let configured = access
        .read()
        .as_ref()
        .is_some_and(|a| a["configured"] == true);
    rsx! {
        section { class: "card", "data-testid": "admin-panel",
            h2 { "Admin actions" }
            if access.read().is_none() {
                p { class: "muted", "Checking access…" }
            } else if !configured {
                p { class: "muted", "Closed: the server has no AION_ADMIN_TOKEN." }
            } else if !admin {
                form { class: "row", onsubmit: unlock,
                    label { "Admin token "
                        input { r#type: "password", "data-testid": "admin-token", autocomplete: "off",
                            value: "{token}", oninput: move |e| token.set(e.value()) }
                    }
                    button { class: "btn", r#type: "submit", "data-testid": "admin-unlock", "Unlock" }
                }
            } else {
                div { class: "row admin-actions",
                    for (op, label) in ACTIONS {
                        button { key: "{op}", class: "btn", "data-testid": "admin-{op}", onclick: start(op), "{label}" }
                    }
                    button { class: "btn", "data-testid": "admin-lock", onclick: lock, "Lock" }
                }
                ul { class: "task-list",
                    for task in started.read().iter().cloned() {
                        TaskRow { key: "{task.id}", task, show_story: false }
                    }
                }
                h3 { "Backups" }
                if backups.read().is_empty() {
                    p { class: "muted", "None yet." }
                }
                table { class: "dash-table", "data-testid": "backups",
                    tbody {
                        for b in backups.read().iter() {
                            tr { key: "{b[\"file\"]}",
                                td { code { "{b[\"file\"].as_str().unwrap_or_default()}" } }
                                td { "{b[\"bytes\"]} bytes" }
                                td { "integrity {b[\"integrity\"].as_str().unwrap_or_default()}" }
                                td { "{b[\"created_at\"].as_str().unwrap_or_default()}" }
                            }
                        }
                    }
                }
            }
            if let Some(e) = error() {
                p { class: "error", "data-testid": "admin-error", "{e}" }
            }
        }
    }
}
