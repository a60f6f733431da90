//! The layout every page shares: top navigation, the page itself, a footer.

use dioxus::prelude::*;

use crate::routes::Route;

/// Navigation around the routed page.
#[component]
pub fn Shell() -> Element {
    rsx! {
        header { class: "topbar",
            Link { class: "brand", to: Route::Home {}, "AION" }
            nav { class: "mainnav", aria_label: "Main",
                Link { to: Route::Stories {}, active_class: "active", "Stories" }
                Link { to: Route::Tasks {}, active_class: "active", "Tasks" }
                Link { to: Route::Performance {}, active_class: "active", "Performance" }
                Link { to: Route::Dashboard {}, active_class: "active", "Dashboard" }
            }
        }
        main { class: "page", Outlet::<Route> {} }
        footer { class: "footer", "AION story engine · Rust, Dioxus 0.7, libsql" }
    }
}
