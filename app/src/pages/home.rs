//! `/`: what AION is, where to go, and whether the server is healthy.

use dioxus::prelude::*;

use crate::{components::HealthPanel, routes::Route};

/// The illustration, drawn by `backend::demo::art` (see its `home_illustration` test) and
/// encoded by dx at build time: AVIF (3.5 KB) with a JPEG (11 KB) for browsers without
/// AVIF. No WebP: dx 0.7 encodes WebP losslessly, 385 KB for this picture.
const ART_AVIF: Asset = asset!("/assets/home.png", AssetOptions::image().with_avif());
const ART_JPG: Asset = asset!("/assets/home.png", AssetOptions::image().with_jpg());

/// The landing page.
#[component]
pub fn Home() -> Element {
    rsx! {
        section { class: "hero",
            picture { class: "hero-art",
                source { r#type: "image/avif", "srcset": "{ART_AVIF}" }
                img { src: "{ART_JPG}", width: "1200", height: "400", alt: "", decoding: "async", "fetchpriority": "high" }
            }
            h1 { "AION Story Engine" }
            p { class: "lead",
                "Writers build branching stories, readers play them, operators watch the engine run. "
                "故事引擎：创作分支故事，阅读并选择你的道路。"
            }
            div { class: "row",
                Link { class: "btn primary", to: Route::stories(), "Browse stories" }
                Link { class: "btn", to: Route::Performance {}, "How it stays fast" }
            }
        }
        HealthPanel {}
    }
}
