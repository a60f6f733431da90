//! The few browser events the hooks listen to, as guards that remove their listener when
//! dropped: window `focus` / `online` (revalidate the request cache) and leaving the page
//! (`visibilitychange` to hidden, `pagehide`: flush batched changes). WASM only.

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
