//! Passkeys (WebAuthn) as a second way in: a signed-in writer registers one from the account
//! page, and signs in with it later by handle. The ceremonies are `webauthn-rs`'s; what it
//! leaves to us is where things live:
//! - A ceremony's state (the challenge and what the browser must prove) is kept in the store
//!   between its two requests (`passkey_ceremonies`), never in the browser, so any instance
//!   can finish what another started. It is used once and lives [`CEREMONY_TTL`].
//! - The ceremonies table is keyed by server-made ids and bounded: each account has at most
//!   [`OPEN_PER_ACCOUNT`] open ones, expired ones are swept at every start, and past
//!   [`OPEN_MAX`] in all a start is refused with 503. Sign-in starts are charged to the
//!   handle's attempt budget, like passwords.
//! - Passkeys are stored as `webauthn-rs` serialises them, keyed by their credential id;
//!   their signature counter is updated at each use (a cloned authenticator shows up as a
//!   counter that goes back, which `webauthn-rs` refuses).
//!
//! The relying party is the site's origin (`AION_PASSKEY_ORIGIN`); passkeys need a domain
//! name (browsers refuse IP addresses), and `localhost` on any port serves development.

use std::time::Duration;

use webauthn_rs::prelude::{
    CredentialID, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::{
    Owner,
    accounts::{self, AccountRow, Handle},
    sessions::NewSession,
};
use crate::backend::{
    AppState,
    time::{now_micros, to_rfc3339},
};
use crate::model::{ApiError, ErrorCode, PasskeyView};

/// How long a started ceremony may be finished.
pub const CEREMONY_TTL: Duration = Duration::from_secs(300);
/// Open ceremonies per account; starting another drops the oldest.
pub const OPEN_PER_ACCOUNT: i64 = 5;
/// Open ceremonies in all before starts are refused.
pub const OPEN_MAX: i64 = 10_000;
/// Passkeys per account.
pub const PER_ACCOUNT: i64 = 20;
/// Longest passkey name, in characters.
pub const NAME_MAX: usize = 60;

/// The relying party, or why there is none.
pub struct RelyingParty(Result<Webauthn, String>);

impl RelyingParty {
    /// The relying party of the site at `origin` (`http://localhost` serves every port).
    pub fn new(origin: &str) -> Self {
        Self(Self::build(origin))
    }

    fn build(origin: &str) -> Result<Webauthn, String> {
        let url = Url::parse(origin).map_err(|e| format!("AION_PASSKEY_ORIGIN {origin:?}: {e}"))?;
        let Some(domain) = url.domain().map(str::to_owned) else {
            return Err(format!(
                "passkeys need a domain name, and AION_PASSKEY_ORIGIN is {origin}: set it to the site's address (https://stories.example, or http://localhost)"
            ));
        };
        WebauthnBuilder::new(&domain, &url)
            .map_err(|e| format!("AION_PASSKEY_ORIGIN {origin}: {e}"))?
            .rp_name("AION")
            .allow_any_port(domain == "localhost")
            .timeout(CEREMONY_TTL)
            .build()
            .map_err(|e| format!("AION_PASSKEY_ORIGIN {origin}: {e}"))
    }

    fn get(&self) -> Result<&Webauthn, ApiError> {
        self.0
            .as_ref()
            .map_err(|why| ApiError::new(ErrorCode::Unavailable, why.clone()))
    }

    /// Why passkeys are off, if they are.
    pub fn unavailable(&self) -> Option<&str> {
        self.0.as_ref().err().map(String::as_str)
    }
}

/// A started ceremony: what the browser passes to WebAuthn, and the id to finish it with.
#[derive(serde::Serialize)]
pub struct Started<T> {
    /// Sent back with the browser's answer.
    pub ceremony: String,
    /// `{"publicKey": {...}}` for `navigator.credentials.create` / `.get`.
    pub options: T,
}

const KIND_REGISTER: &str = "register";
const KIND_SIGNIN: &str = "signin";

fn not_accepted() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthenticated,
        "the passkey was not accepted; start again",
    )
}

/// A credential id as the store keys it: base64url without padding, as WebAuthn writes it.
fn credential_key(id: &CredentialID) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(AsRef::<[u8]>::as_ref(id))
}

/// A passkey's name as given: trimmed, 1-60 characters; "Passkey" when empty.
pub fn parse_name(raw: Option<&str>) -> Result<String, ApiError> {
    let name = raw.unwrap_or("").trim();
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            format!("name must be at most {NAME_MAX} characters, without control characters"),
        ));
    }
    Ok(if name.is_empty() { "Passkey" } else { name }.to_owned())
}

impl AppState {
    /// Starts registering a passkey for `account`.
    pub async fn passkey_register_start(
        &self,
        account: &AccountRow,
    ) -> Result<Started<webauthn_rs::prelude::CreationChallengeResponse>, ApiError> {
        let rp = self.relying_party().get()?;
        let existing = self.passkeys_of(&account.id).await?;
        if existing.len() as i64 >= PER_ACCOUNT {
            return Err(ApiError::conflict(format!(
                "an account holds at most {PER_ACCOUNT} passkeys; remove one first"
            )));
        }
        let exclude: Vec<CredentialID> =
            existing.iter().map(|(_, p)| p.cred_id().clone()).collect();
        let user = Uuid::parse_str(&account.id).map_err(|_| ApiError::internal())?;
        let (options, state) = rp
            .start_passkey_registration(user, &account.handle, &account.handle, Some(exclude))
            .map_err(|e| {
                tracing::error!(error = %e, "passkey registration did not start");
                ApiError::internal()
            })?;
        let ceremony = self
            .open_ceremony(&account.id, KIND_REGISTER, &state)
            .await?;
        Ok(Started { ceremony, options })
    }

    /// Finishes registering: the new passkey, named `name`.
    pub async fn passkey_register_finish(
        &self,
        account: &AccountRow,
        ceremony: &str,
        name: &str,
        credential: &RegisterPublicKeyCredential,
    ) -> Result<PasskeyView, ApiError> {
        let rp = self.relying_party().get()?;
        let (owner, state): (String, PasskeyRegistration) =
            self.take_ceremony(ceremony, KIND_REGISTER).await?;
        if owner != account.id {
            return Err(not_accepted());
        }
        let passkey = rp
            .finish_passkey_registration(credential, &state)
            .map_err(|e| {
                tracing::info!(error = %e, "passkey registration refused");
                not_accepted()
            })?;
        let json = serde_json::to_string(&passkey).map_err(|_| ApiError::internal())?;
        let view = PasskeyView {
            id: crate::backend::new_id(),
            name: name.to_owned(),
            created_at: to_rfc3339(now_micros()),
            last_used: None,
        };
        let writer = self.store().write().await?;
        let inserted = writer
            .execute(
                "passkey.insert",
                "INSERT INTO passkeys (id, credential_id, account_id, name, passkey, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (credential_id) DO NOTHING",
                (
                    view.id.as_str(),
                    credential_key(passkey.cred_id()),
                    account.id.as_str(),
                    name,
                    json,
                    now_micros(),
                ),
            )
            .await?;
        if inserted == 0 {
            return Err(ApiError::conflict("this passkey is registered already"));
        }
        Ok(view)
    }

    /// Starts signing in as `handle` with one of its passkeys.
    pub async fn passkey_signin_start(
        &self,
        handle: &str,
    ) -> Result<Started<webauthn_rs::prelude::RequestChallengeResponse>, ApiError> {
        let rp = self.relying_party().get()?;
        let handle = Handle::parse("handle", handle)?;
        self.attempts().charge(&handle)?;
        let no_passkey = || {
            ApiError::new(
                ErrorCode::NotFound,
                "no passkey is registered for this handle",
            )
            .with_field("handle")
        };
        let Some((account, _)) = accounts::by_handle(self.store(), &handle).await? else {
            return Err(no_passkey());
        };
        let passkeys: Vec<Passkey> = self
            .passkeys_of(&account.id)
            .await?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        if passkeys.is_empty() {
            return Err(no_passkey());
        }
        let (options, state) = rp.start_passkey_authentication(&passkeys).map_err(|e| {
            tracing::error!(error = %e, "passkey sign-in did not start");
            ApiError::internal()
        })?;
        let ceremony = self.open_ceremony(&account.id, KIND_SIGNIN, &state).await?;
        Ok(Started { ceremony, options })
    }

    /// Finishes signing in: a new session, as a password sign-in makes.
    pub async fn passkey_signin_finish(
        &self,
        ceremony: &str,
        credential: &PublicKeyCredential,
        device: &str,
        anon: Option<&Owner>,
    ) -> Result<(AccountRow, NewSession), ApiError> {
        let rp = self.relying_party().get()?;
        let (account_id, state): (String, PasskeyAuthentication) =
            self.take_ceremony(ceremony, KIND_SIGNIN).await?;
        let result = rp
            .finish_passkey_authentication(credential, &state)
            .map_err(|e| {
                tracing::info!(error = %e, "passkey sign-in refused");
                not_accepted()
            })?;
        let mut passkeys = self.passkeys_of(&account_id).await?;
        let Some((id, passkey)) = passkeys
            .iter_mut()
            .find(|(_, p)| p.cred_id() == result.cred_id())
        else {
            return Err(not_accepted());
        };
        passkey.update_credential(&result);
        let json = serde_json::to_string(passkey).map_err(|_| ApiError::internal())?;
        let writer = self.store().write().await?;
        writer
            .execute(
                "passkey.used",
                "UPDATE passkeys SET passkey = ?2, last_used = ?3 WHERE id = ?1",
                (id.as_str(), json, now_micros()),
            )
            .await?;
        drop(writer);
        let Some(account) = accounts::by_id(self.store(), &account_id).await? else {
            return Err(not_accepted());
        };
        self.begin(account, device, anon).await
    }

    /// The account's passkeys as the account page lists them, oldest first.
    pub async fn passkey_list(&self, account_id: &str) -> Result<Vec<PasskeyView>, ApiError> {
        let reader = self.store().read().await?;
        Ok(reader
            .query(
                "passkey.list",
                "SELECT id, name, created_at, last_used FROM passkeys WHERE account_id = ?1 ORDER BY seq",
                [account_id],
                |r| {
                    Ok(PasskeyView {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        created_at: to_rfc3339(r.get(2)?),
                        last_used: r.get::<Option<i64>>(3)?.map(to_rfc3339),
                    })
                },
            )
            .await?)
    }

    /// Why passkeys are off on this server, if they are (the account page says so).
    pub fn passkeys_unavailable(&self) -> Option<String> {
        self.relying_party().unavailable().map(str::to_owned)
    }

    /// Removes one of the account's passkeys; 404 for another account's or an unknown one.
    pub async fn passkey_remove(&self, account_id: &str, id: &str) -> Result<(), ApiError> {
        let writer = self.store().write().await?;
        let removed = writer
            .execute(
                "passkey.delete",
                "DELETE FROM passkeys WHERE id = ?1 AND account_id = ?2",
                (id, account_id),
            )
            .await?;
        if removed == 0 {
            return Err(ApiError::not_found("passkey", id));
        }
        Ok(())
    }

    /// The account's passkeys with their row ids.
    async fn passkeys_of(&self, account_id: &str) -> Result<Vec<(String, Passkey)>, ApiError> {
        let reader = self.store().read().await?;
        let rows: Vec<(String, String)> = reader
            .query(
                "passkey.of_account",
                "SELECT id, passkey FROM passkeys WHERE account_id = ?1 ORDER BY seq",
                [account_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .await?;
        rows.into_iter()
            .map(|(id, json)| {
                serde_json::from_str(&json)
                    .map(|p| (id, p))
                    .map_err(|_| ApiError::internal())
            })
            .collect()
    }

    /// Keeps a ceremony's state; its id. Sweeps expired ones, keeps each account to
    /// [`OPEN_PER_ACCOUNT`] and the table to [`OPEN_MAX`].
    async fn open_ceremony(
        &self,
        account_id: &str,
        kind: &str,
        state: &impl serde::Serialize,
    ) -> Result<String, ApiError> {
        let json = serde_json::to_string(state).map_err(|_| ApiError::internal())?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_micros();
        let writer = self.store().write().await?;
        writer
            .execute(
                "passkey.ceremony_sweep",
                "DELETE FROM passkey_ceremonies WHERE expires_at <= ?1",
                [now],
            )
            .await?;
        writer
            .execute(
                "passkey.ceremony_trim",
                "DELETE FROM passkey_ceremonies WHERE account_id = ?1 AND id NOT IN
                   (SELECT id FROM passkey_ceremonies WHERE account_id = ?1
                    ORDER BY expires_at DESC LIMIT ?2)",
                (account_id, OPEN_PER_ACCOUNT - 1),
            )
            .await?;
        let open = writer
            .query_i64(
                "passkey.ceremony_count",
                "SELECT count(*) FROM passkey_ceremonies",
                (),
            )
            .await?;
        if open >= OPEN_MAX {
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                "too many passkey ceremonies are in progress; try again in a few minutes",
            ));
        }
        writer
            .execute(
                "passkey.ceremony_insert",
                "INSERT INTO passkey_ceremonies (id, account_id, kind, state, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                (
                    id.as_str(),
                    account_id,
                    kind,
                    json,
                    now + CEREMONY_TTL.as_micros() as i64,
                ),
            )
            .await?;
        Ok(id)
    }

    /// Takes (reads and deletes) a live ceremony of `kind`: its account and state. An
    /// unknown, used, expired or malformed one is refused like a wrong passkey.
    async fn take_ceremony<T: serde::de::DeserializeOwned>(
        &self,
        id: &str,
        kind: &str,
    ) -> Result<(String, T), ApiError> {
        let writer = self.store().write().await?;
        let row: Option<(String, String)> = writer
            .query_opt(
                "passkey.ceremony_take",
                "DELETE FROM passkey_ceremonies WHERE id = ?1 AND kind = ?2 AND expires_at > ?3
                 RETURNING account_id, state",
                (id, kind, now_micros()),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .await?;
        let (account_id, state) = row.ok_or_else(not_accepted)?;
        let state = serde_json::from_str(&state).map_err(|_| not_accepted())?;
        Ok((account_id, state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passkeys_need_a_domain_name() {
        assert!(
            RelyingParty::new("http://localhost")
                .unavailable()
                .is_none()
        );
        assert!(
            RelyingParty::new("https://stories.example")
                .unavailable()
                .is_none()
        );
        let ip = RelyingParty::new("http://127.0.0.1:8080");
        assert!(
            ip.unavailable()
                .is_some_and(|why| why.contains("domain name"))
        );
        assert!(RelyingParty::new("not a url").unavailable().is_some());
    }

    #[test]
    fn names_are_bounded() {
        assert_eq!(parse_name(None).expect("default"), "Passkey");
        assert_eq!(parse_name(Some("  laptop ")).expect("trimmed"), "laptop");
        let long = "x".repeat(NAME_MAX + 1);
        assert_eq!(
            parse_name(Some(&long)).expect_err("too long").field(),
            Some("name")
        );
        assert!(parse_name(Some("a\u{7}b")).is_err());
    }
}
