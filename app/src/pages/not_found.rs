//! Any unknown path: a helpful page, sent with HTTP status 404.

use dioxus::fullstack::{FullstackContext, StatusCode};
use dioxus::prelude::*;

use crate::routes::Route;

/// Rendered for every path no other route matches.
#[component]
pub fn NotFound(segments: Vec<String>) -> Element {
    // During server rendering this sets the response status; in the browser it does nothing.
    FullstackContext::commit_http_status(StatusCode::NOT_FOUND, None);
    let path = segments.join("/");
    rsx! {
        section { class: "card", "data-testid": "not-found",
            h1 { "Page not found" }
            p { "Nothing lives at /{path}." }
            Link { class: "btn", to: Route::Home {}, "Go to the home page" }
        }
    }
}
