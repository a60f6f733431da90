//! `/performance`: what each layer of the system (HTTP, store, cache, tasks, client) does
//! and why, its targets, its live figures and its latest benchmark results. The server
//! renders each layer's parts (`GET /api/metrics/layers`, see
//! `backend::ops::dashboard::layers`), so the page arrives whole in the first HTML; the live
//! figures reload every 5 s while the tab is visible, and only the parts that changed are
//! replaced. This tab's memory is measured here, in the browser.

use dioxus::prelude::*;
use serde_json::Value;

use crate::{
    api,
    components::MemoryPanel,
    hooks::{hydrated::Hydrated, live_refresh::use_live_refresh},
};

/// The layers in the page's order (the server sends the same ids).
const LAYERS: [&str; 5] = ["http", "store", "cache", "tasks", "client"];

/// What the system does to be fast, with its numbers measured on this system.
#[component]
pub fn Performance() -> Element {
    let every_secs = use_signal(|| 5u32);
    let paused = use_signal(|| false);
    let live = use_live_refresh(every_secs.into(), paused.into());
    // The first tick comes at hydration, when the server's figures are fresh: reload from
    // the second on.
    let reloads = use_memo(move || live.tick().saturating_sub(1));
    let layers = use_loader(move || {
        // Read so that each reload tick loads the figures again.
        let _ = reloads();
        let load = api::metrics_layers();
        async move { load.await.map(Hydrated) }
    })?;
    let layers: Value = layers.read().0["layers"].clone();
    let part = |id: &str, part: &str| layers[id][part].as_str().unwrap_or("").to_owned();
    let state = if live.hidden() {
        "Live figures paused while this tab is hidden."
    } else {
        "Live figures refresh every 5 s."
    };
    rsx! {
        section { class: "card",
            h1 { "Performance" }
            p { class: "lead",
                "How each layer of AION is built to be fast, what it was designed to reach, "
                "what it does on this server now, and what its benchmarks measured."
            }
            p { class: "muted", "data-testid": "layers-state", "{state} "
                Link { to: crate::routes::Route::Dashboard {}, "The dashboard" }
                " has every metric with its history."
            }
        }
        for id in LAYERS {
            section { key: "{id}", class: "card layer", id: "layer-{id}", "data-testid": "layer-{id}",
                h2 { "{layers[id][\"title\"].as_str().unwrap_or(id)}" }
                div { class: "layer-grid",
                    div { class: "layer-about", dangerous_inner_html: "{part(id, \"about\")}" }
                    div { class: "layer-live", "data-testid": "live-{id}", dangerous_inner_html: "{part(id, \"live\")}" }
                }
                if id == "client" {
                    MemoryPanel {}
                }
                div { class: "layer-bench", "data-testid": "bench-{id}", dangerous_inner_html: "{part(id, \"bench\")}" }
            }
        }
    }
}
