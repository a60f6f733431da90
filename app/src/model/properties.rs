//! Property tests of every input parser: nothing a client sends makes one panic, and what a
//! parser accepts is already in its canonical form (parsing it again gives the same value),
//! within the documented bounds.

use proptest::prelude::*;

use super::fields::*;
use super::{
    ExportRequest, MarkRead, MoveNode, NewNode, NewStory, NodeBatch, NodeKind, NodePatch,
    ReportRequest, StoryExport, StoryPatch, StorySort, StoryStatus,
};

/// Text a client might send: any Unicode, with a bias towards the edges (whitespace,
/// control characters, CJK, very long runs).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ \\t\\n\\r\\u{0}\\u{7f}a-zA-Z0-9龙的传说-]{0,300}",
        ".{195,205}",
        Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn titles(raw in text()) {
        if let Ok(t) = Title::parse("title", &raw) {
            let n = t.as_str().chars().count();
            prop_assert!((1..=TITLE_MAX_CHARS).contains(&n));
            prop_assert_eq!(t.as_str().trim(), t.as_str());
            prop_assert!(!t.as_str().chars().any(char::is_control));
            prop_assert_eq!(Title::parse("title", t.as_str()).ok(), Some(t));
        }
    }

    #[test]
    fn summaries_and_labels(raw in text()) {
        if let Ok(s) = ShortText::summary(&raw) {
            prop_assert!(s.as_str().chars().count() <= SUMMARY_MAX_CHARS);
            prop_assert_eq!(ShortText::summary(s.as_str()).ok(), Some(s));
        }
        if let Ok(s) = ShortText::choice_label(&raw) {
            prop_assert!(s.as_str().chars().count() <= CHOICE_LABEL_MAX_CHARS);
            prop_assert_eq!(ShortText::choice_label(s.as_str()).ok(), Some(s));
        }
        if let Ok(c) = Content::parse(&raw) {
            prop_assert_eq!(c.as_str(), raw.as_str(), "content is kept as written");
        }
    }

    #[test]
    fn tags(raw in proptest::collection::vec(text(), 0..30)) {
        if let Ok(t) = Tags::parse(&raw) {
            prop_assert!(t.as_slice().len() <= TAGS_MAX);
            for tag in t.as_slice() {
                prop_assert!((1..=TAG_MAX_CHARS).contains(&tag.chars().count()));
            }
            prop_assert_eq!(Tags::parse(t.as_slice()).ok(), Some(t));
        }
    }

    #[test]
    fn ids(raw in prop_oneof![
        text(),
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "[0-9a-fA-F-]{30,40}",
    ]) {
        if let Ok(id) = Id::parse("id", &raw) {
            prop_assert_eq!(id.as_str(), raw.to_ascii_lowercase());
            prop_assert_eq!(Id::parse("id", id.as_str()).ok(), Some(id.clone()));
            prop_assert_eq!(
                TaskId::parse("id", &raw).map(|t| t.as_str().to_owned()).ok(),
                Some(id.as_str().to_owned())
            );
        } else {
            prop_assert!(TaskId::parse("id", &raw).is_err());
        }
    }

    #[test]
    fn limits_terms_and_names(raw in text()) {
        if let Ok(l) = Limit::parse(Some(&raw)) {
            prop_assert!((1..=PAGE_LIMIT_MAX).contains(&l.get()));
            prop_assert_eq!(Limit::parse(Some(&l.get().to_string())).ok(), Some(l));
        }
        if let Ok(Some(q)) = SearchTerm::parse(Some(&raw)) {
            prop_assert!(q.chars() <= SEARCH_MAX_CHARS);
            prop_assert_eq!(SearchTerm::parse(Some(q.as_str())).ok(), Some(Some(q)));
        }
        if let Some(s) = StoryStatus::parse(&raw) {
            prop_assert_eq!(s.as_str(), raw.as_str());
        }
        if let Some(s) = StorySort::parse(&raw) {
            prop_assert_eq!(s.as_str(), raw.as_str());
        }
        if let Some(k) = NodeKind::parse(&raw) {
            prop_assert_eq!(k.as_str(), raw.as_str());
        }
        let _ = word_count(&raw);
    }

    /// Any bytes as the body of any endpoint: an answer (a value or an error naming what is
    /// wrong), never a panic; an accepted body serialises back to an equal value.
    #[test]
    fn request_bodies(bytes in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "\\{(\"[a-z_]{1,10}\": ?(\"[^\"]{0,20}\"|[0-9-]{1,5}|null|true|\\[\\]|\\{\\}), ?){0,5}\"title\": \"[a-z]{1,5}\"\\}"
            .prop_map(String::into_bytes),
    ]) {
        fn check<T>(bytes: &[u8]) -> Result<(), TestCaseError>
        where
            T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
        {
            match super::body::parse_json::<T>(bytes) {
                Ok(v) => {
                    let again = serde_json::to_vec(&v).expect("serialises");
                    prop_assert_eq!(super::body::parse_json::<T>(&again).ok(), Some(v));
                }
                Err(e) => prop_assert!(!e.message().is_empty()),
            }
            Ok(())
        }
        check::<NewStory>(&bytes)?;
        check::<StoryPatch>(&bytes)?;
        check::<NewNode>(&bytes)?;
        check::<NodePatch>(&bytes)?;
        check::<NodeBatch>(&bytes)?;
        check::<MoveNode>(&bytes)?;
        check::<ExportRequest>(&bytes)?;
        check::<ReportRequest>(&bytes)?;
        check::<MarkRead>(&bytes)?;
        check::<StoryExport>(&bytes)?;
    }
}
