//! `use_script(src)`: loads a script of this site once the page has hydrated, whichever way
//! the page was reached (a server-rendered load or a client-side navigation), and only once
//! per document.
//!
//! For code that lives outside the WASM bundle (the account page's passkey script): a
//! `document::Script` component did the same for 1 KB of the bundle, this for a few dozen
//! bytes. The page's script policy allows same-origin scripts.

/// Appends `<script src=src>` to the document unless one is there.
pub fn use_script(src: &'static str) {
    #[cfg(target_arch = "wasm32")]
    dioxus::prelude::use_effect(move || {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let selector = format!("script[src=\"{src}\"]");
        if document.query_selector(&selector).ok().flatten().is_some() {
            return;
        }
        if let (Ok(script), Some(root)) = (
            document.create_element("script"),
            document.document_element(),
        ) {
            let _ = script.set_attribute("src", src);
            let _ = root.append_child(&script);
        }
    });
    #[cfg(not(target_arch = "wasm32"))]
    let _ = src;
}
