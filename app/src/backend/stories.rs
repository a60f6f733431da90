//! Stories in SQL: create, read, update, delete, and the keyset-paginated list with
//! filters and search.
//!
//! Inputs arrive parsed (see `model::fields`); every value reaches SQL as a bound parameter,
//! and the only SQL fragments chosen at run time come from a closed set (the sort columns).
//! The list uses keyset pagination (`(sort key, id) < (cursor)`), so page 1,000 costs the
//! same as page 1.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use server::store::{Conn, Row, SqlError, Store, Value, WriteTx, params};

use super::time::{next_after, now_micros, parse_rfc3339, to_rfc3339};
use crate::model::{
    ApiError, Cover, Deleted, NewStory, Story, StoryPage, StoryPatch, StorySort, StoryStatus,
    fields::{Id, Limit, Offset, SearchTerm, ShortText, Tags, Title},
};

/// The columns every story query selects, in [`story_from_row`]'s order.
/// The cover comes from `media` by primary key (a subquery, so that every query keeps its
/// single-table plan).
pub const STORY_COLUMNS: &str = "s.id, s.title, s.summary, s.status, s.tags, s.node_count, s.word_count, s.created_at, s.updated_at, \
    (SELECT json_array(m.hash, m.width, m.height, m.color) FROM media m WHERE m.hash = s.cover_hash), s.cover_pending IS NOT NULL";

/// How many columns [`STORY_COLUMNS`] selects.
pub const STORY_COLUMN_COUNT: i32 = 11;

/// Maps a row selected with [`STORY_COLUMNS`].
pub fn story_from_row(r: &Row) -> Result<Story, SqlError> {
    let status: String = r.get(3)?;
    let tags: String = r.get(4)?;
    Ok(Story {
        id: r.get(0)?,
        title: r.get(1)?,
        summary: r.get(2)?,
        status: StoryStatus::parse(&status).ok_or(SqlError::InvalidColumnType)?,
        tags: serde_json::from_str(&tags).map_err(|_| SqlError::InvalidColumnType)?,
        node_count: r.get(5)?,
        word_count: r.get(6)?,
        created_at: to_rfc3339(r.get(7)?),
        updated_at: to_rfc3339(r.get(8)?),
        cover: match r.get::<Option<String>>(9)? {
            Some(json) => Some(cover_from_json(&json).ok_or(SqlError::InvalidColumnType)?),
            None => None,
        },
        cover_pending: r.get(10)?,
    })
}

/// A cover from the `[hash, width, height, color]` array [`STORY_COLUMNS`] selects.
fn cover_from_json(json: &str) -> Option<Cover> {
    let (hash, width, height, color): (String, u32, u32, String) =
        serde_json::from_str(json).ok()?;
    Some(Cover {
        hash,
        width,
        height,
        color,
    })
}

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
        })
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

/// One page of the list.
pub async fn list(store: &Store, query: &StoryQuery) -> Result<StoryPage, ApiError> {
    let (col, desc) = sort_sql(query.sort);
    let limit = query.limit.map_or(50, Limit::get);
    let mut conditions: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
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

/// One story.
pub async fn get(store: &Store, id: &Id) -> Result<Story, ApiError> {
    let conn = store.read().await?;
    find(&conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("story", id.as_str()))
}

async fn find(conn: &Conn, id: &Id) -> Result<Option<Story>, ApiError> {
    Ok(conn
        .query_opt(
            "story.by_id",
            &format!("SELECT {STORY_COLUMNS} FROM stories s WHERE s.id = ?1"),
            [id.as_str()],
            story_from_row,
        )
        .await?)
}

/// Creates a story.
pub async fn create(store: &Store, input: &NewStory) -> Result<Story, ApiError> {
    let title = Title::parse("title", &input.title)?;
    let summary = ShortText::summary(input.summary.as_deref().unwrap_or(""))?;
    let status = input.status.unwrap_or(StoryStatus::Draft);
    let tags = Tags::parse(input.tags.as_deref().unwrap_or(&[]))?;
    let id = super::new_id();
    let now = now_micros();
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    insert_story(&tx, &id, &title, &summary, status, &tags, now).await?;
    tx.commit().await?;
    Ok(Story {
        id,
        title: title.as_str().to_owned(),
        summary: summary.as_str().to_owned(),
        status,
        tags: tags.as_slice().to_vec(),
        node_count: 0,
        word_count: 0,
        created_at: to_rfc3339(now),
        updated_at: to_rfc3339(now),
        cover: None,
        cover_pending: false,
    })
}

/// Inserts a story row and its tags inside `tx` (also used by imports and demo data).
pub(crate) async fn insert_story(
    tx: &WriteTx<'_>,
    id: &str,
    title: &Title,
    summary: &ShortText,
    status: StoryStatus,
    tags: &Tags,
    at: i64,
) -> Result<(), ApiError> {
    let tags_json = serde_json::to_string(tags.as_slice()).expect("strings serialise");
    tx.execute(
        "story.insert",
        "INSERT INTO stories (id, title, summary, status, tags, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            id,
            title.as_str(),
            summary.as_str(),
            status.as_str(),
            tags_json,
            at
        ],
    )
    .await?;
    for tag in tags.as_slice() {
        tx.execute(
            "story.tag_insert",
            "INSERT INTO story_tags (tag, story_id) VALUES (?1, ?2)",
            params![tag.as_str(), id],
        )
        .await?;
    }
    Ok(())
}

/// Applies a patch; 409 if the client's `updated_at` is older than the story's.
pub async fn update(store: &Store, id: &Id, patch: &StoryPatch) -> Result<Story, ApiError> {
    let title = patch
        .title
        .as_deref()
        .map(|t| Title::parse("title", t))
        .transpose()?;
    let summary = patch
        .summary
        .as_deref()
        .map(ShortText::summary)
        .transpose()?;
    let tags = patch.tags.as_deref().map(Tags::parse).transpose()?;
    let seen = patch
        .updated_at
        .as_deref()
        .map(|t| parse_rfc3339("updated_at", t))
        .transpose()?;
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    let current = tx
        .query_opt(
            "story.updated_at",
            "SELECT updated_at FROM stories WHERE id = ?1",
            [id.as_str()],
            |r| r.get::<i64>(0),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("story", id.as_str()))?;
    if let Some(seen) = seen
        && seen < current
    {
        return Err(ApiError::conflict(format!(
            "the story was changed at {} after the version you edited ({}); reload it and apply your edit again",
            to_rfc3339(current),
            to_rfc3339(seen)
        )));
    }
    let tags_json = tags
        .as_ref()
        .map(|t| serde_json::to_string(t.as_slice()).expect("strings serialise"));
    tx.execute(
        "story.update",
        "UPDATE stories SET title = COALESCE(?2, title), summary = COALESCE(?3, summary),
             status = COALESCE(?4, status), tags = COALESCE(?5, tags), updated_at = ?6
         WHERE id = ?1",
        params![
            id.as_str(),
            title.as_ref().map(|t| t.as_str().to_owned()),
            summary.as_ref().map(|s| s.as_str().to_owned()),
            patch.status.map(StoryStatus::as_str),
            tags_json,
            next_after(current)
        ],
    )
    .await?;
    if let Some(tags) = &tags {
        tx.execute(
            "story.tags_clear",
            "DELETE FROM story_tags WHERE story_id = ?1",
            [id.as_str()],
        )
        .await?;
        for tag in tags.as_slice() {
            tx.execute(
                "story.tag_insert",
                "INSERT INTO story_tags (tag, story_id) VALUES (?1, ?2)",
                params![tag.as_str(), id.as_str()],
            )
            .await?;
        }
    }
    let story = find(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("story", id.as_str()))?;
    tx.commit().await?;
    Ok(story)
}

/// Deletes a story with its whole tree.
pub async fn delete(store: &Store, id: &Id) -> Result<Deleted, ApiError> {
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    let nodes = tx
        .query_opt(
            "story.node_count",
            "SELECT node_count FROM stories WHERE id = ?1",
            [id.as_str()],
            |r| r.get::<u32>(0),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("story", id.as_str()))?;
    tx.execute(
        "story.delete",
        "DELETE FROM stories WHERE id = ?1",
        [id.as_str()],
    )
    .await?;
    super::media::collect_unused(&tx).await?;
    tx.commit().await?;
    Ok(Deleted {
        id: id.as_str().to_owned(),
        story_id: id.as_str().to_owned(),
        nodes_deleted: nodes,
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
