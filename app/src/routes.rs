//! Every URL of the app in one enum. Each variant names the page component that renders it;
//! all pages share the [`Shell`] layout (navigation, error display, footer).

use dioxus::prelude::*;

use crate::components::Shell;
use crate::pages::{
    Dashboard, Editor, Home, NotFound, Performance, Reader, ReaderNode, Stories, Tasks,
};

#[derive(Routable, Clone, PartialEq, Debug)]
#[rustfmt::skip]
pub enum Route {
    #[layout(Shell)]
        #[route("/")]
        Home {},
        #[route("/stories?:q&:status&:sort&:at")]
        Stories { q: String, status: String, sort: String, at: String },
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
            Route::NotFound { .. } => "/:..segments",
        }
    }

    /// The story list without filters.
    pub fn stories() -> Self {
        Self::Stories {
            q: String::new(),
            status: String::new(),
            sort: String::new(),
            at: String::new(),
        }
    }
}
