//! How a page starts in the browser, rewritten on the way out of the server's renderer:
//! - the hydration data goes out as an inert block, because the script policy allows no
//!   inline script it has not hashed (`hooks::strict_document`);
//! - the client starts after the first paint: Dioxus's `<script type="module" async>` becomes
//!   a deferred classic script ([`BOOT_JS`], `/boot.js`) that imports the same module once
//!   the browser reports the first contentful paint (a second at the latest). A frame after
//!   the first `requestAnimationFrame` was not enough: the paint is recorded when it is
//!   presented, later than the frame is drawn. Started at once, the module's 400 KB of WebAssembly was
//!   requested before the first paint (measured by Lighthouse: the request began 60-90 ms
//!   after navigation, the paint came at 110-150 ms), so the simulated slow phone counted
//!   the download as part of the largest paint (3.2 s instead of 1.0 s).
//!
//! Both are fixed strings Dioxus writes the same way on every page; a page without them
//! (a server without the client bundle) passes unchanged.

use axum::{Router, http::header, response::Response, routing::get};

use crate::hooks::strict_document::{DATA_SCRIPT, INERT_DATA_SCRIPT};

/// How Dioxus's page starts its client module.
const MODULE_SCRIPT: &str = r#"<script type="module" async src=""#;
/// What starts it instead (the same tag, closed the same way: `…app.js"></script>`).
const BOOT_SCRIPT: &str = r#"<script defer src="/boot.js" data-app=""#;

/// The script that starts the client after the first paint.
pub const BOOT_JS: &str = include_str!("boot.js");

/// `GET /boot.js`.
pub fn routes() -> Router {
    Router::new().route("/boot.js", get(boot_js))
}

async fn boot_js() -> Response {
    crate::api::script(BOOT_JS)
}

/// Rewrites an HTML page as the module comment says.
pub async fn rewrite_page(res: Response) -> Response {
    if !server::http::security::is_html(res.headers())
        || res.headers().get(header::CONTENT_TYPE).is_none()
    {
        return res;
    }
    use server::http::rewrite::replace_first;
    let res = replace_first(res, DATA_SCRIPT.as_bytes(), INERT_DATA_SCRIPT.as_bytes());
    replace_first(res, MODULE_SCRIPT.as_bytes(), BOOT_SCRIPT.as_bytes())
}
