//! What the account endpoints do: sign up, sign in, sign out (here or everywhere), change
//! the password, list and revoke sessions, and make an admin from the command line.
//!
//! Sign-in answers the same 401 with the same message for an unknown handle and a wrong
//! password, and costs the same (an unknown handle is checked against a dummy hash; the two
//! medians are measured side by side by `cargo xtask bench-http --only accounts`, in
//! BENCHMARKS.md).
//! Attempts are limited per handle here ([`HANDLE_LIMIT`], whether or not the handle
//! exists) and per client address by the write rate limit every POST passes.

use std::{num::NonZeroU32, sync::Arc};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::{
    Owner,
    accounts::{self, AccountRow, Handle},
    password,
    sessions::NewSession,
};
use crate::backend::AppState;
use crate::model::{ApiError, Credentials, ErrorCode, PasswordChange};

/// Sign-in and sign-up attempts per handle: 10 a minute, 5 at once.
pub const HANDLE_LIMIT: (u32, u32) = (10, 5);
/// Handles tracked by the limiter before it forgets idle ones.
const MAX_TRACKED: usize = 10_000;

/// The per-handle attempt limiter.
#[derive(Clone)]
pub struct Attempts(Arc<DefaultKeyedRateLimiter<String>>);

impl Default for Attempts {
    fn default() -> Self {
        let (per_minute, burst) = HANDLE_LIMIT;
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Self(Arc::new(RateLimiter::keyed(quota)))
    }
}

impl Attempts {
    /// Charges one attempt to `handle`; 429 when it has none left.
    pub(super) fn charge(&self, handle: &Handle) -> Result<(), ApiError> {
        if self.0.len() >= MAX_TRACKED {
            self.0.retain_recent();
        }
        // Still full (a flood of handles within a minute): they share one bucket until it
        // drains, so the table stays bounded.
        let key = if self.0.len() >= MAX_TRACKED {
            String::new()
        } else {
            handle.key().to_owned()
        };
        self.0.check_key(&key).map_err(|_| {
            ApiError::new(
                ErrorCode::RateLimited,
                "too many attempts for this handle; wait a minute",
            )
        })
    }
}

fn wrong() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthenticated,
        "the handle or the password is wrong",
    )
}

impl AppState {
    /// Makes an account and signs it in; what the anonymous session `anon` started moves
    /// to it.
    pub async fn sign_up(
        &self,
        input: &Credentials,
        device: &str,
        anon: Option<&Owner>,
    ) -> Result<(AccountRow, NewSession), ApiError> {
        let handle = Handle::parse("handle", &input.handle)?;
        password::check("password", &input.password)?;
        self.attempts().charge(&handle)?;
        let hash = self.passwords().hash(&input.password).await?;
        let account = accounts::create(self.store(), &handle, &hash, &[]).await?;
        self.begin(account, device, anon).await
    }

    /// Signs in with a handle and password: a new session (a new token: the old cookie,
    /// if any, is not reused).
    pub async fn sign_in(
        &self,
        input: &Credentials,
        device: &str,
        anon: Option<&Owner>,
    ) -> Result<(AccountRow, NewSession), ApiError> {
        // A malformed handle or password cannot match anything: the same answer as a
        // wrong one, after the same work.
        let handle = Handle::parse("handle", &input.handle).ok();
        if let Some(handle) = &handle {
            self.attempts().charge(handle)?;
        }
        let found = match &handle {
            Some(h) => accounts::by_handle(self.store(), h).await?,
            None => None,
        };
        let hash = found.as_ref().and_then(|(_, hash)| hash.as_deref());
        let matched = self.passwords().verify(&input.password, hash).await?;
        match found {
            Some((account, _)) if matched => self.begin(account, device, anon).await,
            _ => Err(wrong()),
        }
    }

    /// Starts a session for `account`, moving what `anon` started to it.
    pub(super) async fn begin(
        &self,
        account: AccountRow,
        device: &str,
        anon: Option<&Owner>,
    ) -> Result<(AccountRow, NewSession), ApiError> {
        if let Some(anon) = anon {
            accounts::adopt(self.store(), anon, &account.owner()).await?;
        }
        let session = self.start_session(&account, device).await?;
        Ok((account, session))
    }

    /// Changes the password of the session's account and ends its other sessions.
    pub async fn change_password(
        &self,
        account: &AccountRow,
        current_session: &str,
        change: &PasswordChange,
    ) -> Result<(), ApiError> {
        password::check("new", &change.new)?;
        let hash = accounts::password_hash(self.store(), &account.id).await?;
        if !self
            .passwords()
            .verify(&change.current, hash.as_deref())
            .await?
        {
            return Err(
                ApiError::new(ErrorCode::Unauthenticated, "the current password is wrong")
                    .with_field("current"),
            );
        }
        let new = self.passwords().hash(&change.new).await?;
        accounts::set_password(self.store(), &account.id, &new).await?;
        self.end_sessions(&account.id, Some(current_session)).await
    }
}

/// Makes `handle` an admin: a new account with `password`, or an existing one promoted
/// (its sessions end, so the role takes effect at its next sign-in; a session a running
/// server still holds in its cache has the old, lesser role until it expires there). For
/// the command line (`app admin create HANDLE`), never an endpoint. The account and
/// whether it was new.
pub async fn make_admin(
    store: &server::store::Store,
    passwords: &password::Passwords,
    handle: &str,
    password: &str,
) -> Result<(AccountRow, bool), ApiError> {
    let handle = Handle::parse("handle", handle)?;
    if let Some((mut account, _)) = accounts::by_handle(store, &handle).await? {
        accounts::set_admin(store, &account.id, true).await?;
        let writer = store.write().await?;
        writer
            .execute(
                "session.delete_all",
                "DELETE FROM account_sessions WHERE account_id = ?1",
                [account.id.as_str()],
            )
            .await?;
        account.roles = vec!["admin".into()];
        return Ok((account, false));
    }
    password::check("password", password)?;
    let hash = passwords.hash(password).await?;
    Ok((
        accounts::create(store, &handle, &hash, &["admin"]).await?,
        true,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_limited_per_handle_and_the_table_stays_bounded() {
        let attempts = Attempts::default();
        let ada = Handle::parse("handle", "ada").expect("handle");
        let (_, burst) = HANDLE_LIMIT;
        for _ in 0..burst {
            assert!(attempts.charge(&ada).is_ok());
        }
        let refused = attempts.charge(&ada).expect_err("over the burst");
        assert_eq!(refused.code(), ErrorCode::RateLimited);
        // Another handle has its own budget, and the table never holds more than its bound.
        let bea = Handle::parse("handle", "bea").expect("handle");
        assert!(attempts.charge(&bea).is_ok());
        for i in 0..MAX_TRACKED + 50 {
            let h = Handle::parse("handle", &format!("h{i:06}")).expect("handle");
            let _ = attempts.charge(&h);
        }
        assert!(attempts.0.len() <= MAX_TRACKED + 1, "{}", attempts.0.len());
    }
}
