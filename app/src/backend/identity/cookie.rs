//! The anonymous session's cookie: a 128-bit random secret in an `HttpOnly`,
//! `SameSite=Lax` cookie, made the first time a client starts something private, and the
//! [`Owner`] stored with what the client starts: the SHA-256 of the secret, never the secret,
//! so a copy of the database (a backup) cannot be used to act as anyone.

use axum::http::{HeaderMap, HeaderValue, header};
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const COOKIE: &str = "aion_session";

/// How long a browser keeps the session (a year; every new session starts empty).
const MAX_AGE_SECS: u64 = 365 * 24 * 3600;

/// The owner value stored with a client's tasks and notifications: hex SHA-256 of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner(String);

impl Owner {
    pub(super) fn of_secret(secret: &str) -> Self {
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
pub(super) fn secret_in(headers: &HeaderMap) -> Option<&str> {
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
}
