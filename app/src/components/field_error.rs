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

/// A textarea's text as its escaped HTML content (`dangerous_inner_html`). A server-rendered
/// textarea ignores a `value` attribute and hydration does not set the property, and a text
/// child would carry the hydration markers into the field; the escaped content is exactly
/// the text. Pair it with `value` so client-side renders set the property too.
pub fn textarea_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn textarea_text_escapes_what_html_would_read() {
        assert_eq!(
            super::textarea_text("a < b && c > d"),
            "a &lt; b &amp;&amp; c &gt; d"
        );
        assert_eq!(
            super::textarea_text("</textarea><script>"),
            "&lt;/textarea&gt;&lt;script&gt;"
        );
        assert_eq!(super::textarea_text("山路\n\"quoted\""), "山路\n\"quoted\"");
    }
}
