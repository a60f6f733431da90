//! The admin gate: `/api/admin/*` requires `Authorization: Bearer <AION_ADMIN_TOKEN>`.
//!
//! Without a configured token every admin endpoint answers 401, so a fresh install exposes
//! no maintenance operations by accident. The comparison (`subtle`, over SHA-256 digests)
//! takes the same time however much of the token matches.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header::AUTHORIZATION, request::Parts},
    response::Response,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AppState, api_errors::respond};
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

/// Whether `headers` carry the configured admin token (never, if none is configured).
pub fn is_admin(headers: &HeaderMap, state: &AppState) -> bool {
    let Some(expected) = state.config().admin_token.as_deref() else {
        return false;
    };
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    tokens_match(given, expected)
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
    fn tokens_compare_exactly() {
        use super::tokens_match as eq;
        assert!(eq("secret", "secret"));
        assert!(!eq("secret", "secreT"));
        assert!(!eq("secret", "secret2"));
        assert!(!eq("", "secret"));
    }
}
