//! Who a request comes from, for what is private to one client: its tasks and their
//! results, its notifications, its live events.
//!
//! AION has no accounts, so a client is an anonymous session: a 128-bit random secret in an
//! `HttpOnly`, `SameSite=Lax` cookie, made the first time a client starts something
//! private. The database never holds the secret, only its SHA-256 (the task's owner), so a
//! copy of the database (a backup) cannot be used to act as anyone. An operator with the
//! admin token sees everything.

use std::convert::Infallible;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, header, request::Parts},
};
use dioxus::fullstack::FullstackContext;
use sha2::{Digest, Sha256};

use super::{AppState, admin};

/// The session cookie's name.
pub const COOKIE: &str = "aion_session";

/// How long a browser keeps the session (a year; every new session starts empty).
const MAX_AGE_SECS: u64 = 365 * 24 * 3600;

/// The owner value stored with a client's tasks and notifications: hex SHA-256 of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner(String);

impl Owner {
    fn of_secret(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        let mut hex = String::with_capacity(64);
        for b in digest {
            hex.push_str(&format!("{b:02x}"));
        }
        Self(hex)
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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
}

impl Session {
    /// The owner to store with what this client starts.
    pub fn owner(&self) -> &Owner {
        &self.owner
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
            });
        }
        let (owner, cookie) = new_session();
        // Server functions (and server rendering) send the headers collected here with the
        // response; a plain axum handler has no context and uses `new_session` itself.
        match (FullstackContext::current(), cookie) {
            (Some(ctx), Some(value)) => ctx.add_response_header(header::SET_COOKIE, value),
            _ => tracing::warn!("a session was made where no cookie can be sent"),
        }
        Ok(Self { owner, operator })
    }
}

/// A new session: its owner and the `Set-Cookie` value that gives the client its secret.
pub fn new_session() -> (Owner, Option<HeaderValue>) {
    let secret = uuid::Uuid::new_v4().simple().to_string();
    let cookie =
        format!("{COOKIE}={secret}; Path=/; Max-Age={MAX_AGE_SECS}; HttpOnly; SameSite=Lax");
    (
        Owner::of_secret(&secret),
        HeaderValue::from_str(&cookie).ok(),
    )
}

/// The owner of the session whose cookie `headers` carry, if any.
pub fn owner_in(headers: &HeaderMap) -> Option<Owner> {
    secret_in(headers).map(Owner::of_secret)
}

/// The session secret in the request's cookies, if it has the right form (32 hex digits).
fn secret_in(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(cookie).expect("ascii"),
        );
        h
    }

    #[test]
    fn the_secret_is_read_only_in_its_exact_form() {
        let good = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            secret_in(&headers(&format!("a=b; {COOKIE}={good}"))),
            Some(good)
        );
        assert_eq!(secret_in(&headers(&format!("{COOKIE}=short"))), None);
        assert_eq!(secret_in(&headers(&format!("{COOKIE}={good}x"))), None);
        assert_eq!(secret_in(&headers("other=1")), None);
    }

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
