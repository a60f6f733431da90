//! Memory of the page: the WASM linear memory (always available: the client's own heap,
//! which only grows) and, where the browser has it (Chromium), `performance.memory`'s
//! JavaScript heap figures.
//!
//! ```ignore
//! let mem = use_memory(5_000.0);  // Signal<Option<MemorySample>>, refreshed every 5 s
//! ```
//!
//! Read with `wasm_bindgen::memory()` and `js_sys::Reflect` (the `memory` property is
//! non-standard, so web-sys has no binding for it). `None` on the server.

use dioxus::prelude::*;
use serde::{Deserialize, Serialize};

use super::clock;

/// One reading.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct MemorySample {
    /// Bytes of WASM linear memory.
    pub wasm_bytes: u64,
    /// `performance.memory.usedJSHeapSize`, where the browser has it.
    pub js_heap_used: Option<u64>,
    /// `performance.memory.totalJSHeapSize`.
    pub js_heap_total: Option<u64>,
}

/// Reads the memory now (`None` outside the browser).
pub fn sample() -> Option<MemorySample> {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        let memory = wasm_bindgen::memory()
            .dyn_into::<js_sys::WebAssembly::Memory>()
            .ok()?;
        let wasm_bytes = memory
            .buffer()
            .dyn_into::<js_sys::ArrayBuffer>()
            .map_or(0, |b| b.byte_length() as u64);
        let perf = web_sys::window().and_then(|w| w.performance());
        let heap = perf.and_then(|p| js_sys::Reflect::get(&p, &"memory".into()).ok());
        let field = |name: &str| {
            heap.as_ref()
                .filter(|h| !h.is_undefined())
                .and_then(|h| js_sys::Reflect::get(h, &name.into()).ok())
                .and_then(|v| v.as_f64())
                .map(|v| v as u64)
        };
        Some(MemorySample {
            wasm_bytes,
            js_heap_used: field("usedJSHeapSize"),
            js_heap_total: field("totalJSHeapSize"),
        })
    }
    #[cfg(not(target_arch = "wasm32"))]
    None
}

/// The memory, read now and every `every` ms while the component lives.
pub fn use_memory(every: clock::Millis) -> Signal<Option<MemorySample>> {
    let mut current = use_signal(|| None);
    use_effect(move || {
        spawn(async move {
            loop {
                current.set(sample());
                clock::sleep(every).await;
            }
        });
    });
    current
}
