//! Stories in SQL: create, read, update, delete; the list with its filters and search is
//! [`super::story_list`].
//!
//! Inputs arrive parsed (see `model::fields`); every value reaches SQL as a bound parameter.

use server::store::{Conn, Row, SqlError, Store, WriteTx, params};

use crate::backend::time::{next_after, now_micros, parse_rfc3339, to_rfc3339};
use crate::model::{
    ApiError, Cover, Deleted, NewStory, Story, StoryPatch, StoryStatus, Visibility,
    fields::{Id, ShortText, Tags, Title},
};

/// The columns every story query selects, in [`story_from_row`]'s order.
/// The cover comes from `media` by primary key (a subquery, so that every query keeps its
/// single-table plan).
pub const STORY_COLUMNS: &str = "s.id, s.title, s.summary, s.status, s.tags, s.node_count, s.word_count, s.created_at, s.updated_at, \
    (SELECT json_array(m.hash, m.width, m.height, m.color) FROM media m WHERE m.hash = s.cover_hash), s.cover_pending IS NOT NULL, \
    (SELECT a.handle FROM accounts a WHERE a.id = s.owner_id), s.visibility";

/// How many columns [`STORY_COLUMNS`] selects.
pub const STORY_COLUMN_COUNT: i32 = 13;

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
        owner: r.get::<Option<String>>(11)?.unwrap_or_default(),
        visibility: Visibility::parse(&r.get::<String>(12)?).ok_or(SqlError::InvalidColumnType)?,
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

/// Creates a story owned by the account `owner` (private unless `input` says otherwise).
pub async fn create(store: &Store, owner: &str, input: &NewStory) -> Result<Story, ApiError> {
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    let story = create_in(&tx, owner, input).await?;
    tx.commit().await?;
    Ok(story)
}

/// [`create`] inside a transaction of the caller's (an import writes the story, its tree
/// and its cover in one).
pub(crate) async fn create_in(
    tx: &WriteTx<'_>,
    owner: &str,
    input: &NewStory,
) -> Result<Story, ApiError> {
    let title = Title::parse("title", &input.title)?;
    let summary = ShortText::summary(input.summary.as_deref().unwrap_or(""))?;
    let status = input.status.unwrap_or(StoryStatus::Draft);
    let tags = Tags::parse(input.tags.as_deref().unwrap_or(&[]))?;
    let id = crate::backend::new_id();
    let now = now_micros();
    let visibility = input.visibility.unwrap_or(Visibility::Private);
    let new = NewRow {
        id: &id,
        owner,
        visibility,
        title: &title,
        summary: &summary,
        status,
        tags: &tags,
        at: now,
    };
    insert_story(tx, &new).await?;
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
        owner: String::new(),
        visibility,
    })
}

/// A story row to insert.
struct NewRow<'a> {
    id: &'a str,
    owner: &'a str,
    visibility: Visibility,
    title: &'a Title,
    summary: &'a ShortText,
    status: StoryStatus,
    tags: &'a Tags,
    at: i64,
}

/// Inserts a story row and its tags inside `tx`.
async fn insert_story(tx: &WriteTx<'_>, new: &NewRow<'_>) -> Result<(), ApiError> {
    let NewRow { id, tags, at, .. } = *new;
    let tags_json = serde_json::to_string(tags.as_slice()).map_err(|_| ApiError::internal())?;
    tx.execute(
        "story.insert",
        "INSERT INTO stories (id, title, summary, status, tags, created_at, updated_at, owner_id, visibility)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)",
        params![
            id,
            new.title.as_str(),
            new.summary.as_str(),
            new.status.as_str(),
            tags_json,
            at,
            new.owner,
            new.visibility.as_str()
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
             status = COALESCE(?4, status), tags = COALESCE(?5, tags), updated_at = ?6,
             visibility = COALESCE(?7, visibility)
         WHERE id = ?1",
        params![
            id.as_str(),
            title.as_ref().map(|t| t.as_str().to_owned()),
            summary.as_ref().map(|s| s.as_str().to_owned()),
            patch.status.map(StoryStatus::as_str),
            tags_json,
            next_after(current),
            patch.visibility.map(Visibility::as_str)
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
    crate::backend::media::collect_unused(&tx).await?;
    tx.commit().await?;
    Ok(Deleted {
        id: id.as_str().to_owned(),
        story_id: id.as_str().to_owned(),
        nodes_deleted: nodes,
    })
}
