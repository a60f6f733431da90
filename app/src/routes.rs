//! Every URL of the app in one enum. Each variant names the page component that renders it;
//! all pages share the [`Shell`] layout (navigation, error display, footer).

use dioxus::prelude::*;

use crate::components::Shell;
use crate::pages::{
    Account, Dashboard, Editor, Home, NotFound, Performance, Reader, ReaderNode, Stories, Tasks,
};

#[derive(Routable, Clone, PartialEq, Debug)]
#[rustfmt::skip]
pub enum Route {
    #[layout(Shell)]
        #[route("/")]
        Home {},
        #[route("/stories?:q&:status&:sort&:at&:scope")]
        Stories { q: String, status: String, sort: String, at: String, scope: String },
        #[route("/stories/:id")]
        Reader { id: String },
        #[route("/stories/:id/nodes/:node")]
        ReaderNode { id: String, node: String },
        #[route("/stories/:id/edit")]
        Editor { id: String },
        #[route("/tasks")]
        Tasks {},
        #[route("/performance")]
        Performance {},
        #[route("/performance-dashboard")]
        Dashboard {},
        #[route("/account")]
        Account {},
        #[route("/:..segments")]
        NotFound { segments: Vec<String> },
}

impl Route {
    /// The route's template, as Web Vitals are tagged (`model::VITAL_ROUTES`).
    pub fn template(&self) -> &'static str {
        match self {
            Route::Home {} => "/",
            Route::Stories { .. } => "/stories",
            Route::Reader { .. } => "/stories/:id",
            Route::ReaderNode { .. } => "/stories/:id/nodes/:node",
            Route::Editor { .. } => "/stories/:id/edit",
            Route::Tasks {} => "/tasks",
            Route::Performance {} => "/performance",
            Route::Dashboard {} => "/performance-dashboard",
            Route::Account {} => "/account",
            Route::NotFound { .. } => "/:..segments",
        }
    }

    /// The story list without filters.
    pub fn stories() -> Self {
        Self::stories_in("")
    }

    /// The story list in `scope` (`mine`, `shared`, `public`; empty: public and the
    /// writer's own).
    pub fn stories_in(scope: &str) -> Self {
        Self::Stories {
            q: String::new(),
            status: String::new(),
            sort: String::new(),
            at: String::new(),
            scope: scope.to_owned(),
        }
    }
}

/// The routes as the server's other tables know them: the vitals route templates
/// (`model::VITAL_ROUTES`), the page cache's rules and the list page's parameters
/// (`backend::http`). Those live in the library half, which cannot name this enum, so these
/// tests fail when a route is added or changed without them.
#[cfg(all(test, feature = "server"))]
mod tests {
    use app::backend::http;
    use axum::http::{Method, Uri};
    use server::http::response_cache::CacheDecision;

    use super::Route;

    const ID: &str = "0190c2a4-8f1e-7c3b-9a2d-4e5f60718293";

    /// How the page cache must treat a route's pages.
    #[derive(Debug, PartialEq)]
    enum Kept {
        /// One copy for everyone, revalidated.
        Shared,
        /// Never kept: the page holds the session's own or live data.
        Never,
        /// Left alone (rendered each time).
        Rendered,
    }

    /// One route of each variant, and what the page cache must do with it. The match is
    /// exhaustive: a new variant does not compile until it is listed here.
    fn every_route() -> Vec<(Route, Kept)> {
        let all = vec![
            (Route::Home {}, Kept::Shared),
            (Route::stories(), Kept::Shared),
            (Route::Reader { id: ID.into() }, Kept::Shared),
            (
                Route::ReaderNode {
                    id: ID.into(),
                    node: ID.into(),
                },
                Kept::Shared,
            ),
            (Route::Editor { id: ID.into() }, Kept::Shared),
            (Route::Tasks {}, Kept::Never),
            (Route::Performance {}, Kept::Never),
            (Route::Dashboard {}, Kept::Never),
            (Route::Account {}, Kept::Never),
            (
                Route::NotFound {
                    segments: vec!["nowhere".into()],
                },
                Kept::Rendered,
            ),
        ];
        for (route, _) in &all {
            match route {
                Route::Home {}
                | Route::Stories { .. }
                | Route::Reader { .. }
                | Route::ReaderNode { .. }
                | Route::Editor { .. }
                | Route::Tasks {}
                | Route::Performance {}
                | Route::Dashboard {}
                | Route::Account {}
                | Route::NotFound { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_page_route_is_a_vitals_route_and_nothing_else_is() {
        let mut templates: Vec<&str> = every_route()
            .iter()
            .map(|(r, _)| r.template())
            .filter(|t| *t != "/:..segments")
            .collect();
        templates.sort_unstable();
        let mut vitals = app::model::VITAL_ROUTES.to_vec();
        vitals.sort_unstable();
        assert_eq!(templates, vitals);
    }

    #[test]
    fn the_page_cache_has_a_rule_for_every_route() {
        for (route, kept) in every_route() {
            let uri: Uri = route.to_string().parse().expect("a route is a URI");
            let decision = http::decide(&Method::GET, &uri, true);
            let got = match decision {
                CacheDecision::Store { .. } | CacheDecision::Serve { .. } => Kept::Shared,
                CacheDecision::NoStore => Kept::Never,
                CacheDecision::Pass | CacheDecision::Notify(_) => Kept::Rendered,
            };
            assert_eq!(got, kept, "{route:?} ({uri})");
        }
    }

    #[test]
    fn the_list_page_keys_exactly_the_stories_routes_parameters() {
        let route = Route::Stories {
            q: "a".into(),
            status: "b".into(),
            sort: "c".into(),
            at: "d".into(),
            scope: "e".into(),
        };
        let url = route.to_string();
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let mut names: Vec<&str> = query
            .split('&')
            .filter_map(|pair| pair.split_once('=').map(|(name, _)| name))
            .collect();
        names.sort_unstable();
        assert_eq!(names, http::LIST_PARAMS);
    }
}
