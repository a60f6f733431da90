//! This tab's memory, read by the memory hook every few seconds: the WASM client's linear
//! memory, the JavaScript heap where the browser reports it, and how many values the
//! request cache holds. Measured in the browser; the server-rendered page says so until
//! the first reading arrives.

use dioxus::prelude::*;

use crate::hooks::{memory::use_memory, query::QueryClient};

/// Tenths of a MiB in integer arithmetic (float printing would cost bundle size).
fn mib(bytes: u64) -> String {
    let tenths = (bytes * 10 + 524_288) / 1_048_576;
    format!("{}.{} MiB", tenths / 10, tenths % 10)
}

/// The panel.
#[component]
pub fn MemoryPanel() -> Element {
    let sample = use_memory(5_000.0);
    let client = QueryClient::get();
    rsx! {
        section { class: "card", "data-testid": "memory-panel",
            h2 { "This tab" }
            match sample() {
                None => rsx! { p { class: "muted", "Measured in your browser once the page has loaded." } },
                Some(m) => rsx! {
                    dl { class: "figures",
                        dt { "WASM memory" }
                        dd { "data-testid": "wasm-memory", "{mib(m.wasm_bytes)}" }
                        dt { "JS heap used" }
                        dd { {m.js_heap_used.map_or("not reported by this browser".to_owned(), mib)} }
                        dt { "Request cache" }
                        dd { "{client.len()} entries" }
                    }
                },
            }
        }
    }
}
