//! Stories as they travel over the wire, and the bodies that create and change them.

use serde::{Deserialize, Serialize};

use super::Cover;

/// Where a story is in its life: `draft`, `in_progress`, `completed` or `archived` on the
/// wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoryStatus {
    /// Being written, not yet shown as finished.
    Draft,
    /// Published in parts; more to come.
    InProgress,
    /// Finished.
    Completed,
    /// Kept but hidden from the default list.
    Archived,
}

impl StoryStatus {
    /// Every status, in the order the UI lists them.
    pub const ALL: [StoryStatus; 4] = [
        Self::Draft,
        Self::InProgress,
        Self::Completed,
        Self::Archived,
    ];

    /// The wire (and database) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Archived => "archived",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::InProgress => "In progress",
            Self::Completed => "Completed",
            Self::Archived => "Archived",
        }
    }
}

// Written by hand rather than derived: serde's derived enum code costs the client bytes.
wire_name!(StoryStatus, "story status", StoryStatus::ALL, |s| {
    StoryStatus::parse(&s)
});

/// A story: `{"id","title","summary","status","tags","node_count","word_count","created_at","updated_at","cover"?,"cover_pending"?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Story {
    /// Opaque, sortable id (UUIDv7).
    pub id: String,
    /// 1-200 characters.
    pub title: String,
    /// Free text, possibly empty.
    pub summary: String,
    /// Life-cycle status.
    pub status: StoryStatus,
    /// Labels for filtering.
    pub tags: Vec<String>,
    /// Nodes in the story's tree.
    pub node_count: u32,
    /// Words in all nodes (each CJK character counts as one word).
    pub word_count: u32,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; changes on every edit of the story or its nodes.
    pub updated_at: String,
    /// The cover shown, once its variants exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<Cover>,
    /// A new cover was uploaded and its variants are being made; until then `cover` is
    /// the previous one (or none).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cover_pending: bool,
    /// The owner's handle. (Not in the client's build: its pages do not show it, and each
    /// field decoded there costs the bundle; the sharing panel is rendered on the server.)
    #[cfg(feature = "server")]
    #[serde(default)]
    pub owner: String,
    /// Who may read it (server build only, as `owner`).
    #[cfg(feature = "server")]
    #[serde(default)]
    pub visibility: super::Visibility,
}

/// One page of stories: `{"items":[Story...],"next_cursor":string|null,"total"?:number}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StoryPage {
    /// The stories of this page.
    pub items: Vec<Story>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many stories match the filters; on pages requested without a cursor only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// Body of `POST /api/stories`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStory {
    /// Required, 1-200 characters.
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 200,
            pattern = "^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$"
        )
    )]
    pub title: String,
    /// Optional, up to 2,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Optional, default `draft`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StoryStatus>,
    /// Optional, up to 20 tags of 1-40 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Optional, default `private` (server build only: the client creates private stories).
    #[cfg(feature = "server")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<super::Visibility>,
}

/// Body of `PATCH /api/stories/{id}`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StoryPatch {
    /// New title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// New summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// New status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StoryStatus>,
    /// New tags (replace the old ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// New visibility (the owner only; server build only: the client changes it through
    /// the sharing panel's form).
    #[cfg(feature = "server")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<super::Visibility>,
    /// The `updated_at` the client last saw; if the story changed since, the edit is refused
    /// with 409 instead of overwriting someone else's change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// Sort orders of the story list; anything else is a 400.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StorySort {
    /// Most recently changed first (default).
    #[default]
    UpdatedDesc,
    /// Least recently changed first.
    UpdatedAsc,
    /// Newest first.
    CreatedDesc,
    /// Oldest first.
    CreatedAsc,
    /// By title, A to Z.
    TitleAsc,
    /// By title, Z to A.
    TitleDesc,
}

impl StorySort {
    /// Every sort order.
    pub const ALL: [StorySort; 6] = [
        Self::UpdatedDesc,
        Self::UpdatedAsc,
        Self::CreatedDesc,
        Self::CreatedAsc,
        Self::TitleAsc,
        Self::TitleDesc,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UpdatedDesc => "updated_desc",
            Self::UpdatedAsc => "updated_asc",
            Self::CreatedDesc => "created_desc",
            Self::CreatedAsc => "created_asc",
            Self::TitleAsc => "title_asc",
            Self::TitleDesc => "title_desc",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::UpdatedDesc => "Recently updated",
            Self::UpdatedAsc => "Least recently updated",
            Self::CreatedDesc => "Newest",
            Self::CreatedAsc => "Oldest",
            Self::TitleAsc => "Title A-Z",
            Self::TitleDesc => "Title Z-A",
        }
    }
}
