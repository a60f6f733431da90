//! The caller of a request: a signed-in writer, an anonymous session, or an operator with
//! the admin token. Every endpoint gets the caller the same way, as an extractor:
//! [`Viewer`] for reads and for writes that need an account (never makes a session),
//! [`Session`] for endpoints that start something private (an anonymous session is made if
//! the client is not signed in and has none). What a caller owns (tasks, notifications) is
//! stored under its [`Owner`]: the account's when signed in.

use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{HeaderValue, header, request::Parts},
    response::Response,
};
use dioxus::fullstack::FullstackContext;

use super::{
    accounts::AccountRow,
    admin,
    cookie::{Owner, account_token_in, new_session, secret_in},
    sessions::SignedIn,
};
use crate::backend::AppState;
use crate::model::ApiError;

/// Whose private things (tasks, notifications) a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sees {
    /// Everyone's: operators and admins.
    All,
    /// Those stored under this owner.
    Own(Owner),
    /// None: no session.
    Nothing,
}

/// Who is asking: never creates a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// The admin token: may do anything.
    Operator,
    /// A signed-in writer (an admin account may do anything).
    Writer(Arc<SignedIn>),
    /// An anonymous client with a session: its own tasks.
    Client(Owner),
    /// No session yet: public reads only.
    Nobody,
}

impl Viewer {
    /// Whether this viewer may see something owned by `owner` (`None`: operators only).
    pub fn can_see(&self, owner: Option<&str>) -> bool {
        match self {
            Self::Operator => true,
            Self::Writer(s) if s.account.is_admin() => true,
            Self::Writer(s) => owner == Some(s.account.owner().as_str()),
            Self::Client(me) => owner == Some(me.as_str()),
            Self::Nobody => false,
        }
    }

    /// Whose tasks and notifications this caller sees.
    pub fn sees(&self) -> Sees {
        match self {
            Self::Operator => Sees::All,
            Self::Writer(s) if s.account.is_admin() => Sees::All,
            Self::Writer(s) => Sees::Own(s.account.owner()),
            Self::Client(me) => Sees::Own(me.clone()),
            Self::Nobody => Sees::Nothing,
        }
    }

    /// The signed-in account, if any.
    pub fn account(&self) -> Option<&AccountRow> {
        match self {
            Self::Writer(s) => Some(&s.account),
            _ => None,
        }
    }

    /// The signed-in account, or 401 for anyone else.
    pub fn signed_in(&self) -> Result<&Arc<SignedIn>, ApiError> {
        match self {
            Self::Writer(s) => Ok(s),
            _ => Err(ApiError::unauthenticated()),
        }
    }

    /// The admin token, or an account with the admin role.
    pub fn is_admin(&self) -> bool {
        match self {
            Self::Operator => true,
            Self::Writer(s) => s.account.is_admin(),
            _ => false,
        }
    }

    /// Who this caller is, from its headers: the admin token first, then the sign-in
    /// cookie (an unknown or ended session counts as none), then the anonymous session.
    pub async fn of(parts: &Parts) -> Result<Self, ApiError> {
        let Some(state) = parts.extensions.get::<AppState>() else {
            return Ok(Self::Nobody);
        };
        if admin::is_admin(&parts.headers, state) {
            return Ok(Self::Operator);
        }
        if let Some(token) = account_token_in(&parts.headers, state.config().cookie_secure)
            && let Some(session) = state.session_of_token(token).await?
        {
            return Ok(Self::Writer(session));
        }
        Ok(match secret_in(&parts.headers) {
            Some(secret) => Self::Client(Owner::of_secret(secret)),
            None => Self::Nobody,
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        if let Some(known) = parts.extensions.get::<Viewer>() {
            return Ok(known.clone());
        }
        let viewer = Self::of(parts).await?;
        parts.extensions.insert(viewer.clone());
        Ok(viewer)
    }
}

/// The client's session, made (and sent as a cookie with the response) if it has none: for
/// endpoints that start something private or follow it live.
#[derive(Debug, Clone)]
pub struct Session {
    owner: Owner,
    /// Who is asking.
    viewer: Viewer,
    /// What an admin unlock is remembered by, when the request names it (see
    /// `admin::admin_key`).
    admin_key: Option<String>,
    /// The cookie of a session made by this request, for a plain axum handler to send
    /// ([`Self::send_cookie`]); server functions send it themselves.
    cookie: Option<HeaderValue>,
}

impl Session {
    /// The owner to store with what this client starts.
    pub fn owner(&self) -> &Owner {
        &self.owner
    }

    /// Adds the cookie of a session this request made to a plain axum handler's response
    /// (server functions have sent it already).
    pub fn send_cookie(&self, response: &mut Response) {
        if let Some(cookie) = &self.cookie {
            response
                .headers_mut()
                .insert(header::SET_COOKIE, cookie.clone());
        }
    }

    /// Who this caller is.
    pub fn viewer(&self) -> &Viewer {
        &self.viewer
    }

    /// What an admin unlock of this browser is remembered by (see `admin::admin_key`).
    pub fn admin_key(&self) -> String {
        self.admin_key
            .clone()
            .unwrap_or_else(|| self.owner.as_str().to_owned())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, ApiError> {
        let viewer = Viewer::from_request_parts(parts, s).await?;
        let known = match &viewer {
            Viewer::Writer(signed) => Some(signed.account.owner()),
            Viewer::Client(owner) => Some(owner.clone()),
            // An operator's work belongs to its account when it is also signed in.
            Viewer::Operator => match signed_in_account(parts).await? {
                Some(owner) => Some(owner),
                None => secret_in(&parts.headers).map(Owner::of_secret),
            },
            Viewer::Nobody => None,
        };
        let admin_key = parts
            .extensions
            .get::<AppState>()
            .and_then(|state| admin::admin_key(&parts.headers, state.config().cookie_secure));
        if let Some(owner) = known {
            return Ok(Self {
                owner,
                viewer,
                admin_key,
                cookie: None,
            });
        }
        let (owner, cookie) = new_session();
        // Server functions (and server rendering) send the headers collected here with the
        // response; a plain axum handler has no context and sends it with `send_cookie`.
        let cookie = match (FullstackContext::current(), cookie) {
            (Some(ctx), Some(value)) => {
                ctx.add_response_header(header::SET_COOKIE, value);
                None
            }
            (None, cookie) => cookie,
            (Some(_), None) => None,
        };
        let viewer = match viewer {
            Viewer::Operator => Viewer::Operator,
            _ => Viewer::Client(owner.clone()),
        };
        Ok(Self {
            owner,
            viewer,
            admin_key,
            cookie,
        })
    }
}

/// The owner of the signed-in account behind the request's cookie, if any.
async fn signed_in_account(parts: &Parts) -> Result<Option<Owner>, ApiError> {
    let Some(state) = parts.extensions.get::<AppState>() else {
        return Ok(None);
    };
    let Some(token) = account_token_in(&parts.headers, state.config().cookie_secure) else {
        return Ok(None);
    };
    Ok(state
        .session_of_token(token)
        .await?
        .map(|s| s.account.owner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_hashes_and_viewers_see_only_their_own() {
        let me = Owner::of_secret("0123456789abcdef0123456789abcdef");
        assert_eq!(me.as_str().len(), 64);
        assert!(!me.as_str().contains("0123456789abcdef0123456789abcdef"));
        let viewer = Viewer::Client(me.clone());
        assert!(viewer.can_see(Some(me.as_str())));
        assert!(!viewer.can_see(Some("someone else")));
        assert!(!viewer.can_see(None));
        assert!(!Viewer::Nobody.can_see(Some(me.as_str())));
        assert!(Viewer::Operator.can_see(None));
    }
}
