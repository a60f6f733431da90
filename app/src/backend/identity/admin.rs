//! The admin gate: `/api/admin/*` requires `Authorization: Bearer <AION_ADMIN_TOKEN>`, or
//! a browser session an operator unlocked with the token (`POST /api/admin/session`).
//!
//! Without a configured token every admin endpoint answers 401, so a fresh install exposes
//! no maintenance operations by accident. The comparison (`subtle`, over SHA-256 digests)
//! takes the same time however much of the token matches.
//!
//! Unlocked sessions ([`AdminSessions`]) live in memory only: at most [`MAX_SESSIONS`], each
//! for [`SESSION_TTL`], all gone at a restart. The session cookie is `HttpOnly` and
//! `SameSite=Lax`, so another site can neither read it nor make a browser send it with a
//! cross-site POST; admin GETs change nothing.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header::AUTHORIZATION, request::Parts},
    response::Response,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::cookie::{account_token_in, owner_in, token_hash};
use crate::backend::{AppState, http::api_errors::respond};
use crate::model::{ApiError, ErrorCode};

/// Proof that the request carried the admin token.
pub struct Admin;

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        let deny = |message: &str| respond(&ApiError::new(ErrorCode::Unauthorized, message));
        let Some(state) = parts.extensions.get::<AppState>() else {
            return Err(deny("admin endpoints are not available"));
        };
        if state.config().admin_token.is_none() {
            return Err(deny(
                "admin endpoints are closed: the server has no AION_ADMIN_TOKEN",
            ));
        }
        if is_admin(&parts.headers, state) {
            Ok(Admin)
        } else {
            Err(deny("send Authorization: Bearer <AION_ADMIN_TOKEN>"))
        }
    }
}

/// Whether `headers` carry the configured admin token, or the cookie of a session unlocked
/// with it (never, if no token is configured).
pub fn is_admin(headers: &HeaderMap, state: &AppState) -> bool {
    let Some(expected) = state.config().admin_token.as_deref() else {
        return false;
    };
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(token) => tokens_match(token, expected),
        None => admin_key(headers, state.config().cookie_secure)
            .is_some_and(|key| state.admin_sessions().contains(&key)),
    }
}

/// What an unlocked browser session is remembered by: the sign-in token's hash for a
/// signed-in browser, else its anonymous session's owner.
pub fn admin_key(headers: &HeaderMap, secure: bool) -> Option<String> {
    match account_token_in(headers, secure) {
        Some(token) => Some(format!("token:{}", token_hash(token))),
        None => owner_in(headers).map(|o| o.as_str().to_owned()),
    }
}

/// Whether `given` is the configured admin token.
pub fn is_token(given: &str, state: &AppState) -> bool {
    state
        .config()
        .admin_token
        .as_deref()
        .is_some_and(|expected| tokens_match(given, expected))
}

/// Unlocked sessions kept at most.
pub const MAX_SESSIONS: usize = 64;
/// How long an unlocked session stays unlocked.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// Sessions an operator unlocked with the admin token, by owner (the hash of the session
/// secret), with when.
#[derive(Default)]
pub struct AdminSessions(Mutex<HashMap<String, Instant>>);

impl AdminSessions {
    /// Unlocks `owner`; when full, expired sessions go first, then the oldest.
    pub fn grant(&self, owner: &str) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, at| at.elapsed() < SESSION_TTL);
        if map.len() >= MAX_SESSIONS
            && !map.contains_key(owner)
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(owner.to_owned(), Instant::now());
    }

    /// Locks `owner` again.
    pub fn revoke(&self, owner: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(owner);
    }

    /// Whether `owner` is unlocked now.
    pub fn contains(&self, owner: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(owner)
            .is_some_and(|at| at.elapsed() < SESSION_TTL)
    }
}

/// Compares digests rather than the tokens themselves, so neither the bytes nor the length
/// of the token shows in the time taken.
fn tokens_match(given: &str, expected: &str) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given.as_slice().ct_eq(expected.as_slice()).into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn unlocked_sessions_are_bounded_and_can_be_locked_again() {
        let sessions = super::AdminSessions::default();
        for i in 0..super::MAX_SESSIONS + 10 {
            sessions.grant(&format!("owner-{i}"));
        }
        let held = sessions.0.lock().map(|m| m.len()).unwrap_or_default();
        assert_eq!(held, super::MAX_SESSIONS);
        assert!(!sessions.contains("owner-0"), "the oldest made room");
        let last = format!("owner-{}", super::MAX_SESSIONS + 9);
        assert!(sessions.contains(&last));
        sessions.revoke(&last);
        assert!(!sessions.contains(&last));
    }

    #[test]
    fn tokens_compare_exactly() {
        use super::tokens_match as eq;
        assert!(eq("secret", "secret"));
        assert!(!eq("secret", "secreT"));
        assert!(!eq("secret", "secret2"));
        assert!(!eq("", "secret"));
    }
}
