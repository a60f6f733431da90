//! This tab's memory, read by the memory hook every few seconds: the WASM client's linear
//! memory, the JavaScript heap where the browser reports it, and how many values the
//! request cache holds. Measured in the browser; the server-rendered page has the same
//! rows, saying so, until the first reading arrives (no layout shift).

use dioxus::prelude::*;

use crate::hooks::{memory::use_memory, query::QueryClient};

/// Tenths of a MiB in integer arithmetic (float printing would cost bundle size).
fn mib(bytes: u64) -> String {
    let tenths = (bytes * 10 + 524_288) / 1_048_576;
    format!("{}.{} MiB", tenths / 10, tenths % 10)
}

/// What a figure says until the browser has measured it.
const PENDING: &str = "measured once the page has loaded";

/// The panel.
#[component]
pub fn MemoryPanel() -> Element {
    let sample = use_memory(5_000.0);
    let client = QueryClient::get();
    rsx! {
        section { class: "card", "data-testid": "memory-panel",
            h2 { "This tab" }
            // The same rows before and after the first reading, so nothing below moves.
            dl { class: "figures",
                dt { "WASM memory" }
                dd { "data-testid": "wasm-memory", {sample().map_or(PENDING.to_owned(), |m| mib(m.wasm_bytes))} }
                dt { "JS heap used" }
                dd {
                    {match sample() {
                        None => PENDING.to_owned(),
                        Some(m) => m.js_heap_used.map_or("not reported by this browser".to_owned(), mib),
                    }}
                }
                dt { "Request cache" }
                dd { {sample().map_or(PENDING.to_owned(), |_| format!("{} entries", client.len()))} }
            }
        }
    }
}
