//! Client performance hooks, one module each. The deciding logic of each (debounce state,
//! cache freshness, windowing arithmetic, batching) takes the time as an argument and is
//! unit-tested natively with `cargo test`; a thin layer touches the browser.

pub mod batch;
#[cfg(target_arch = "wasm32")]
pub mod browser;
pub mod clock;
pub mod debounce;
pub mod draft;
pub mod hydrated;
pub mod live_refresh;
pub mod memory;
pub mod near_viewport;
pub mod prefetch;
pub mod query;
pub mod script;
pub mod strict_document;
pub mod throttle;
pub mod upload;
pub mod virtual_list;
pub mod vitals;
