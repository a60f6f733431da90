//! The story list in SQL: filters (status, tag), search (trigram full-text indexes, with
//! LIKE for nodes not yet indexed and for terms under three characters), sorts, and keyset
//! pagination (`(sort key, id) < (cursor)`), so page 1,000 costs the same as page 1.
//!
//! The only SQL fragments chosen at run time come from a closed set (the sort columns);
//! every value is a bound parameter.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use server::store::{Store, Value};

use super::stories::{STORY_COLUMN_COUNT, STORY_COLUMNS, story_from_row};
use crate::model::{
    ApiError, Story, StoryPage, StoryScope, StorySort, StoryStatus,
    fields::{Id, Limit, Offset, SearchTerm, Tags},
};

/// What the list shows: parsed query parameters.
#[derive(Debug, Clone, Default)]
pub struct StoryQuery {
    /// Page size.
    pub limit: Option<Limit>,
    /// Where the previous page ended.
    pub cursor: Option<String>,
    /// Rows to skip (a jump); never together with a cursor.
    pub offset: Offset,
    /// Only this status; without it, archived stories are left out.
    pub status: Option<StoryStatus>,
    /// Only stories with this tag.
    pub tag: Option<String>,
    /// Full-text search.
    pub q: Option<SearchTerm>,
    /// Order.
    pub sort: StorySort,
    /// Which stories.
    pub scope: StoryScope,
    /// The signed-in caller's account id (what `mine`, `shared` and the default scope
    /// add).
    pub account: Option<String>,
}

impl StoryQuery {
    /// Parses the raw query parameters of `GET /api/stories`; each error names its parameter.
    pub fn parse(
        limit: Option<&str>,
        cursor: Option<&str>,
        offset: Option<&str>,
        status: Option<&str>,
        tag: Option<&str>,
        q: Option<&str>,
        sort: Option<&str>,
    ) -> Result<Self, ApiError> {
        let status = match status.filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(StoryStatus::parse(s).ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    "status must be one of draft, in_progress, completed, archived",
                )
            })?),
        };
        let sort = match sort.filter(|s| !s.is_empty()) {
            None => StorySort::default(),
            Some(s) => StorySort::parse(s).ok_or_else(|| {
                let all: Vec<&str> = StorySort::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::invalid("sort", format!("sort must be one of {}", all.join(", ")))
            })?,
        };
        let tag = match tag.map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some(
                Tags::parse(&[t.to_owned()])
                    .map_err(|_| {
                        ApiError::invalid(
                            "tag",
                            "tag must be 1-40 characters without control characters",
                        )
                    })?
                    .as_slice()[0]
                    .clone(),
            ),
        };
        let cursor = cursor.filter(|c| !c.is_empty()).map(str::to_owned);
        let offset = Offset::parse(offset)?;
        if cursor.is_some() && offset.get() > 0 {
            return Err(ApiError::invalid(
                "offset",
                "offset and cursor do not go together: follow the cursor, or jump with offset",
            ));
        }
        Ok(Self {
            limit: Some(Limit::parse(limit)?),
            cursor,
            offset,
            status,
            tag,
            q: SearchTerm::parse(q)?,
            sort,
            scope: StoryScope::Default,
            account: None,
        })
    }

    /// This query in `scope` for the signed-in account `account` (if any): `mine` and
    /// `shared` need one (401).
    pub fn scoped(mut self, scope: Option<&str>, account: Option<&str>) -> Result<Self, ApiError> {
        self.scope = StoryScope::parse(scope.unwrap_or("")).ok_or_else(|| {
            ApiError::invalid("scope", "scope must be one of public, mine, shared")
        })?;
        if matches!(self.scope, StoryScope::Mine | StoryScope::Shared) && account.is_none() {
            return Err(ApiError::unauthenticated());
        }
        self.account = match self.scope {
            StoryScope::Public => None,
            _ => account.map(str::to_owned),
        };
        Ok(self)
    }

    /// Whether the answer depends on the caller.
    pub fn is_personal(&self) -> bool {
        self.account.is_some()
    }
}

/// The sort column and direction; chosen from a closed set, never from request text.
fn sort_sql(sort: StorySort) -> (&'static str, bool) {
    match sort {
        StorySort::UpdatedDesc => ("updated_at", true),
        StorySort::UpdatedAsc => ("updated_at", false),
        StorySort::CreatedDesc => ("created_at", true),
        StorySort::CreatedAsc => ("created_at", false),
        StorySort::TitleAsc => ("title", false),
        StorySort::TitleDesc => ("title", true),
    }
}

/// A position in the list: the sort it belongs to, the sort key and the id of the last row.
fn encode_cursor(sort: StorySort, story: &Story, key: &Value) -> String {
    let key = match key {
        Value::Integer(i) => i.to_string(),
        Value::Text(t) => t.clone(),
        _ => String::new(),
    };
    URL_SAFE_NO_PAD.encode(format!("{}\n{}\n{}", sort.as_str(), story.id, key))
}

fn decode_cursor(sort: StorySort, cursor: &str) -> Result<(Value, String), ApiError> {
    let bad = || {
        ApiError::invalid(
            "cursor",
            "cursor is not one this server issued; start again without it",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.splitn(3, '\n');
    let (Some(s), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if s != sort.as_str() {
        return Err(ApiError::invalid(
            "cursor",
            "cursor belongs to another sort order; start again without it",
        ));
    }
    let id = Id::parse("cursor", id)?.as_str().to_owned();
    let key = match sort_sql(sort).0 {
        "title" => Value::Text(key.to_owned()),
        _ => Value::Integer(key.parse().map_err(|_| bad())?),
    };
    Ok((key, id))
}

/// Quotes a search term as one FTS5 phrase, so its characters are matched literally.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// A LIKE pattern matching `term` anywhere, with `%`, `_` and `\` escaped.
fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The `WHERE` conditions of the status, tag and search filters, with their arguments.
fn filters(query: &StoryQuery) -> (Vec<String>, Vec<Value>) {
    let mut conditions: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let account = query.account.clone().unwrap_or_default();
    match (query.scope, &query.account) {
        (StoryScope::Mine, _) => {
            conditions.push("s.owner_id = ?".into());
            args.push(account.into());
        }
        (StoryScope::Shared, _) => {
            conditions
                .push("s.id IN (SELECT story_id FROM collaborators WHERE account_id = ?)".into());
            args.push(account.into());
        }
        (StoryScope::Default, Some(_)) => {
            conditions.push("(s.visibility = 'public' OR s.owner_id = ?)".into());
            args.push(account.into());
        }
        _ => conditions.push("s.visibility = 'public'".into()),
    }
    match query.status {
        Some(status) => {
            conditions.push("s.status = ?".into());
            args.push(status.as_str().into());
        }
        None => conditions.push("s.status <> 'archived'".into()),
    }
    if let Some(tag) = &query.tag {
        conditions.push("s.id IN (SELECT story_id FROM story_tags WHERE tag = ?)".into());
        args.push(tag.clone().into());
    }
    if let Some(q) = &query.q {
        let like = like_pattern(q.as_str());
        // Nodes still queued for the background indexer are matched by LIKE, so a search
        // never misses (or finds stale text of) a node written a moment ago.
        let queued =
            "s.id IN (SELECT n.story_id FROM nodes_fts_pending p JOIN nodes n ON n.seq = p.seq
                               WHERE n.title LIKE ? ESCAPE '\\' OR n.content LIKE ? ESCAPE '\\')";
        if q.chars() >= 3 {
            // Trigram indexes: titles, summaries and the text of every indexed node.
            conditions.push(format!(
                "(s.seq IN (SELECT rowid FROM stories_fts WHERE stories_fts MATCH ?)
                  OR s.id IN (SELECT n.story_id FROM nodes_fts f JOIN nodes n ON n.seq = f.rowid
                              WHERE nodes_fts MATCH ?
                                AND f.rowid NOT IN (SELECT seq FROM nodes_fts_pending))
                  OR {queued})"
            ));
            args.push(fts_phrase(q.as_str()).into());
            args.push(fts_phrase(q.as_str()).into());
            args.push(like.clone().into());
            args.push(like.into());
        } else {
            // Trigrams need 3 characters; shorter terms (common in Chinese) scan titles and
            // summaries of the stories table instead.
            conditions.push("(s.title LIKE ? ESCAPE '\\' OR s.summary LIKE ? ESCAPE '\\')".into());
            args.push(like.clone().into());
            args.push(like.into());
        }
    }
    (conditions, args)
}

/// One page of the list.
pub async fn list(store: &Store, query: &StoryQuery) -> Result<StoryPage, ApiError> {
    let (col, desc) = sort_sql(query.sort);
    let limit = query.limit.map_or(50, Limit::get);
    let (mut conditions, mut args) = filters(query);
    let filters = conditions.join(" AND ");
    let count_args = args.clone();
    if let Some(cursor) = &query.cursor {
        let (key, id) = decode_cursor(query.sort, cursor)?;
        let op = if desc { "<" } else { ">" };
        conditions.push(format!("(s.{col}, s.id) {op} (?, ?)"));
        args.push(key);
        args.push(id.into());
    }
    let dir = if desc { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {STORY_COLUMNS}, s.{col} FROM stories s WHERE {} ORDER BY s.{col} {dir}, s.id {dir} LIMIT ? OFFSET ?",
        conditions.join(" AND ")
    );
    args.push(Value::Integer(i64::from(limit) + 1));
    args.push(Value::Integer(i64::from(query.offset.get())));
    let kind = if query.q.is_some() {
        "story.search"
    } else {
        "story.page"
    };
    let conn = store.read().await?;
    let mut rows = conn
        .query(kind, &sql, args, |r| {
            Ok((story_from_row(r)?, r.get_value(STORY_COLUMN_COUNT)?))
        })
        .await?;
    // The total makes a virtual list's scrollbar honest; it is counted for pages that
    // start a walk (no cursor), not for every page of one.
    let total = match query.cursor {
        Some(_) => None,
        None => {
            let sql = format!("SELECT COUNT(*) FROM stories s WHERE {filters}");
            let kind = if query.q.is_some() {
                "story.search_count"
            } else {
                "story.count"
            };
            Some(conn.query_i64(kind, &sql, count_args).await?.max(0) as u64)
        }
    };
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|(story, key)| encode_cursor(query.sort, story, key))
    } else {
        None
    };
    Ok(StoryPage {
        items: rows.into_iter().map(|(s, _)| s).collect(),
        next_cursor,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(fts_phrase("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn cursors_round_trip_and_refuse_other_sorts_and_garbage() {
        let story = Story {
            id: "0190c2a4-8f1e-7c3b-9a2d-4e5f60718293".into(),
            title: "t".into(),
            summary: String::new(),
            status: StoryStatus::Draft,
            tags: vec![],
            node_count: 0,
            word_count: 0,
            created_at: String::new(),
            updated_at: String::new(),
            cover: None,
            cover_pending: false,
            owner: String::new(),
            visibility: Default::default(),
        };
        let c = encode_cursor(StorySort::UpdatedDesc, &story, &Value::Integer(42));
        let (key, id) = decode_cursor(StorySort::UpdatedDesc, &c).expect("round trip");
        assert_eq!(key, Value::Integer(42));
        assert_eq!(id, story.id);
        let err = decode_cursor(StorySort::TitleAsc, &c).expect_err("other sort");
        assert_eq!(err.field(), Some("cursor"));
        assert!(decode_cursor(StorySort::UpdatedDesc, "'; DROP TABLE stories; --").is_err());
    }
}
