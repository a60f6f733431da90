//! The whole library in one virtual list, scrolled with the page.
//!
//! It receives the first page (server-rendered, with the total count, so the scrollbar is
//! honest from the start) and the filters. As the viewport moves, the pages under it are loaded through the request cache: with the
//! previous page's cursor when it is known (every page the same cost), else by offset (a
//! jump or a fast drag of the scrollbar). Rows are measured as they render (a long title
//! wraps and its card grows, on a phone most of all), estimated at [`ROW_HEIGHT`] until
//! then; a placeholder row is measured again once its story arrives. Range changes are throttled, so flinging through
//! thousands of rows loads a few pages a second and those where the list comes to rest, not
//! every page passed.
//! Rows whose page is still loading show a placeholder of the estimated height. The parent keys
//! it by its filters, so a new search starts a fresh list.

use std::{collections::HashMap, collections::HashSet, sync::Arc};

use dioxus::prelude::*;

use app::model::{ApiError, StoryPage};

use crate::{
    components::{Jump, Scroll, StoryCard, VirtualList},
    hooks::{query::QueryClient, throttle::use_throttle, virtual_list::Window},
    queries::{self, ListFilters, PAGE},
};

/// Estimated height of one row: a card with a one-line title and the gap below it (see
/// `.story-rows` in main.css); the placeholder's height.
pub const ROW_HEIGHT: f64 = 112.0;

/// Every story matching the filters, scrolled virtually.
#[component]
pub fn StoryList(first: Arc<StoryPage>, filters: ListFilters, jump: ReadSignal<Jump>) -> Element {
    let total = first.total.map_or(first.items.len(), |t| t as usize);
    let mut pages = use_signal(|| HashMap::from([(0usize, first.clone())]));
    let mut asked = use_signal(|| HashSet::from([0usize]));
    let mut error = use_signal(|| None::<ApiError>);
    let filters = use_signal(|| filters);
    let client = QueryClient::get();
    // The first page can arrive after the list (a new search renders at once, with the
    // previous answer until the new one is in): start over with it.
    use_effect(use_reactive!(|first| {
        if pages.peek().get(&0).is_none_or(|p| !Arc::ptr_eq(p, &first)) {
            pages.set(HashMap::from([(0, first)]));
            asked.set(HashSet::from([0]));
        }
    }));

    let mut load = move |page: usize| {
        if asked.peek().contains(&page) {
            return;
        }
        asked.write().insert(page);
        let cursor = page
            .checked_sub(1)
            .and_then(|p| pages.peek().get(&p).and_then(|pg| pg.next_cursor.clone()));
        let query = queries::stories_page(&filters.peek(), page, cursor);
        spawn(async move {
            match client.fetch(query).await {
                Ok(p) => {
                    pages.write().insert(page, p);
                    error.set(None);
                }
                Err(e) => {
                    asked.write().remove(&page);
                    error.set(Some(e));
                }
            }
        });
    };
    // Pages load as soon as scrolling starts, then at most every 250 ms while it goes on,
    // and where it comes to rest: a fling does not load every page it passes.
    let settle = use_throttle(250.0, move |w: Window| {
        if w.end == 0 {
            return;
        }
        for page in w.start / PAGE..=(w.end - 1) / PAGE {
            load(page);
        }
    });

    rsx! {
        if total == 0 {
            p { class: "muted", "data-testid": "no-stories", "No stories match." }
        } else {
            p { class: "muted count", "data-testid": "story-count", "{total} stories" }
        }
        if let Some(e) = error() {
            p { class: "error", "Could not load stories: {e}" }
        }
        VirtualList {
            count: total,
            row_height: ROW_HEIGHT,
            measure: true,
            // A page arriving turns placeholders into cards: those rows are measured again.
            row_version: move |i: usize| u64::from(pages.read().contains_key(&(i / PAGE))),
            label: "Stories",
            class: "story-rows",
            scroll: Scroll::Window,
            jump,
            on_range: move |w: Window| settle.call(w),
            row: move |i: usize| {
                let story = pages
                    .read()
                    .get(&(i / PAGE))
                    .and_then(|p| p.items.get(i % PAGE).cloned());
                match story {
                    Some(story) => rsx! { StoryCard { key: "{story.id}", story } },
                    None => rsx! { div { class: "story-card placeholder", "data-testid": "story-placeholder" } },
                }
            },
        }
    }
}
