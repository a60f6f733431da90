//! `/stories`: search, filter and sort the library; create a story.

use dioxus::prelude::*;

use app::model::{ApiError, JsonBody, NewStory, StorySort, StoryStatus};

use crate::{
    api,
    components::{FieldError, FormError, ListFilters, StoryList},
    routes::Route,
};

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The story library.
#[component]
pub fn Stories(
    q: ReadSignal<String>,
    status: ReadSignal<String>,
    sort: ReadSignal<String>,
) -> Element {
    let page = use_loader(move || {
        api::list_stories(
            None,
            None,
            non_empty(&status()),
            None,
            non_empty(&q()),
            non_empty(&sort()),
        )
    })?;
    let nav = use_navigator();
    let mut term = use_signal(|| q.cloned());
    let go = move |q: String, status: String, sort: String| {
        nav.push(Route::Stories { q, status, sort });
    };
    let filters = ListFilters {
        q: q(),
        status: status(),
        sort: sort(),
    };
    let key = format!("{}|{}|{}", filters.q, filters.status, filters.sort);

    rsx! {
        section { class: "page-head",
            h1 { "Stories" }
            NewStoryForm {}
        }
        form {
            class: "filters card",
            role: "search",
            onsubmit: move |evt: FormEvent| {
                evt.prevent_default();
                go(term(), status(), sort());
            },
            input {
                r#type: "search",
                name: "q",
                "aria-label": "Search stories",
                placeholder: "Search titles and text… 搜索",
                value: "{term}",
                oninput: move |e| term.set(e.value()),
            }
            select {
                "aria-label": "Status",
                value: "{status}",
                onchange: move |e| go(q(), e.value(), sort()),
                option { value: "", "Any status (not archived)" }
                for s in StoryStatus::ALL {
                    option { value: s.as_str(), selected: status() == s.as_str(), "{s.label()}" }
                }
            }
            select {
                "aria-label": "Sort",
                value: "{sort}",
                onchange: move |e| go(q(), status(), e.value()),
                for s in StorySort::ALL {
                    option { value: s.as_str(), selected: sort() == s.as_str() || (sort().is_empty() && s == StorySort::default()), "{s.label()}" }
                }
            }
            button { class: "btn primary", r#type: "submit", "Search" }
        }
        // Keyed by the filters: a new search starts a fresh list.
        {rsx! { StoryList { key: "{key}", first: page(), filters } }}
    }
}

/// Creates a story from a title and opens it in the editor.
#[component]
fn NewStoryForm() -> Element {
    let nav = use_navigator();
    let mut title = use_signal(String::new);
    let mut error = use_signal(|| None::<ApiError>);
    let mut busy = use_signal(|| false);
    rsx! {
        form {
            class: "new-story row",
            onsubmit: move |evt: FormEvent| {
                evt.prevent_default();
                busy.set(true);
                spawn(async move {
                    let input = NewStory { title: title(), ..Default::default() };
                    match api::create_story(JsonBody(input)).await {
                        Ok(story) => {
                            nav.push(Route::Editor { id: story.id });
                        }
                        Err(e) => error.set(Some(e)),
                    }
                    busy.set(false);
                });
            },
            label {
                "New story"
                input {
                    name: "title",
                    placeholder: "Title 标题",
                    value: "{title}",
                    oninput: move |e| title.set(e.value()),
                }
                FieldError { error, field: "title" }
            }
            button { class: "btn primary", r#type: "submit", disabled: busy(), "Create" }
            FormError { error, fields: &["title"] }
        }
    }
}
