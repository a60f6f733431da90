//! `/stories`: the whole library in one virtual list, searched as you type, filtered and
//! sorted; create a story.
//!
//! The search box is debounced: a typing pause (300 ms, at most 1 s while typing on) moves
//! the URL (`?q=`, replacing the history entry), and the URL drives the list, so back,
//! forward and reload restore the search, and a newer query always wins (the list's loader
//! drops an older answer). An IME composition (Chinese input) searches when it ends, not
//! on every pinyin letter. `?at=N` (and the "Go to" box) scrolls to story N.

use dioxus::prelude::*;

use app::model::{ApiError, JsonBody, NewStory, StorySort, StoryStatus};

use crate::{
    api,
    components::{Align, FieldError, FormError, Jump, StoryList},
    hooks::{
        debounce::{DebounceOptions, use_debounce},
        query::use_query,
    },
    queries::{self, ListFilters},
    routes::Route,
};

/// The list's scopes, as the tabs name them.
const SCOPES: [(&str, &str); 4] = [
    ("", "All"),
    ("mine", "My stories"),
    ("shared", "Shared with me"),
    ("public", "Public"),
];

/// The story library.
#[component]
pub fn Stories(
    q: ReadSignal<String>,
    status: ReadSignal<String>,
    sort: ReadSignal<String>,
    at: ReadSignal<String>,
    scope: ReadSignal<String>,
) -> Element {
    let filters = use_memo(move || ListFilters {
        q: q(),
        status: status(),
        sort: sort(),
        scope: scope(),
    });
    let page = use_query(move || queries::stories_page(&filters(), 0, None))?;
    let nav = use_navigator();
    let mut term = use_signal(|| q.cloned());
    let mut composing = use_signal(|| false);
    let go = move |q: String, status: String, sort: String| {
        nav.replace(Route::Stories {
            q,
            status,
            sort,
            at: String::new(),
            scope: scope(),
        });
    };
    let search = use_debounce(
        DebounceOptions::trailing(300.0).max_wait(1_000.0),
        move |text: String| {
            if text.trim() != q().trim() {
                go(text, status(), sort());
            }
        },
    );
    let first_row = at().parse::<usize>().ok().filter(|n| *n > 0).map(|n| n - 1);
    // A linked position (`?at=N`) is shown in the middle; "Go to" puts it at the top.
    let mut jump = use_signal(|| Jump {
        row: first_row.unwrap_or(0),
        align: Align::Center,
        seq: u64::from(first_row.is_some()),
    });
    let mut goto = use_signal(String::new);
    let f = filters();
    let key = format!("{}|{}|{}|{}", f.scope, f.q, f.status, f.sort);

    rsx! {
        section { class: "page-head",
            h1 { "Stories" }
            NewStoryForm {}
        }
        nav { class: "scopes", aria_label: "Which stories",
            for (value, label) in SCOPES {
                Link {
                    key: "{value}",
                    class: if scope() == value { "scope active" } else { "scope" },
                    "aria-current": if scope() == value { "page" } else { "false" },
                    to: Route::stories_in(value),
                    "{label}"
                }
            }
        }
        form {
            class: "filters card",
            role: "search",
            onsubmit: move |evt: FormEvent| {
                evt.prevent_default();
                // Enter searches now: the pending debounced search, or the same again.
                if search.pending() {
                    search.flush();
                } else {
                    go(term(), status(), sort());
                }
            },
            input {
                r#type: "search",
                name: "q",
                "aria-label": "Search stories",
                placeholder: "Search titles and text… 搜索",
                value: "{term}",
                oninput: move |e| {
                    term.set(e.value());
                    if !composing() {
                        search.call(e.value());
                    }
                },
                oncompositionstart: move |_| composing.set(true),
                oncompositionend: move |_| {
                    composing.set(false);
                    search.call(term());
                },
            }
            select {
                "aria-label": "Status",
                value: "{status}",
                onchange: move |e| {
                    search.cancel();
                    go(term(), e.value(), sort());
                },
                option { value: "", "Any status (not archived)" }
                for s in StoryStatus::ALL {
                    option { value: s.as_str(), selected: status() == s.as_str(), "{s.label()}" }
                }
            }
            select {
                "aria-label": "Sort",
                value: "{sort}",
                onchange: move |e| {
                    search.cancel();
                    go(term(), status(), e.value());
                },
                for s in StorySort::ALL {
                    option { value: s.as_str(), selected: sort() == s.as_str() || (sort().is_empty() && s == StorySort::default()), "{s.label()}" }
                }
            }
            button { class: "btn primary", r#type: "submit", "Search" }
        }
        form {
            class: "row goto",
            onsubmit: move |evt: FormEvent| {
                evt.prevent_default();
                if let Ok(n) = goto().trim().parse::<usize>() {
                    let seq = jump.peek().seq + 1;
                    jump.set(Jump { row: n.saturating_sub(1), align: Align::Start, seq });
                }
            },
            label { "Go to story #"
                input {
                    r#type: "number",
                    name: "goto",
                    min: 1,
                    value: "{goto}",
                    oninput: move |e| goto.set(e.value()),
                }
            }
            button { class: "btn", r#type: "submit", "Go" }
        }
        // Keyed by the filters: a new search starts a fresh list.
        {rsx! { StoryList { key: "{key}", first: page().0, filters: f, jump } }}
    }
}

/// Creates a story and opens it in the editor.
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
                            queries::after_list_write();
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
