//! The caller of a request, for what is private to one client: its tasks and their
//! results, its notifications, its live events. Every endpoint gets the caller the same
//! way, as an extractor: [`Viewer`] for reads (never makes a session), [`Session`] for
//! endpoints that start something private (makes one if the client has none). An operator
//! with the admin token sees everything.
//!
//! AION has no accounts yet, so a caller is an anonymous session ([`super::cookie`]); an
//! account will be one more kind of caller here.

use std::convert::Infallible;

use axum::{
    extract::FromRequestParts,
    http::{HeaderValue, header, request::Parts},
    response::Response,
};
use dioxus::fullstack::FullstackContext;

use super::{
    admin,
    cookie::{Owner, new_session, secret_in},
};
use crate::backend::AppState;

/// Who may see what, for reads: never creates a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// The admin token: every client's work.
    Operator,
    /// A client with a session: its own work.
    Client(Owner),
    /// No session yet: nothing private.
    Nobody,
}

impl Viewer {
    /// Whether this viewer may see something owned by `owner` (`None`: operators only).
    pub fn can_see(&self, owner: Option<&str>) -> bool {
        match self {
            Self::Operator => true,
            Self::Client(me) => owner == Some(me.as_str()),
            Self::Nobody => false,
        }
    }

    fn of(parts: &Parts) -> Self {
        if let Some(state) = parts.extensions.get::<AppState>()
            && admin::is_admin(&parts.headers, state)
        {
            return Self::Operator;
        }
        match secret_in(&parts.headers) {
            Some(secret) => Self::Client(Owner::of_secret(secret)),
            None => Self::Nobody,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self::of(parts))
    }
}

/// The client's session, made (and sent as a cookie with the response) if it has none: for
/// endpoints that start something private or follow it live.
#[derive(Debug, Clone)]
pub struct Session {
    owner: Owner,
    /// The admin token came with the request.
    operator: bool,
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

    /// What this client may see.
    pub fn viewer(&self) -> Viewer {
        if self.operator {
            Viewer::Operator
        } else {
            Viewer::Client(self.owner.clone())
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let operator = parts
            .extensions
            .get::<AppState>()
            .is_some_and(|state| admin::is_admin(&parts.headers, state));
        if let Some(secret) = secret_in(&parts.headers) {
            return Ok(Self {
                owner: Owner::of_secret(secret),
                operator,
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
        Ok(Self {
            owner,
            operator,
            cookie,
        })
    }
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
