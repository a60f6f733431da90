//! `/`: what AION is, where to go, and whether the server is healthy.

use dioxus::prelude::*;

use crate::{components::HealthPanel, routes::Route};

/// The landing page.
#[component]
pub fn Home() -> Element {
    rsx! {
        section { class: "hero",
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
