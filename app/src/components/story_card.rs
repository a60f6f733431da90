//! One story in a list: title, status, tags, counts, dates, and links to read or edit it.

use dioxus::prelude::*;

use app::model::Story;

use crate::routes::Route;

/// A story's card.
#[component]
pub fn StoryCard(story: Story) -> Element {
    let updated = story.updated_at.get(..10).unwrap_or_default().to_owned();
    rsx! {
        article { class: "story-card", "data-testid": "story-card",
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
