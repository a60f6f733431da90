//! One story in a list: title, status, tags, counts, dates, and links to read or edit it.
//! Pointing at the card or focusing one of its links prefetches what the reader needs, so
//! the click opens the story from the request cache with no request of its own.

use dioxus::prelude::*;

use app::model::Story;

use crate::{components::CoverImage, hooks::prefetch::prefetch_on_intent, queries, routes::Route};

/// A story's card.
#[component]
pub fn StoryCard(story: Story) -> Element {
    let updated = story.updated_at.get(..10).unwrap_or_default().to_owned();
    let id = story.id.clone();
    let intent = prefetch_on_intent(move || queries::prefetch_story(&id));
    rsx! {
        article {
            class: "story-card",
            "data-testid": "story-card",
            onmouseenter: {
                let intent = intent.clone();
                move |_| intent()
            },
            onfocusin: move |_| intent(),
            // A fixed box whether or not the story has a cover, so rows line up and a cover
            // arriving later moves nothing.
            match story.cover.clone() {
                Some(cover) => rsx! {
                    CoverImage { cover, sizes: "128px", class: "cover-thumb", alt: "" }
                },
                None => rsx! { div { class: "cover cover-thumb cover-none" } },
            }
            div { class: "story-card-head",
                Link { class: "story-title", to: Route::Reader { id: story.id.clone() }, "{story.title}" }
                span { class: "status status-{story.status.as_str()}", "{story.status.label()}" }
            }
            if !story.summary.is_empty() {
                p { class: "summary", "{story.summary}" }
            }
            div { class: "meta",
                for tag in story.tags.iter() {
                    span { class: "tag", "{tag}" }
                }
                span { "{story.node_count} nodes" }
                span { "{story.word_count} words" }
                span { "updated {updated}" }
                Link { to: Route::Editor { id: story.id.clone() }, "Edit" }
            }
        }
    }
}
