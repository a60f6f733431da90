//! The admin gate: `/api/admin/*` requires `Authorization: Bearer <AION_ADMIN_TOKEN>`.
//!
//! Without a configured token every admin endpoint answers 401, so a fresh install exposes
//! no maintenance operations by accident. The comparison takes the same time however much of
//! the token matches.

use axum::{
    extract::FromRequestParts,
    http::{header::AUTHORIZATION, request::Parts},
    response::Response,
};

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
        let Some(expected) = state.config().admin_token.as_deref() else {
            return Err(deny(
                "admin endpoints are closed: the server has no AION_ADMIN_TOKEN",
            ));
        };
        let given = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            Ok(Admin)
        } else {
            Err(deny("send Authorization: Bearer <AION_ADMIN_TOKEN>"))
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff));
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_compare_exactly() {
        use super::constant_time_eq as eq;
        assert!(eq(b"secret", b"secret"));
        assert!(!eq(b"secret", b"secreT"));
        assert!(!eq(b"secret", b"secret2"));
        assert!(!eq(b"", b"secret"));
    }
}
