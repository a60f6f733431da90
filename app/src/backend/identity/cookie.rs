//! The two cookies. The anonymous session's: a 128-bit random secret in an `HttpOnly`,
//! `SameSite=Lax` cookie, made the first time a client starts something private, and the
//! [`Owner`] stored with what the client starts: the SHA-256 of the secret, never the secret,
//! so a copy of the database (a backup) cannot be used to act as anyone. And the signed-in
//! writer's: a 256-bit random token in an `HttpOnly`, `SameSite=Lax`, `Secure` cookie named
//! `__Host-aion_account` (the prefix makes browsers refuse it from a subdomain or over plain
//! HTTP), whose SHA-256 keys the session in the store.

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
        Self(hex(&Sha256::digest(secret.as_bytes())))
    }

    /// The owner of what a signed-in account starts.
    pub fn of_account(account_id: &str) -> Self {
        Self(format!("account:{account_id}"))
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
    cookie_in(headers, COOKIE).filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The sign-in cookie's name: with the `__Host-` prefix when it is `Secure`.
pub fn account_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-aion_account"
    } else {
        "aion_account"
    }
}

/// The `Set-Cookie` value that gives a client its sign-in token for `max_age_secs` (0:
/// the cookie is removed).
pub fn account_cookie(token: &str, secure: bool, max_age_secs: u64) -> Option<HeaderValue> {
    let name = account_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={token}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// The cookie that tells the page's script a sign-in cookie was set (it cannot read that
/// one: `HttpOnly`), so the navigation offers "Account" rather than "Sign in" without
/// asking the server on every page. Not a secret: it holds `1`, the server never reads it,
/// and every decision is made on the sign-in cookie.
pub const SIGNED_IN_HINT: &str = "aion_signed_in";

/// The `Set-Cookie` value of the hint, for `max_age_secs` (0: removed).
pub fn hint_cookie(secure: bool, max_age_secs: u64) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SIGNED_IN_HINT}=1; Path=/; Max-Age={max_age_secs}; SameSite=Lax{secure}"
    ))
    .ok()
}

/// The cookie that carries what an account form action refused to the account page it
/// redirects to (`HttpOnly`; read and removed by the server rendering that page).
pub const FLASH: &str = "aion_flash";

/// The `Set-Cookie` value of the flash message (percent-encoded; empty and 0: removed).
pub fn flash_cookie(message: &str, secure: bool, max_age_secs: u64) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    let message: String = message.chars().take(200).collect();
    let message =
        percent_encoding::utf8_percent_encode(&message, percent_encoding::NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!(
        "{FLASH}={message}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// The flash message the request carries, decoded.
pub fn flash_in(headers: &HeaderMap) -> Option<String> {
    let raw = cookie_in(headers, FLASH)?;
    let text = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    Some(text.chars().take(200).collect()).filter(|t: &String| !t.is_empty())
}

/// A new sign-in token: 32 random bytes from the OS, as 64 hex digits.
pub fn new_token() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The hex SHA-256 of a token: what the store keys the session by.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The sign-in token in the request's cookies, if it has the right form (64 hex digits).
pub fn account_token_in(headers: &HeaderMap, secure: bool) -> Option<&str> {
    cookie_in(headers, account_cookie_name(secure))
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The value of the cookie `name` in the request's cookies, if it has one.
pub fn cookie_in<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim())
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
