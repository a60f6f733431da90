//! The few browser events the hooks listen to, as guards that remove their listener when
//! dropped: window `focus` / `online` (revalidate the request cache) and leaving the page
//! (`visibilitychange` to hidden, `pagehide`: flush batched changes), the page's visibility
//! either way (live refresh pauses while hidden), and the window's
//! scroll position over a virtual list that scrolls with the page. WASM only.

use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::EventTarget;

/// A registered listener; removed on drop.
pub struct Listener {
    target: EventTarget,
    event: &'static str,
    closure: Closure<dyn FnMut()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.event, self.closure.as_ref().unchecked_ref());
    }
}

fn listen(target: EventTarget, event: &'static str, f: impl FnMut() + 'static) -> Option<Listener> {
    let closure = Closure::<dyn FnMut()>::new(f);
    target
        .add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())
        .ok()?;
    Some(Listener {
        target,
        event,
        closure,
    })
}

/// Calls `f` on each of `events` of the window.
pub fn on_window(events: &[&'static str], f: impl Fn() + Clone + 'static) -> Vec<Listener> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    events
        .iter()
        .filter_map(|e| listen(window.clone().into(), e, f.clone()))
        .collect()
}

/// Calls `f` when the page is hidden (tab switched, app backgrounded) or left.
pub fn on_page_leave(f: impl Fn() + Clone + 'static) -> Vec<Listener> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(document) = window.document() {
        let doc = document.clone();
        let g = f.clone();
        out.extend(listen(document.into(), "visibilitychange", move || {
            if doc.visibility_state() == web_sys::VisibilityState::Hidden {
                g();
            }
        }));
    }
    out.extend(listen(window.into(), "pagehide", f));
    out
}

/// Whether the page is hidden now (a background tab, a minimised window).
pub fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden)
}

/// Calls `f` with [`page_hidden`] whenever the page's visibility changes.
pub fn on_visibility(mut f: impl FnMut(bool) + 'static) -> Option<Listener> {
    let document = web_sys::window()?.document()?;
    listen(
        document.into(),
        "visibilitychange",
        move || f(page_hidden()),
    )
}

/// Where the page's viewport is over `element` (scrolled with the window): the offset of
/// the viewport's top within the element (0 while the element starts below it) and the
/// height of the element visible from there, at most the window's height.
pub fn viewport_over(element: &web_sys::Element) -> Option<(f64, f64)> {
    let height = web_sys::window()?.inner_height().ok()?.as_f64()?;
    let top = element.get_bounding_client_rect().top();
    Some(((-top).max(0.0), height - top.max(0.0)))
}

/// Scrolls the window so that `y` pixels into `element` are at the viewport's top.
pub fn scroll_window_to(element: &web_sys::Element, y: f64) {
    if let Some(window) = web_sys::window() {
        let top = element.get_bounding_client_rect().top() + window.scroll_y().unwrap_or(0.0);
        window.scroll_to_with_x_and_y(0.0, top + y);
    }
}

/// Whether the page has the hint that a sign-in cookie was set (`aion_signed_in`, which the
/// server sets beside the `HttpOnly` sign-in cookie that scripts cannot read).
pub fn signed_in_hint() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| js_sys::Reflect::get(&d, &wasm_bindgen::JsValue::from_str("cookie")).ok())
        .and_then(|c| c.as_string())
        .is_some_and(|c| c.split(';').any(|p| p.trim() == "aion_signed_in=1"))
}
