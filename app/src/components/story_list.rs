//! The story list with more pages loaded as the reader scrolls.
//!
//! It receives the first page (server-rendered) and the filters, and fetches later pages
//! with the cursor when a sentinel below the last card becomes visible (or the button is
//! pressed). The parent keys it by its filters, so a new search starts a fresh list. A
//! virtual-scrolling list can replace it behind the same props.

use std::sync::Arc;

use dioxus::prelude::*;

use app::model::{ApiError, Story, StoryPage};

use crate::{api, components::StoryCard};

/// The filters a list was loaded with; empty strings mean "not set".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListFilters {
    /// Search term.
    pub q: String,
    /// Status filter.
    pub status: String,
    /// Sort order.
    pub sort: String,
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// First page plus whatever has been scrolled into view since.
#[component]
pub fn StoryList(first: Arc<StoryPage>, filters: ListFilters) -> Element {
    let mut more = use_signal(Vec::<Story>::new);
    let mut cursor = use_signal(|| first.next_cursor.clone());
    let mut loading = use_signal(|| false);
    let mut error = use_signal(|| None::<ApiError>);
    let filters = use_signal(|| filters);

    let mut load_more = move || {
        if loading() {
            return;
        }
        let Some(after) = cursor() else { return };
        loading.set(true);
        spawn(async move {
            let f = filters();
            let page = api::list_stories(
                None,
                Some(after),
                non_empty(&f.status),
                None,
                non_empty(&f.q),
                non_empty(&f.sort),
            )
            .await;
            match page {
                Ok(page) => {
                    more.write().extend(page.items.iter().cloned());
                    cursor.set(page.next_cursor.clone());
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };

    let total = first.items.len() + more.read().len();
    rsx! {
        if total == 0 {
            p { class: "muted", "data-testid": "no-stories", "No stories match." }
        }
        div { class: "story-list", "data-testid": "story-list",
            for story in first.items.iter().chain(more.read().iter()) {
                StoryCard { key: "{story.id}", story: story.clone() }
            }
        }
        if let Some(e) = error() {
            p { class: "error", "Could not load more stories: {e}" }
        }
        if cursor().is_some() {
            div {
                class: "sentinel",
                onvisible: move |evt| {
                    if evt.data().is_intersecting().unwrap_or(false) {
                        load_more();
                    }
                },
                button {
                    class: "btn",
                    "data-testid": "load-more",
                    disabled: loading(),
                    onclick: move |_| load_more(),
                    if loading() { "Loading…" } else { "Load more" }
                }
            }
        } else if total > 0 {
            p { class: "muted end", "{total} stories" }
        }
    }
}
