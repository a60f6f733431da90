//! Prefetch and preload: start loading what the next page needs before the click.
//!
//! [`prefetch_on_intent`] makes what a link's pointer and focus handlers call: when it is
//! hovered or focused (a mouse on its way, or a keyboard user on it), the page's data is
//! loaded into the request cache ([`super::query`]), so the click renders from memory with
//! no request. [`Preconnect`] and [`Preload`] put resource hints into the document head.
//!
//! ```ignore
//! let intent = prefetch_on_intent(move || queries::prefetch_story(&id));
//! rsx! { article { onmouseenter: move |_| intent(), onfocusin: move |_| intent(), … } }
//! ```

use dioxus::prelude::*;

/// A function for the pointer and focus handlers that runs `prefetch` the first time.
pub fn prefetch_on_intent(prefetch: impl Fn() + 'static) -> impl Fn() + Clone + 'static {
    let prefetch = std::rc::Rc::new(prefetch);
    let done = std::rc::Rc::new(std::cell::Cell::new(false));
    move || {
        if !done.replace(true) {
            prefetch();
        }
    }
}

/// `<link rel="preconnect">` for an origin the page will fetch from.
#[allow(dead_code)] // The app serves everything from its own origin today.
#[component]
pub fn Preconnect(href: String) -> Element {
    rsx! { document::Link { rel: "preconnect", href } }
}

/// `<link rel="preload">` for a resource the page needs early (`as_`: font, image, fetch…).
#[allow(dead_code)]
#[component]
pub fn Preload(href: String, r#as: String, r#type: Option<String>) -> Element {
    rsx! { document::Link { rel: "preload", href, r#as, r#type, crossorigin: "anonymous" } }
}
