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

    /// A well-formed body of each type is accepted, every time, and serialises back to an
    /// equal value: the branch above sees few of them, since nearly everything random is
    /// refused (each body denies unknown fields).
    #[test]
    fn valid_bodies_are_accepted_and_round_trip(
        title in "[a-zA-Z龙 ]{1,30}",
        text in "[ -~龙的传说]{0,40}",
        tags in proptest::collection::vec("[a-z]{1,8}", 0..4),
        id in "[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        status in prop::sample::select(StoryStatus::ALL.to_vec()),
        kind in prop::sample::select(NodeKind::ALL.to_vec()),
        position in 0u32..1_000,
        present in any::<[bool; 6]>(),
        items in 1usize..5,
    ) {
        use serde_json::{Map, Value, json};
        fn accepted<T>(body: &Value) -> Result<(), TestCaseError>
        where
            T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
        {
            let bytes = serde_json::to_vec(body).expect("serialises");
            let v = super::body::parse_json::<T>(&bytes);
            prop_assert!(v.is_ok(), "{} refused: {:?}", body, v.err());
            let v = v.expect("checked");
            let again = serde_json::to_vec(&v).expect("serialises");
            prop_assert_eq!(super::body::parse_json::<T>(&again).ok(), Some(v));
            Ok(())
        }
        // Optional fields present or not, as `present` says.
        let some = |fields: &[(&str, Value)]| -> Value {
            let mut m = Map::new();
            for (i, (k, v)) in fields.iter().enumerate() {
                if present[i % present.len()] {
                    m.insert((*k).to_owned(), v.clone());
                }
            }
            Value::Object(m)
        };
        let with = |mut base: Value, required: &[(&str, Value)]| {
            for (k, v) in required {
                base[*k] = v.clone();
            }
            base
        };
        let visibility = if present[5] { "public" } else { "private" };
        accepted::<NewStory>(&with(
            some(&[("summary", json!(text)), ("status", json!(status.as_str())), ("tags", json!(tags)), ("visibility", json!(visibility))]),
            &[("title", json!(title))],
        ))?;
        accepted::<StoryPatch>(&some(&[
            ("title", json!(title)), ("summary", json!(text)), ("status", json!(status.as_str())),
            ("tags", json!(tags)), ("visibility", json!(visibility)), ("updated_at", json!("2026-12-07T08:00:00.000000Z")),
        ]))?;
        accepted::<NewNode>(&with(
            some(&[("parent_id", json!(id)), ("content", json!(text)), ("choice_label", json!(title)), ("position", json!(position))]),
            &[("kind", json!(kind.as_str())), ("title", json!(title))],
        ))?;
        accepted::<NodePatch>(&some(&[
            ("kind", json!(kind.as_str())), ("title", json!(title)), ("content", json!(text)),
            ("choice_label", json!(title)), ("updated_at", json!("2026-12-07T08:00:00.000000Z")),
        ]))?;
        let nodes: Vec<Value> = (0..items)
            .map(|i| with(
                some(&[("ref", json!(format!("r{i}"))), ("content", json!(text)), ("position", json!(position))]),
                &[("kind", json!(kind.as_str())), ("title", json!(title))],
            ))
            .collect();
        accepted::<NodeBatch>(&json!({ "nodes": nodes }))?;
        accepted::<MoveNode>(&some(&[("parent_id", json!(id)), ("position", json!(position))]))?;
        accepted::<ExportRequest>(&json!({ "format": if present[0] { "json" } else { "pdf" } }))?;
        accepted::<ReportRequest>(&some(&[("story_id", json!(id))]))?;
        accepted::<MarkRead>(&some(&[("ids", json!([id]))]))?;
        let exported: Vec<Value> = (0..items)
            .map(|i| json!({
                "ref": format!("r{i}"),
                "parent_ref": if i == 0 { Value::Null } else { json!("r0") },
                "position": i, "kind": kind.as_str(), "title": title, "content": text,
                "choice_label": Value::Null,
            }))
            .collect();
        accepted::<StoryExport>(&json!({
            "format": "aion.story", "version": 1, "exported_at": "2026-12-07T08:00:00.000000Z",
            "story": {
                "id": id, "title": title, "summary": text, "status": status.as_str(), "tags": tags,
                "created_at": "2026-12-07T08:00:00.000000Z", "updated_at": "2026-12-07T08:00:00.000000Z",
            },
            "nodes": exported,
        }))?;
    }
}
