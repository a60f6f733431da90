//! AION story engine: one Dioxus crate, compiled twice.
//!
//! With feature `web` this is the WASM client (`dioxus::launch` hydrates the server-rendered
//! page); with feature `server` it is the server binary, whose `main` lives in [`serve`]
//! because it owns the listener, the state and the middleware around Dioxus's router.
//! Wire types and the domain backend come from the library half of this crate (`app::`).

mod api;
mod components;
mod hooks;
mod pages;
mod queries;
mod routes;

#[cfg(feature = "server")]
mod serve;

use dioxus::prelude::*;

use crate::routes::Route;

#[cfg(feature = "server")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MAIN_CSS: Asset = asset!("/assets/main.css");
const FAVICON: Asset = asset!("/assets/favicon.svg");

/// The stylesheet's served path, for pages the server writes itself (the sharing panel).
#[cfg(feature = "server")]
fn main_css() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| MAIN_CSS.to_string())
}

fn main() {
    #[cfg(not(feature = "server"))]
    {
        #[cfg(target_arch = "wasm32")]
        hooks::strict_document::adopt_hydration_data();
        dioxus::launch(App);
    }

    #[cfg(feature = "server")]
    serve::main();
}

/// The root component: document head plus the router.
#[component]
fn App() -> Element {
    // The request cache every page reads through.
    hooks::query::use_query_provider();
    rsx! {
        // The title comes with the page (Dioxus.toml): `document::Title` needs `eval`, which
        // the script policy refuses (hooks::strict_document).
        document::Meta { name: "viewport", content: "width=device-width, initial-scale=1" }
        document::Meta { name: "description", content: "AION: build branching stories, play them, watch the engine run." }
        document::Stylesheet { href: MAIN_CSS }
        document::Link { rel: "icon", r#type: "image/svg+xml", href: FAVICON }
        Router::<Route> {}
    }
}
