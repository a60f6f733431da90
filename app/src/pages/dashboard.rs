//! `/performance-dashboard`: the running system, live. The panels (six sections and the
//! alerts) are rendered by the server from the metrics snapshot and the last hour of
//! history (`GET /api/metrics/dashboard`; why there: `backend::ops::dashboard`), fetched at
//! the chosen rate by the live-refresh hook, which stops while the user has paused or the
//! tab is hidden. Each panel is its own element whose HTML is replaced only when it
//! changed, so an update touches what moved, not the page. This tab's own memory is
//! measured here, in the browser.

use dioxus::prelude::*;

use crate::{
    api,
    components::{AdminPanel, MemoryPanel},
    hooks::{
        hydrated::Hydrated,
        live_refresh::{RATES_SECS, use_live_refresh},
    },
};

/// The panels in the page's order (the server sends the same ids).
const PANELS: [&str; 7] = [
    "alerts",
    "api",
    "database",
    "caches",
    "tasks",
    "rum",
    "resources",
];

/// Puts the panels of a `GET /api/metrics/dashboard` answer that changed into `shown`.
fn merge(shown: &mut [String], answer: &serde_json::Value) {
    for pair in answer["panels"].as_array().into_iter().flatten() {
        let (Some(id), Some(html)) = (pair[0].as_str(), pair[1].as_str()) else {
            continue;
        };
        if let Some(i) = PANELS.iter().position(|p| *p == id)
            && shown[i] != html
        {
            shown[i] = html.to_owned();
        }
    }
}

/// Live numbers from the running server.
#[component]
pub fn Dashboard() -> Element {
    let mut every_secs = use_signal(|| 5u32);
    let mut paused = use_signal(|| false);
    let live = use_live_refresh(every_secs.into(), paused.into());
    let mut percentile = use_signal(|| "p95".to_owned());
    let mut range = use_signal(|| "hour".to_owned());
    // The first reading is rendered with the page (its hydration data carries it), so the
    // panels are there from the first paint and nothing below them moves when the refresh
    // starts; later readings replace only the panels that changed.
    let first = use_loader(|| {
        let load = api::metrics_dashboard(None, None);
        async move { load.await.map(Hydrated) }
    })?;
    let mut panels = use_signal(move || {
        let mut shown = vec![String::new(); PANELS.len()];
        merge(&mut shown, &first.read().0);
        shown
    });
    let mut error = use_signal(|| None::<String>);
    let mut fetches = use_signal(|| 0u64);

    let refresh = move || {
        spawn(async move {
            let (p, r) = (percentile.peek().clone(), range.peek().clone());
            let answer = api::metrics_dashboard(Some(p), Some(r)).await;
            fetches += 1;
            match answer {
                Ok(v) => {
                    merge(&mut panels.write(), &v);
                    error.set(None);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    use_effect(move || {
        if live.tick() > 0 {
            refresh();
        }
    });

    let state = if live.hidden() {
        "paused while this tab is hidden"
    } else if paused() {
        "paused"
    } else {
        "live"
    };
    rsx! {
        section { class: "card",
            div { class: "page-head",
                div {
                    h1 { "Performance dashboard" }
                    p { class: "lead", "The running server, measured: refreshed every few seconds while this tab is visible." }
                }
                div { class: "row dash-controls",
                    label { "Refresh "
                        select { "data-testid": "refresh-rate",
                            value: "{every_secs}",
                            onchange: move |e| {
                                let secs = e.value().parse().ok().filter(|s| RATES_SECS.contains(s));
                                every_secs.set(secs.unwrap_or(5));
                            },
                            option { value: "1", "every 1 s" }
                            option { value: "5", "every 5 s" }
                            option { value: "10", "every 10 s" }
                            option { value: "30", "every 30 s" }
                        }
                    }
                    label { "Percentile "
                        select { "data-testid": "percentile",
                            value: "{percentile}",
                            onchange: move |e| {
                                percentile.set(e.value());
                                refresh();
                            },
                            option { value: "p50", "p50" }
                            option { value: "p95", "p95" }
                            option { value: "p99", "p99" }
                        }
                    }
                    label { "Charts "
                        select { "data-testid": "range",
                            value: "{range}",
                            onchange: move |e| {
                                range.set(e.value());
                                refresh();
                            },
                            option { value: "hour", "last hour" }
                            option { value: "week", "last 7 days" }
                        }
                    }
                    button { class: "btn", "data-testid": "pause",
                        onclick: move |_| paused.toggle(),
                        if paused() { "Resume" } else { "Pause" }
                    }
                }
            }
            p { class: "muted", "data-testid": "refresh-state", "data-fetches": "{fetches}", "{state}" }
            if let Some(e) = error() { p { class: "error", "Could not refresh: {e}" } }
        }
        div { class: "dash",
            for (i, id) in PANELS.iter().enumerate() {
                div { key: "{id}", "data-panel": "{id}", dangerous_inner_html: "{panels.read()[i]}" }
            }
            MemoryPanel {}
            AdminPanel {}
        }
    }
}
