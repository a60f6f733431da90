//! Every `/api` endpoint, grouped by resource: server functions, each with an explicit,
//! stable path (listed in API.md) so that any HTTP client can use the API, not only this
//! app, and the few endpoints whose bodies are files ([`files`]).

#[cfg(feature = "server")]
pub mod account;
mod admin;
#[cfg(feature = "server")]
pub mod files;
mod health;
mod me;
mod metrics;
mod nodes;
#[cfg(feature = "server")]
pub mod openapi;
#[cfg(feature = "server")]
mod shapes;
#[cfg(feature = "server")]
pub mod sharing;
mod stories;
mod tasks;
mod vitals;

pub use admin::{
    admin_list_backups, admin_lock, admin_session, admin_start_backup, admin_start_maintenance,
    admin_unlock,
};
pub use health::health;
#[allow(unused_imports)] // For other clients: the app's navigation reads the hint cookie.
pub use me::{account_page, me};
pub use metrics::{metrics_dashboard, metrics_layers};
#[allow(unused_imports)] // Used by pages as they arrive.
pub use nodes::*;
#[allow(unused_imports)]
pub use stories::*;
#[allow(unused_imports)]
pub use tasks::*;

/// Marks this server function's answer as the caller's own (`Cache-Control: private,
/// no-store`): never kept by a shared cache or the browser.
#[cfg(feature = "server")]
pub fn private_answer() {
    if let Some(ctx) = dioxus::fullstack::FullstackContext::current() {
        ctx.add_response_header(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("private, no-store"),
        );
    }
}

#[cfg(feature = "server")]
/// One of our own scripts as the server serves it: JavaScript, cached for an hour (small,
/// and changed only by a release).
pub fn script(source: &'static str) -> axum::response::Response {
    use axum::{
        http::{HeaderValue, header},
        response::IntoResponse,
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        source,
    )
        .into_response()
}
