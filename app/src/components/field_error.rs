//! An API error shown next to the form field it names.

use dioxus::prelude::*;

use app::model::ApiError;

/// Renders `error`'s message if it names `field`.
#[component]
pub fn FieldError(error: ReadSignal<Option<ApiError>>, field: &'static str) -> Element {
    let message = error
        .read()
        .as_ref()
        .filter(|e| e.field() == Some(field))
        .map(|e| e.message().to_owned());
    rsx! {
        if let Some(message) = message {
            span { class: "field-error", role: "alert", "data-field": field, "{message}" }
        }
    }
}

/// Renders `error`'s message if it names no field (or a field without its own slot).
#[component]
pub fn FormError(error: ReadSignal<Option<ApiError>>, fields: &'static [&'static str]) -> Element {
    let message = error
        .read()
        .as_ref()
        .filter(|e| e.field().is_none_or(|f| !fields.contains(&f)))
        .map(|e| e.message().to_owned());
    rsx! {
        if let Some(message) = message {
            p { class: "error", role: "alert", "{message}" }
        }
    }
}
