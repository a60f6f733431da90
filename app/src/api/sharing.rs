//! The editor's sharing panel: a small page of its own, `GET /stories/{id}/sharing`
//! (rendered on the server: `backend::library::share_page`), that the editor shows in a
//! frame, and the forms it posts, `POST /stories/{id}/sharing/{visibility,share,unshare}`,
//! each answering `303 See Other` back to it (with `?error=` saying what was refused).
//!
//! A frame rather than a component: the editor page is kept in the page cache, the same for
//! everyone, while the panel is the caller's; and the component that loaded it after
//! hydration cost the client 1.7 KB brotli its bundle does not have (`cargo xtask
//! bundle-size`, side by side). The same changes as JSON are `PATCH /api/stories/{id}` and
//! `PUT`/`DELETE /api/stories/{id}/collaborators/{handle}`.

use app::{
    backend::identity::Viewer,
    model::{ApiError, fields::Id},
};

/// The sharing panel of story `id` as HTML, for anyone who may read it; `error` is shown.
pub async fn sharing_panel(
    state: &app::backend::AppState,
    caller: &Viewer,
    id: &str,
    error: &str,
) -> Result<String, ApiError> {
    use app::backend::library::{access::Role, share_page};
    let id = Id::parse("id", id)?;
    let caller = caller.clone();
    let story = state.readable_story(&caller, &id).await?;
    let shared = state.collaborators(&caller, &id).await?;
    let owner = state.role_on(&caller, &story).await? == Role::Owner;
    let error: String = error.chars().take(200).collect();
    Ok(share_page::render(&story, shared, owner, error))
}

pub mod forms {
    //! The sharing panel's form actions (plain axum handlers: form bodies, redirects).

    use axum::{
        Extension, Form, Router,
        extract::{Path, Query},
        http::{StatusCode, header},
        response::{IntoResponse, Response},
        routing::{get, post},
    };
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    use serde::Deserialize;

    use app::{
        backend::{AppState, identity::Viewer},
        model::{ApiError, CollaboratorRole, StoryPatch, Visibility, fields::Id},
    };

    /// The routes.
    pub fn routes(css: &'static str) -> Router {
        Router::new()
            .route(
                "/stories/{id}/sharing",
                get(move |state, caller, id, query| page(state, caller, id, query, css)),
            )
            .route("/stories/{id}/sharing/visibility", post(visibility))
            .route("/stories/{id}/sharing/share", post(share))
            .route("/stories/{id}/sharing/unshare", post(unshare))
    }

    #[derive(Deserialize)]
    struct PageQuery {
        #[serde(default)]
        error: String,
    }

    /// The panel as a page of its own, for the editor's frame.
    async fn page(
        Extension(state): Extension<AppState>,
        caller: Viewer,
        Path(id): Path<String>,
        Query(query): Query<PageQuery>,
        css: &'static str,
    ) -> Response {
        let (status, body) = match super::sharing_panel(&state, &caller, &id, &query.error).await {
            Ok(panel) => (StatusCode::OK, panel),
            Err(e) => (
                e.code().status(),
                format!(
                    "<p class=\"error\" role=\"alert\">{}</p>",
                    escape(e.message())
                ),
            ),
        };
        let html = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sharing</title>\
             <link rel=\"stylesheet\" href=\"{css}\"></head>\
             <body class=\"share-frame-page\"><main class=\"share-panel\" data-testid=\"share-panel\">{body}</main></body></html>"
        );
        crate::api::account::private(
            (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
        )
    }

    /// `text` with the characters HTML gives meaning to escaped.
    fn escape(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }

    /// Back to the panel, with what went wrong if anything did.
    fn back(id: &str, result: Result<(), ApiError>) -> Response {
        let id: String = id
            .chars()
            .filter(|c| c.is_ascii_hexdigit() || *c == '-')
            .take(36)
            .collect();
        let to = match result {
            Ok(()) => format!("/stories/{id}/sharing"),
            Err(e) => {
                let message: String = e.message().chars().take(200).collect();
                let message = utf8_percent_encode(&message, NON_ALPHANUMERIC);
                format!("/stories/{id}/sharing?error={message}")
            }
        };
        crate::api::account::forms::see_other(&to, Vec::new())
    }

    #[derive(Deserialize)]
    struct VisibilityForm {
        visibility: String,
    }

    async fn visibility(
        Extension(state): Extension<AppState>,
        caller: Viewer,
        Path(id): Path<String>,
        Form(form): Form<VisibilityForm>,
    ) -> Response {
        let result = async {
            let visibility = Visibility::parse(&form.visibility).ok_or_else(|| {
                ApiError::invalid("visibility", "visibility must be private or public")
            })?;
            let patch = StoryPatch {
                visibility: Some(visibility),
                ..Default::default()
            };
            state
                .update_story(&caller, &Id::parse("id", &id)?, &patch)
                .await
                .map(drop)
        }
        .await;
        back(&id, result)
    }

    #[derive(Deserialize)]
    struct ShareForm {
        handle: String,
        #[serde(default)]
        role: String,
    }

    async fn share(
        Extension(state): Extension<AppState>,
        caller: Viewer,
        Path(id): Path<String>,
        Form(form): Form<ShareForm>,
    ) -> Response {
        let result = async {
            let role = CollaboratorRole::parse(&form.role)
                .ok_or_else(|| ApiError::invalid("role", "role must be editor or viewer"))?;
            state
                .share(&caller, &Id::parse("id", &id)?, form.handle.trim(), role)
                .await
                .map(drop)
        }
        .await;
        back(&id, result)
    }

    async fn unshare(
        Extension(state): Extension<AppState>,
        caller: Viewer,
        Path(id): Path<String>,
        Form(form): Form<ShareForm>,
    ) -> Response {
        let result = async {
            state
                .unshare(&caller, &Id::parse("id", &id)?, form.handle.trim())
                .await
                .map(drop)
        }
        .await;
        back(&id, result)
    }
}
