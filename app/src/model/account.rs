//! Writers' accounts as the API shows them: the account, its sessions, the story's
//! visibility and its collaborators. The rules (who may do what) are the server's
//! (`backend::identity`, `backend::library::access`); these are the shapes on the wire.

use serde::{Deserialize, Serialize};

/// `GET /api/me`, and the answer of sign-up and sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Account {
    /// As the writer typed it at sign-up; unique without regard to case.
    pub handle: String,
    /// `admin` for operators; empty for writers.
    pub roles: Vec<String>,
    /// RFC 3339.
    pub created_at: String,
}

impl Account {
    /// Whether this account may do anything.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == "admin")
    }
}

/// Body of sign-up and sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Credentials {
    /// 3-32 letters (any script), digits, `_`, `-` or `.`.
    #[cfg_attr(feature = "server", schema(min_length = 3, max_length = 32))]
    pub handle: String,
    /// 10-256 characters.
    #[cfg_attr(feature = "server", schema(min_length = 10, max_length = 256))]
    pub password: String,
}

/// Body of `POST /api/account/password`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    /// The password now.
    pub current: String,
    /// The new one (10-256 characters).
    pub new: String,
}

/// One signed-in session of the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// What `DELETE /api/account/sessions/{id}` names (not the cookie's token).
    pub id: String,
    /// The browser or client it signed in from (its User-Agent, shortened).
    pub device: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, to within a few minutes.
    pub last_seen: String,
    /// The session of this request.
    pub current: bool,
}

/// `GET /api/account/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SessionList {
    /// Newest first.
    pub sessions: Vec<SessionView>,
}

/// `GET /api/account`: the account page's data; no account when signed out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AccountPage {
    /// The signed-in account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    /// Its live sessions, newest first.
    #[serde(default)]
    pub sessions: Vec<SessionView>,
    /// Its passkeys, oldest first.
    #[serde(default)]
    pub passkeys: Vec<PasskeyView>,
    /// Why passkeys are off on this server, if they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkeys_unavailable: Option<String>,
}

/// One of the account's passkeys (`GET /api/account/passkeys`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PasskeyView {
    /// What `DELETE /api/account/passkeys/{id}` names.
    pub id: String,
    /// As the writer named it ("Passkey" unless named).
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; `null` before its first sign-in.
    pub last_used: Option<String>,
}

/// Who may read a story.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Its owner and collaborators only: not in others' lists, search or caches.
    Private,
    /// Anyone.
    #[default]
    Public,
}

impl Visibility {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Public => "public",
        }
    }

    /// The visibility named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "private" => Some(Self::Private),
            "public" => Some(Self::Public),
            _ => None,
        }
    }
}

wire_name!(
    Visibility,
    "visibility",
    [Visibility::Private, Visibility::Public],
    |s| Visibility::parse(&s)
);

/// What a collaborator may do with a story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CollaboratorRole {
    /// Edit its nodes, cover and title.
    Editor,
    /// Read it while it is private.
    Viewer,
}

impl CollaboratorRole {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }

    /// The role named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "editor" => Some(Self::Editor),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }
}

wire_name!(
    CollaboratorRole,
    "role",
    [CollaboratorRole::Editor, CollaboratorRole::Viewer],
    |s| CollaboratorRole::parse(&s)
);

/// Body of `PUT /api/stories/{id}/collaborators/{handle}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ShareRequest {
    /// `editor` or `viewer`.
    pub role: CollaboratorRole,
}

/// One collaborator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Collaborator {
    /// Their handle.
    pub handle: String,
    /// What they may do.
    pub role: CollaboratorRole,
}

/// `GET /api/stories/{id}/collaborators`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Collaborators {
    /// The owner's handle.
    pub owner: String,
    /// Everyone the owner shared the story with, by handle.
    pub collaborators: Vec<Collaborator>,
}

/// Which stories the list shows (`scope` of `GET /api/stories`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum StoryScope {
    /// Public stories, and the caller's own when signed in (the default).
    #[default]
    Default,
    /// Public stories only: the same answer for everyone.
    Public,
    /// The caller's own stories, private ones included.
    Mine,
    /// Stories others shared with the caller.
    Shared,
}

impl StoryScope {
    /// The wire name (`""` for the default).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "",
            Self::Public => "public",
            Self::Mine => "mine",
            Self::Shared => "shared",
        }
    }

    /// The scope named `s` (`None`: not a scope).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" => Some(Self::Default),
            "public" => Some(Self::Public),
            "mine" => Some(Self::Mine),
            "shared" => Some(Self::Shared),
            _ => None,
        }
    }
}
