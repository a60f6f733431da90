//! The axum router: Dioxus (server-side rendering, server functions, static assets) plus our
//! own routes and the layers around all of it.

use std::path::PathBuf;

use axum::{
    Extension, Router,
    http::{HeaderValue, header},
    response::IntoResponse,
    routing::{any, get},
};
use dioxus::server::{DioxusRouterExt, ServeConfig};

use app::backend::{
    AppState,
    http::{self, api_errors},
};
use app::model::{ApiError, ErrorCode};

/// Builds the complete router for one app instance.
pub fn build(state: AppState) -> Router {
    let api_fallback = Router::new().route(
        "/api/{*rest}",
        any(|| async {
            api_errors::respond(&ApiError::new(
                ErrorCode::NotFound,
                "no such API endpoint; API.md lists them",
            ))
        }),
    );
    let public = public_dir();
    if let Some(dir) = &public {
        state.set_client_bundle(app::backend::ops::bundle::BundleSize::measure(dir));
    }
    let dioxus = if public.is_some() {
        Router::new().serve_dioxus_application(ServeConfig::new(), crate::App)
    } else {
        // A server built by plain `cargo` (tests) has no client bundle next to it: serve the
        // API and server-rendered pages without static assets.
        tracing::warn!(
            "no public/ directory next to the server: pages render without the WASM client"
        );
        Router::new().serve_api_application(ServeConfig::new(), crate::App)
    };
    // The page's hydration data as an inert block, and the client started after the first
    // paint (serve::boot).
    let dioxus = dioxus
        .layer(axum::middleware::map_response(super::boot::rewrite_page))
        // The bundle's files vary on the encoding, whichever copy is sent (serve::assets).
        .layer(axum::middleware::from_fn(super::assets::headers));
    let own = own_routes(app::backend::identity::cookie::account_cookie_name(
        state.config().cookie_secure,
    ));
    let stack = http::stack(&state);
    stack.apply(
        api_fallback
            .merge(own)
            .merge(dioxus)
            .layer(axum::middleware::from_fn(api_errors::normalise))
            // On replicas of one primary, a write is announced before it is answered.
            .layer(axum::middleware::from_fn(
                app::backend::announce::after_writes,
            ))
            .layer(axum::middleware::from_fn(http::refuse_cross_origin))
            .layer(Extension(state)),
    )
}

/// The routes that are ours rather than Dioxus's (plain axum handlers), named apart so that
/// the API document's test can list them (`api::openapi`).
pub fn own_routes(cookie_name: &str) -> Router {
    Router::new()
        .route("/metrics", get(prometheus))
        .merge(crate::api::files::routes())
        .merge(crate::api::account::routes())
        .merge(crate::api::sharing::forms::routes(crate::main_css()))
        .merge(crate::api::openapi::routes(cookie_name))
        .merge(super::media::routes())
        .merge(super::boot::routes())
}

/// `GET /metrics`: Prometheus text format.
async fn prometheus(Extension(state): Extension<AppState>) -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        app::backend::ops::prometheus::prometheus(&state).await,
    )
}

/// Where Dioxus looks for the client bundle: `DIOXUS_PUBLIC_PATH`, else `public/` next to
/// the executable.
fn public_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("DIOXUS_PUBLIC_PATH") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_exe().ok()?.parent()?.join("public"),
    };
    dir.is_dir().then_some(dir)
}
