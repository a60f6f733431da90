//! Input parsed into types that cannot hold invalid values.
//!
//! The server parses every request field through these before it touches the database, so
//! repositories never re-check; the editor uses the same functions to show an error next to
//! a field before anything is sent. A failure names the field and says why.

use super::ApiError;

/// Characters in a title.
pub const TITLE_MAX_CHARS: usize = 200;
/// Characters in a summary.
pub const SUMMARY_MAX_CHARS: usize = 2_000;
/// Bytes of node content (1 MB).
pub const CONTENT_MAX_BYTES: usize = 1_000_000;
/// Characters in a choice label.
pub const CHOICE_LABEL_MAX_CHARS: usize = 200;
/// Tags on one story.
pub const TAGS_MAX: usize = 20;
/// Characters in one tag.
pub const TAG_MAX_CHARS: usize = 40;
/// Nodes in one batch.
pub const BATCH_MAX_NODES: usize = 10_000;
/// Largest page of stories.
pub const PAGE_LIMIT_MAX: u32 = 200;
/// Default page of stories.
pub const PAGE_LIMIT_DEFAULT: u32 = 50;
/// Largest page of nodes (the outline, the tree).
pub const NODE_PAGE_MAX: u32 = 1_000;
/// Default page of nodes.
pub const NODE_PAGE_DEFAULT: u32 = 500;
/// Characters in a search term.
pub const SEARCH_MAX_CHARS: usize = 100;

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(field, message)
}

/// A title: trimmed, 1-200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// Parses `raw` for the request field named `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ApiError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(invalid(field, format!("{field} must not be empty")));
        }
        let n = t.chars().count();
        if n > TITLE_MAX_CHARS {
            return Err(invalid(
                field,
                format!("{field} has {n} characters; at most {TITLE_MAX_CHARS} are allowed"),
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(invalid(
                field,
                format!("{field} must not contain control characters"),
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text with a character limit (summaries, choice labels).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShortText(String);

impl ShortText {
    /// Parses a summary.
    pub fn summary(raw: &str) -> Result<Self, ApiError> {
        Self::parse("summary", raw, SUMMARY_MAX_CHARS)
    }

    /// Parses a choice label.
    pub fn choice_label(raw: &str) -> Result<Self, ApiError> {
        Self::parse("choice_label", raw, CHOICE_LABEL_MAX_CHARS)
    }

    fn parse(field: &str, raw: &str, max: usize) -> Result<Self, ApiError> {
        let t = raw.trim();
        let n = t.chars().count();
        if n > max {
            return Err(invalid(
                field,
                format!("{field} has {n} characters; at most {max} are allowed"),
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, or `None` if empty.
    pub fn non_empty(&self) -> Option<&str> {
        (!self.0.is_empty()).then_some(self.0.as_str())
    }
}

/// Node content: any text up to 1 MB.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Content(String);

impl Content {
    /// Parses `raw` (kept as written: whitespace matters in prose).
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        if raw.len() > CONTENT_MAX_BYTES {
            return Err(invalid(
                "content",
                format!(
                    "content is {} bytes; at most {CONTENT_MAX_BYTES} (1 MB) are allowed",
                    raw.len()
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A story's tags: trimmed, deduplicated, at most 20 of 1-40 characters each.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    /// Parses the `tags` field.
    pub fn parse(raw: &[String]) -> Result<Self, ApiError> {
        let mut tags: Vec<String> = Vec::with_capacity(raw.len());
        for (i, tag) in raw.iter().enumerate() {
            let t = tag.trim();
            let field = format!("tags[{i}]");
            if t.is_empty() {
                return Err(invalid(&field, "a tag must not be empty"));
            }
            if t.chars().count() > TAG_MAX_CHARS {
                return Err(invalid(
                    &field,
                    format!("a tag has at most {TAG_MAX_CHARS} characters"),
                ));
            }
            if t.chars().any(char::is_control) {
                return Err(invalid(&field, "a tag must not contain control characters"));
            }
            if !tags.iter().any(|x| x == t) {
                tags.push(t.to_owned());
            }
        }
        if tags.len() > TAGS_MAX {
            return Err(invalid(
                "tags",
                format!("at most {TAGS_MAX} tags are allowed"),
            ));
        }
        Ok(Self(tags))
    }

    /// The tags.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// A story or node id: a UUID in its canonical text form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Id(String);

impl Id {
    /// Parses `raw` for the field named `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ApiError> {
        let ok = raw.len() == 36
            && raw.char_indices().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => c == '-',
                _ => c.is_ascii_hexdigit(),
            });
        if ok {
            Ok(Self(raw.to_ascii_lowercase()))
        } else {
            Err(invalid(
                field,
                format!(
                    "{field} is not a valid id (expected a UUID like 0190c2a4-8f1e-7c3b-9a2d-4e5f60718293)"
                ),
            ))
        }
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task's public id: a UUID in canonical (lowercase) form, like every other id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskId(Id);

impl TaskId {
    /// Parses `raw` for the field named `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ApiError> {
        Id::parse(field, raw).map(Self).map_err(|_| {
            invalid(
                field,
                format!("{field} is not a task id (expected a UUID, as the task list gives)"),
            )
        })
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Page size of the story list: 1-200, default 50.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    /// Parses the story list's `limit` query parameter.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        Self::parse_within(raw, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX)
    }

    /// Parses the `limit` of a page of nodes (the outline, the tree): 1-1,000, default 500.
    pub fn nodes(raw: Option<&str>) -> Result<Self, ApiError> {
        Self::parse_within(raw, NODE_PAGE_DEFAULT, NODE_PAGE_MAX)
    }

    fn parse_within(raw: Option<&str>, default: u32, max: u32) -> Result<Self, ApiError> {
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            return Ok(Self(default));
        };
        match raw.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Self(n)),
            _ => Err(invalid(
                "limit",
                format!("limit must be a whole number from 1 to {max}"),
            )),
        }
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// The most stories `offset` may skip.
pub const OFFSET_MAX: u32 = 10_000_000;

/// How many stories a page skips (`offset`): for jumping to a position; sequential pages
/// should follow `next_cursor`, which costs the same on every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Offset(u32);

impl Offset {
    /// Parses the `offset` query parameter; empty means 0.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            return Ok(Self(0));
        };
        match raw.parse::<u32>() {
            Ok(n) if n <= OFFSET_MAX => Ok(Self(n)),
            _ => Err(invalid(
                "offset",
                format!("offset must be a whole number from 0 to {OFFSET_MAX}"),
            )),
        }
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// A search term: trimmed, 1-100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    /// Parses the `q` query parameter; empty means no search.
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, ApiError> {
        let Some(t) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if t.chars().count() > SEARCH_MAX_CHARS {
            return Err(invalid(
                "q",
                format!("q has at most {SEARCH_MAX_CHARS} characters"),
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(invalid("q", "q must not contain control characters"));
        }
        Ok(Some(Self(t.to_owned())))
    }

    /// The term.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Characters in the term.
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }
}

/// Counts words the way readers of mixed Chinese and English text expect: every CJK
/// character is a word, and so is every run of other letters or digits.
pub fn word_count(text: &str) -> u32 {
    let mut count = 0u32;
    let mut in_word = false;
    for c in text.chars() {
        if is_cjk(c) {
            count += 1;
            in_word = false;
        } else if c.is_alphanumeric() || c == '\'' && in_word {
            if !in_word {
                count += 1;
                in_word = true;
            }
        } else {
            in_word = false;
        }
    }
    count
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F) // CJK Extensions B-F and supplements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded_in_characters_not_bytes() {
        assert_eq!(
            Title::parse("title", "  龙的传说 ").expect("ok").as_str(),
            "龙的传说"
        );
        assert!(Title::parse("title", &"龙".repeat(200)).is_ok());
        let err = Title::parse("title", &"龙".repeat(201)).expect_err("too long");
        assert_eq!(err.error.field.as_deref(), Some("title"));
        assert!(Title::parse("title", "   ").is_err());
        assert!(Title::parse("title", "a\u{0}b").is_err());
    }

    #[test]
    fn ids_must_be_uuids() {
        assert!(Id::parse("id", "0190c2a4-8f1e-7c3b-9a2d-4e5f60718293").is_ok());
        let err = Id::parse("parent_id", "1; DROP TABLE stories").expect_err("not a uuid");
        assert_eq!(err.error.field.as_deref(), Some("parent_id"));
        assert!(Id::parse("id", "0190c2a4x8f1e-7c3b-9a2d-4e5f60718293").is_err());
    }

    #[test]
    fn limits_and_terms() {
        assert_eq!(Limit::parse(None).expect("default").get(), 50);
        assert_eq!(Limit::parse(Some("200")).expect("max").get(), 200);
        for bad in ["0", "201", "-1", "ten", "1.5"] {
            let err = Limit::parse(Some(bad)).expect_err(bad);
            assert_eq!(err.error.field.as_deref(), Some("limit"));
        }
        assert!(
            SearchTerm::parse(Some("  "))
                .expect("empty is none")
                .is_none()
        );
        assert_eq!(
            SearchTerm::parse(Some(" 龙 "))
                .expect("ok")
                .expect("some")
                .as_str(),
            "龙"
        );
    }

    #[test]
    fn tags_are_deduplicated_and_bounded() {
        let tags = Tags::parse(&["奇幻".into(), " 奇幻 ".into(), "sci-fi".into()]).expect("ok");
        assert_eq!(tags.as_slice(), ["奇幻", "sci-fi"]);
        let err = Tags::parse(&["ok".into(), "".into()]).expect_err("empty tag");
        assert_eq!(err.error.field.as_deref(), Some("tags[1]"));
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&many).is_err());
    }

    #[test]
    fn content_is_limited_to_one_megabyte() {
        assert!(Content::parse(&"x".repeat(CONTENT_MAX_BYTES)).is_ok());
        let err = Content::parse(&"x".repeat(CONTENT_MAX_BYTES + 1)).expect_err("too big");
        assert_eq!(err.error.field.as_deref(), Some("content"));
    }

    #[test]
    fn words_count_cjk_characters_and_latin_words() {
        assert_eq!(word_count("Hello, world!"), 2);
        assert_eq!(word_count("龙的传说"), 4);
        assert_eq!(word_count("The dragon 龙 sleeps. It's late."), 6);
        assert_eq!(word_count(""), 0);
    }
}
