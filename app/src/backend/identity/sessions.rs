//! Signed-in sessions, kept in the store so every instance sees them (no sticky sessions)
//! and read through the tiered cache (`user_session` policy, 2 h), so a signed-in request
//! costs no database read when warm.
//!
//! A session is keyed by the SHA-256 of its cookie's token. It ends after [`IDLE`] without
//! a request or [`ABSOLUTE`] after sign-in, whichever comes first; signing out, revoking it
//! from the sessions list, signing out everywhere and changing the password delete rows and
//! invalidate their `session:{hash}` tags on every instance (through Redis
//! when several run), so an ended session stops working everywhere within the
//! invalidation's delay. `last_seen` is written at most every [`TOUCH_EVERY`] per session.

use std::{sync::Arc, time::Duration};

use axum::http::HeaderValue;
use serde::{Deserialize, Serialize};

use super::{
    accounts::AccountRow,
    cookie::{account_cookie, hint_cookie, new_token, token_hash},
};
use crate::backend::{
    AppState,
    cache::{Key, session_tag},
    time::{now_micros, to_rfc3339},
};
use crate::model::{ApiError, SessionList, SessionView};

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(14 * 24 * 3600);
/// And this long after sign-in in any case.
pub const ABSOLUTE: Duration = Duration::from_secs(30 * 24 * 3600);
/// `last_seen` is written at most this often.
pub const TOUCH_EVERY: Duration = Duration::from_secs(5 * 60);
/// Longest device description kept.
const DEVICE_MAX: usize = 120;

fn micros(d: Duration) -> i64 {
    d.as_micros() as i64
}

/// A signed-in session and its account, as cached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    /// SHA-256 of the token (the store's key).
    pub token_hash: String,
    /// What the sessions list shows.
    pub public_id: String,
    /// Whose.
    pub account: AccountRow,
    /// Microseconds.
    pub created_at: i64,
    /// Microseconds, to within [`TOUCH_EVERY`].
    pub last_seen: i64,
    /// Absolute expiry, microseconds.
    pub expires_at: i64,
}

impl SignedIn {
    fn expired(&self, now: i64) -> bool {
        now >= self.expires_at || now >= self.last_seen + micros(IDLE)
    }
}

/// A new session: the cookies that carry its token (and the hint for scripts that one is
/// set), and the session.
pub struct NewSession {
    /// `Set-Cookie` values.
    pub cookies: Vec<HeaderValue>,
    /// As stored.
    pub session: SignedIn,
}

impl AppState {
    /// Starts a session for `account` from `device` (its User-Agent).
    pub async fn start_session(
        &self,
        account: &AccountRow,
        device: &str,
    ) -> Result<NewSession, ApiError> {
        let token = new_token();
        let now = now_micros();
        let device: String = device.chars().take(DEVICE_MAX).collect();
        let session = SignedIn {
            token_hash: token_hash(&token),
            public_id: crate::backend::new_id(),
            account: account.clone(),
            created_at: now,
            last_seen: now,
            expires_at: now + micros(ABSOLUTE),
        };
        let writer = self.store().write().await?;
        writer
            .execute(
                "session.insert",
                "INSERT INTO account_sessions (id, public_id, account_id, created_at, last_seen, expires_at, device)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)",
                (
                    session.token_hash.as_str(),
                    session.public_id.as_str(),
                    account.id.as_str(),
                    now,
                    session.expires_at,
                    device.as_str(),
                ),
            )
            .await?;
        drop(writer);
        let secure = self.config().cookie_secure;
        let cookies = [
            account_cookie(&token, secure, ABSOLUTE.as_secs()),
            hint_cookie(secure, ABSOLUTE.as_secs()),
        ]
        .into_iter()
        .flatten()
        .collect();
        Ok(NewSession { cookies, session })
    }

    /// The live session whose token this is, through the cache; `None` for an unknown,
    /// ended or expired one.
    pub async fn session_of_token(&self, token: &str) -> Result<Option<Arc<SignedIn>>, ApiError> {
        let hash = token_hash(token);
        let store = self.store();
        let found = self
            .cached(Key::session(&hash), &[session_tag(&hash)], || async {
                match load(store, &hash).await? {
                    Some(s) => Ok(Arc::new(s)),
                    None => Err(ApiError::not_found("session", "")),
                }
            })
            .await;
        let session = match found {
            Ok(s) => s,
            Err(e) if e.code() == crate::model::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let now = now_micros();
        if session.expired(now) {
            self.end_session(&hash).await?;
            return Ok(None);
        }
        if now - session.last_seen >= micros(TOUCH_EVERY) {
            self.touch(&session, now).await;
        }
        Ok(Some(session))
    }

    /// Records that the session was used; its cached copy here is dropped so the next
    /// request reads the new time (other instances touch it on their own).
    async fn touch(&self, session: &SignedIn, now: i64) {
        let touched = async {
            let writer = self.store().write().await?;
            writer
                .execute(
                    "session.touch",
                    "UPDATE account_sessions SET last_seen = ?2 WHERE id = ?1",
                    (session.token_hash.as_str(), now),
                )
                .await
        };
        if let Err(e) = touched.await {
            tracing::warn!("recording a session's last use failed: {e}");
        }
        self.invalidate_tags(&[&session_tag(&session.token_hash)]);
    }

    /// Ends the session with this token hash, everywhere.
    pub async fn end_session(&self, hash: &str) -> Result<(), ApiError> {
        let writer = self.store().write().await?;
        writer
            .execute(
                "session.delete",
                "DELETE FROM account_sessions WHERE id = ?1",
                [hash],
            )
            .await?;
        drop(writer);
        self.invalidate_everywhere(&[&session_tag(hash)]).await;
        Ok(())
    }

    /// Ends every session of `account_id` but `keep` (a token hash), everywhere.
    pub async fn end_sessions(&self, account_id: &str, keep: Option<&str>) -> Result<(), ApiError> {
        let mut writer = self.store().write().await?;
        let tx = writer.begin().await?;
        let ended = tx
            .query(
                "session.of_account",
                "SELECT id FROM account_sessions WHERE account_id = ?1 AND id IS NOT ?2",
                (account_id, keep),
                |r| r.get::<String>(0),
            )
            .await?;
        tx.execute(
            "session.delete_all",
            "DELETE FROM account_sessions WHERE account_id = ?1 AND id IS NOT ?2",
            (account_id, keep),
        )
        .await?;
        tx.commit().await?;
        drop(writer);
        let tags: Vec<String> = ended.iter().map(|h| session_tag(h)).collect();
        let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
        self.invalidate_everywhere(&tags).await;
        Ok(())
    }

    /// Ends the session `public_id` of `account_id` (404 if it has none by that id).
    pub async fn revoke_session(&self, account_id: &str, public_id: &str) -> Result<(), ApiError> {
        let reader = self.store().read().await?;
        let hash = reader
            .query_opt(
                "session.by_public_id",
                "SELECT id FROM account_sessions WHERE public_id = ?1 AND account_id = ?2",
                (public_id, account_id),
                |r| r.get::<String>(0),
            )
            .await?;
        drop(reader);
        match hash {
            Some(hash) => self.end_session(&hash).await,
            None => Err(ApiError::not_found("session", public_id)),
        }
    }

    /// The live sessions of `account_id`, newest first; `current` is this request's.
    pub async fn sessions_of(
        &self,
        account_id: &str,
        current: &str,
    ) -> Result<SessionList, ApiError> {
        let now = now_micros();
        let reader = self.store().read().await?;
        let sessions = reader
            .query(
                "session.list",
                "SELECT public_id, device, created_at, last_seen, id FROM account_sessions
                 WHERE account_id = ?1 AND expires_at > ?2 AND last_seen > ?3
                 ORDER BY created_at DESC LIMIT 100",
                (account_id, now, now - micros(IDLE)),
                |r| {
                    Ok(SessionView {
                        id: r.get(0)?,
                        device: r.get(1)?,
                        created_at: to_rfc3339(r.get(2)?),
                        last_seen: to_rfc3339(r.get(3)?),
                        current: r.get::<String>(4)? == current,
                    })
                },
            )
            .await?;
        Ok(SessionList { sessions })
    }
}

async fn load(store: &server::store::Store, hash: &str) -> Result<Option<SignedIn>, ApiError> {
    let reader = store.read().await?;
    let row = reader
        .query_opt(
            "session.get",
            "SELECT s.public_id, s.created_at, s.last_seen, s.expires_at,
                    a.id, a.handle, a.roles, a.created_at
             FROM account_sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.id = ?1",
            [hash],
            |r| {
                let roles: String = r.get(6)?;
                Ok(SignedIn {
                    token_hash: hash.to_owned(),
                    public_id: r.get(0)?,
                    created_at: r.get(1)?,
                    last_seen: r.get(2)?,
                    expires_at: r.get(3)?,
                    account: AccountRow {
                        id: r.get(4)?,
                        handle: r.get(5)?,
                        roles: serde_json::from_str(&roles)
                            .map_err(|_| server::store::SqlError::InvalidColumnType)?,
                        created_at: r.get(7)?,
                    },
                })
            },
        )
        .await?;
    Ok(row)
}
