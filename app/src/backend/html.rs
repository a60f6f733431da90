//! Rendering markup on the server into an HTML string, for the parts of pages that the
//! client shows as they come (`dangerous_inner_html`) instead of shipping their components
//! in the WASM bundle (which sits at its 400 KB cap): the dashboard's panels, the account
//! page, the editor's sharing panel. Dioxus's own SSR renderer, so the markup is `rsx!`
//! like everywhere else, and text is escaped as everywhere else.

use std::rc::Rc;

use dioxus::prelude::*;

/// What `f` renders, as HTML.
pub fn to_html(f: impl Fn() -> Element + 'static) -> String {
    let f: Rc<dyn Fn() -> Element> = Rc::new(f);
    let mut dom = VirtualDom::new_with_props(|f: Rc<dyn Fn() -> Element>| f(), f);
    dom.rebuild_in_place();
    dioxus::ssr::render(&dom)
}
