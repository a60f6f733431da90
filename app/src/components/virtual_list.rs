//! A virtual list: only the rows near the viewport are in the DOM, whatever the length.
//!
//! It scrolls either inside its own container (`Scroll::Container`, its height set by CSS,
//! so the page around it stays put: the editor's outline) or with the page
//! (`Scroll::Window`: the library, where the whole page scrolls and a phone's address bar
//! can collapse). Rows are laid out by [`Layout`]: fixed height, or measured as they render
//! with `measure` (estimated until then). The rows in the DOM are measured again when
//! `version` changes (the rows' content changed), one row when its `row_version` does; all measurements are dropped when the
//! window's width changes (text rewraps).
//! `overscan` rows go beyond each edge. Rows carry `role="listitem"`, `aria-setsize` and
//! `aria-posinset`, so assistive technology knows the real length. The server renders the
//! first screen (with a default viewport height, which the first client render repeats so
//! hydration matches); the real viewport arrives with the first scroll or mount.
//! `on_range` reports the rows in the DOM, for loading their data; `jump` scrolls to a row;
//! Home and End (with the list focused) go to the first and the last row.

use std::rc::Rc;

use dioxus::html::ScrollBehavior;
use dioxus::html::geometry::PixelsVector2D;
use dioxus::prelude::*;

pub use crate::hooks::virtual_list::Align;
use crate::hooks::virtual_list::{Layout, Window};

/// The viewport height assumed until the browser says (server rendering, first paint).
const DEFAULT_VIEWPORT: f64 = 800.0;

/// A jump request: the row, where it should end up, and a counter, so jumping to the same
/// row twice works.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jump {
    /// The row to show.
    pub row: usize,
    /// Where in the viewport.
    pub align: Align,
    /// Changes with every request; 0 means "no jump".
    pub seq: u64,
}

impl Default for Jump {
    fn default() -> Self {
        Self {
            row: 0,
            align: Align::Start,
            seq: 0,
        }
    }
}

/// What scrolls the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scroll {
    /// The list's own box (CSS gives it a height).
    #[default]
    Container,
    /// The page.
    Window,
}

/// The list; `row(i)` renders row `i`.
#[component]
pub fn VirtualList(
    count: usize,
    row_height: f64,
    #[props(default = 6)] overscan: usize,
    #[props(default = false)] measure: bool,
    #[props(default)] scroll: Scroll,
    /// Changes when rows' content changes, so measured heights are taken again.
    #[props(default)]
    version: u64,
    /// Row `i`'s own version, when rows change one by one (a placeholder turning into its
    /// content): a change remounts and re-measures that row only, so the others (and the
    /// focus inside them) stay.
    #[props(default)]
    row_version: Option<Callback<usize, u64>>,
    label: String,
    class: String,
    row: Callback<usize, Element>,
    #[props(default)] on_range: EventHandler<Window>,
    #[props(default)] jump: ReadSignal<Jump>,
) -> Element {
    let mut layout = use_signal(|| Layout::new(count, row_height));
    if layout.peek().count() != count {
        layout.write_unchecked().resize(count);
    }
    let mut top = use_signal(|| 0.0);
    let mut viewport = use_signal(|| DEFAULT_VIEWPORT);
    let mut element = use_signal(|| None::<Rc<MountedData>>);
    // The window's width, updated on resizes. With `version` it keys the rows, so a change
    // of either remounts (and so re-measures) the rows in the DOM. A new width drops every
    // measurement (text rewraps everywhere); a new version keeps the others, so an edit deep
    // in a long list does not move the view by the estimates' error over all rows above.
    let resized = use_signal(window_width);
    let epoch = version.wrapping_add(resized() << 32);
    let mut measured_width = use_signal(|| *resized.peek());
    if measure && *measured_width.peek() != resized() {
        measured_width.set(*resized.peek());
        *layout.write_unchecked() = Layout::new(count, row_height);
    }
    #[cfg(target_arch = "wasm32")]
    use_hook(move || {
        let events: &[&'static str] = match (scroll, measure) {
            (Scroll::Window, _) => &["scroll", "resize"],
            (Scroll::Container, true) => &["resize"],
            (Scroll::Container, false) => &[],
        };
        let at = move || {
            let el = element.peek().clone()?;
            crate::hooks::browser::viewport_over(el.downcast::<web_sys::Element>()?)
        };
        Rc::new(crate::hooks::browser::on_window(events, move || {
            let (mut top, mut viewport, mut resized) = (top, viewport, resized);
            if scroll == Scroll::Window
                && let Some((t, h)) = at()
            {
                top.set(t);
                viewport.set(h);
            }
            if measure {
                // Scroll events come here too; only a width change rewraps text.
                let width = window_width();
                if width > 0 && width != *resized.peek() {
                    resized.set(width);
                }
            }
        }))
    });

    let window = layout.read().window(top(), viewport(), overscan);
    use_effect(use_reactive!(|window| on_range.call(window)));
    let scroll_row = move |row: usize, align: Align| {
        let Some(el) = element.peek().clone() else {
            return;
        };
        let y = layout
            .peek()
            .scroll_to(row, align, *top.peek(), *viewport.peek());
        if scroll == Scroll::Window {
            #[cfg(target_arch = "wasm32")]
            if let Some(e) = el.downcast::<web_sys::Element>() {
                crate::hooks::browser::scroll_window_to(e, y);
            }
            return;
        }
        spawn(async move {
            let _ = el
                .scroll(PixelsVector2D::new(0.0, y), ScrollBehavior::Instant)
                .await;
        });
    };
    // Jumps (and the first one from the URL) once the element exists.
    use_effect(move || {
        let Jump { row, align, seq } = jump();
        if element().is_some() && seq > 0 {
            scroll_row(row, align);
        }
    });

    // Whole pixels: formatting floats would pull float printing into the bundle.
    let l = layout.read();
    let total = l.total_height().round() as u64;
    let shift = l.offset_of(window.start).round() as u64;
    let heights: Vec<u64> = (window.start..window.end)
        .map(|i| l.height_of(i).round() as u64)
        .collect();
    drop(l);
    let mode = match scroll {
        Scroll::Container => "vlist",
        Scroll::Window => "vlist vlist-page",
    };
    rsx! {
        div {
            class: "{mode} {class}",
            role: "list",
            aria_label: "{label}",
            tabindex: 0,
            "data-testid": "virtual-list",
            "data-rows": "{window.len()}",
            onmounted: move |e| {
                let el = e.data();
                element.set(Some(el.clone()));
                spawn(async move {
                    if let Ok(rect) = el.get_client_rect().await {
                        match scroll {
                            Scroll::Container => viewport.set(rect.height()),
                            Scroll::Window => {
                                #[cfg(target_arch = "wasm32")]
                                if let Some((t, h)) = el
                                    .downcast::<web_sys::Element>()
                                    .and_then(crate::hooks::browser::viewport_over)
                                {
                                    top.set(t);
                                    viewport.set(h);
                                }
                            }
                        }
                    }
                });
            },
            // Home and End reach the ends of the whole list, not of the rows in the DOM.
            onkeydown: move |e| match e.key() {
                Key::Home => scroll_row(0, Align::Start),
                Key::End => scroll_row(count.saturating_sub(1), Align::Auto),
                _ => {}
            },
            onscroll: move |e| {
                if scroll == Scroll::Container {
                    top.set(e.data().scroll_top());
                    viewport.set(f64::from(e.data().client_height()));
                }
            },
            div { class: "vlist-body", style: "height:{total}px",
                div { class: "vlist-window", style: "transform:translateY({shift}px)",
                    for (k, i) in (window.start..window.end).enumerate() {
                        if measure {
                            div {
                                key: "{epoch}-{i}-{row_version.map_or(0, |v| v.call(i))}",
                                class: "vlist-row",
                                role: "listitem",
                                aria_setsize: "{count}",
                                aria_posinset: "{i + 1}",
                                // Measured once rendered; a new epoch remounts it.
                                onmounted: move |e| {
                                    let el = e.data();
                                    spawn(async move {
                                        if let Ok(rect) = el.get_client_rect().await {
                                            layout.write().measure(i, rect.height());
                                        }
                                    });
                                },
                                {row(i)}
                            }
                        } else {
                            div {
                                key: "{i}",
                                class: "vlist-row",
                                role: "listitem",
                                aria_setsize: "{count}",
                                aria_posinset: "{i + 1}",
                                style: "height:{heights[k]}px",
                                {row(i)}
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The window's width in pixels (0 outside the browser).
fn window_width() -> u64 {
    #[cfg(target_arch = "wasm32")]
    return web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|w| w.as_f64())
        .unwrap_or(0.0) as u64;
    #[cfg(not(target_arch = "wasm32"))]
    0
}
