//! `use_near_viewport`: whether an element has come near the viewport, for lazy images.
//!
//! An `IntersectionObserver` with a root margin (the viewport grown by `margin` on every
//! side) watches the element from its `onmounted`; the first time it intersects, the
//! signal turns true for good and the observer is disconnected. Dioxus's own `onvisible`
//! event uses an observer without a margin, which would start an image's download only once
//! it is already on screen; the margin starts it a screen ahead of the scroll. Before the
//! client runs (server rendering) and where the browser has no observer, the answer is
//! false and true respectively: nothing is loaded by a page that has not hydrated, and an
//! old browser simply loads every image.

use dioxus::prelude::*;

/// Whether the element has been near the viewport, and the `onmounted` handler to put on
/// it.
pub fn use_near_viewport(
    margin: &'static str,
) -> (ReadSignal<bool>, impl FnMut(MountedEvent) + 'static) {
    let near = use_signal(|| false);
    #[cfg(target_arch = "wasm32")]
    let watch = {
        let slot: std::rc::Rc<std::cell::RefCell<Option<imp::Watch>>> = use_hook(Default::default);
        let keep = slot.clone();
        use_drop(move || {
            keep.borrow_mut().take();
        });
        move |e: MountedEvent| {
            if *near.peek() {
                return;
            }
            if let Some(el) = e.data().downcast::<web_sys::Element>() {
                *slot.borrow_mut() = imp::watch(el, margin, near);
            }
        }
    };
    #[cfg(not(target_arch = "wasm32"))]
    let watch = move |_: MountedEvent| {
        let _ = (margin, near);
    };
    (near.into(), watch)
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use dioxus::prelude::*;
    use wasm_bindgen::{JsCast, closure::Closure};
    use web_sys::{IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

    /// A live observer; disconnected on drop.
    pub struct Watch {
        observer: IntersectionObserver,
        _callback: Closure<dyn FnMut(js_sys::Array)>,
    }

    impl Drop for Watch {
        fn drop(&mut self) {
            self.observer.disconnect();
        }
    }

    /// Observes `el`; sets `near` (and stops observing) when it comes within `margin`.
    pub fn watch(el: &web_sys::Element, margin: &str, mut near: Signal<bool>) -> Option<Watch> {
        let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            let hit = entries.iter().any(|e| {
                e.dyn_into::<IntersectionObserverEntry>()
                    .is_ok_and(|e| e.is_intersecting())
            });
            if hit && !*near.peek() {
                near.set(true);
            }
        });
        let init = IntersectionObserverInit::new();
        init.set_root_margin(margin);
        let observer = match IntersectionObserver::new_with_options(
            callback.as_ref().unchecked_ref(),
            &init,
        ) {
            Ok(o) => o,
            Err(_) => {
                // No observer in this browser: load at once.
                near.set(true);
                return None;
            }
        };
        observer.observe(el);
        Some(Watch {
            observer,
            _callback: callback,
        })
    }
}
