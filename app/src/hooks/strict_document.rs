//! Running under a script policy with neither `unsafe-eval` nor `unsafe-inline` (the page
//! policy: `server::http::security`), so that a script injected into a page does not run.
//!
//! Two things in Dioxus 0.7 need one or the other:
//! - `document::Title` sets the title through `eval` (`new Function`), which the policy
//!   refuses; the refusal is an exception thrown through the WASM and hydration stops. The
//!   app has one title for every page, so it comes from `Dioxus.toml` in the page itself
//!   and no component sets it (a wrapping document that set it directly cost the bundle
//!   about 1 KB it does not have). The browser test of the policy fails on any `eval`.
//! - The server writes the hydration data as an inline script that differs on every page,
//!   so no fixed hash can allow it, and the page streams, so its hash is unknown when the
//!   policy header goes out. The server rewrites that script into an inert data block
//!   ([`DATA_SCRIPT`] → [`INERT_DATA_SCRIPT`]) and [`adopt_hydration_data`] reads it back
//!   into the global Dioxus expects, before the app starts.

/// How Dioxus's server opens the page's hydration-data script.
#[cfg(feature = "server")]
pub const DATA_SCRIPT: &str = r#"<script>window.initial_dioxus_hydration_data=""#;

/// What the server writes instead: the same text in a block the browser does not run.
#[cfg(feature = "server")]
pub const INERT_DATA_SCRIPT: &str = r#"<script type="application/x-aion-hydration" id="aion-hydration">window.initial_dioxus_hydration_data=""#;

/// The data block's id (in [`INERT_DATA_SCRIPT`]).
#[cfg(any(target_arch = "wasm32", test))]
const DATA_ID: &str = "aion-hydration";

/// Sets `window.initial_dioxus_hydration_data` from the inert data block, if the page has
/// one. Call before `dioxus::launch`.
#[cfg(target_arch = "wasm32")]
pub fn adopt_hydration_data() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(text) = window
        .document()
        .and_then(|d| d.get_element_by_id(DATA_ID))
        .and_then(|e| e.text_content())
    else {
        return;
    };
    // `window.initial_dioxus_hydration_data="BASE64";` (debug builds append more after it).
    if let Some(data) = text.split('"').nth(1) {
        let _ = js_sys::Reflect::set(
            &window,
            &"initial_dioxus_hydration_data".into(),
            &data.into(),
        );
    }
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;

    #[test]
    fn the_inert_block_is_found_by_the_client_and_holds_the_same_assignment() {
        assert!(INERT_DATA_SCRIPT.contains(&format!(r#"id="{DATA_ID}""#)));
        let assignment = DATA_SCRIPT.trim_start_matches("<script>");
        assert!(INERT_DATA_SCRIPT.ends_with(assignment));
    }
}
