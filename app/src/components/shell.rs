//! The layout every page shares: top navigation, the page itself (inside an error boundary
//! that also sets the HTTP status of a server-rendered error), a footer.

use dioxus::fullstack::{FullstackContext, StatusCode};
use dioxus::prelude::*;

use app::model::ApiError;

use crate::{
    components::{Bell, use_live_provider},
    routes::Route,
};

/// "Sign in", or "Account" once signed in (the sign-in hint cookie says so): read once the
/// page has hydrated, so the server-rendered page (kept in the page cache) is the same for
/// everyone, and without a request (`GET /api/me` is there for other clients; calling it
/// here cost the bundle the account's decoder, which it does not have room for).
#[component]
fn AccountLink() -> Element {
    #[cfg_attr(not(target_arch = "wasm32"), allow(unused_mut))]
    let mut signed_in = use_signal(|| false);
    use_effect(move || {
        #[cfg(target_arch = "wasm32")]
        signed_in.set(crate::hooks::browser::signed_in_hint());
    });
    let label = if signed_in() { "Account" } else { "Sign in" };
    rsx! {
        Link { class: "account-link", to: Route::Account {}, "data-testid": "account-link", "{label}" }
    }
}

/// Navigation around the routed page.
#[component]
pub fn Shell() -> Element {
    // Effects only run in the browser: the attribute tells tests (and curious people) that
    // the WASM client has taken over the server-rendered page.
    let mut hydrated = use_signal(|| false);
    use_effect(move || hydrated.set(true));
    use_live_provider();
    crate::hooks::vitals::use_vitals(use_route::<Route>().template());
    rsx! {
        header { class: "topbar",
            Link { class: "brand", to: Route::Home {}, "AION" }
            nav { class: "mainnav", aria_label: "Main",
                Link { to: Route::stories(), active_class: "active", "Stories" }
                Link { to: Route::Tasks {}, active_class: "active", "Tasks" }
                Link { to: Route::Performance {}, active_class: "active", "Performance" }
                Link { to: Route::Dashboard {}, active_class: "active", "Dashboard" }
            }
            AccountLink {}
            Bell {}
        }
        main { class: "page", "data-hydrated": hydrated(),
            ErrorBoundary {
                handle_error: move |err: ErrorContext| {
                    let message = err.error().map(|e| e.to_string()).unwrap_or_default();
                    // The typed error is only there where it was raised (server rendering or a
                    // client-side load); its status becomes the response status.
                    if let Some(api) = err.error().and_then(|e| e.0.downcast_ref::<ApiError>().cloned()) {
                        FullstackContext::commit_http_status(api.code().status(), None);
                    } else {
                        FullstackContext::commit_http_status(StatusCode::INTERNAL_SERVER_ERROR, None);
                    }
                    rsx! {
                        section { class: "card", "data-testid": "page-error",
                            h1 { "This page could not be shown" }
                            p { class: "error", "{message}" }
                            Link { class: "btn", to: Route::stories(), "Back to the stories" }
                        }
                    }
                },
                Outlet::<Route> {}
            }
        }
        footer { class: "footer", "AION story engine · Rust, Dioxus 0.7, libsql" }
    }
}
