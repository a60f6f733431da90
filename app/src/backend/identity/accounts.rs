//! Writers' accounts in SQL: sign-up, the account by id or handle, password changes, the
//! admin role, and what an anonymous visitor started moving to the account at sign-in.
//!
//! A handle is kept as typed (in Unicode NFKC) and compared by its key: NFKC, lowercased.
//! So `Ada`, `ADA` and `ａｄａ` (full-width) are one handle, and `小说家` is a handle like any
//! other. One canonical form before anything is keyed.

use unicode_normalization::UnicodeNormalization;

use server::store::{Row, SqlError, Store};

use super::cookie::Owner;
use crate::backend::time::{now_micros, to_rfc3339};
use crate::model::{Account, ApiError, ErrorCode};

/// Shortest handle, in characters.
pub const HANDLE_MIN: usize = 3;
/// Longest handle, in characters.
pub const HANDLE_MAX: usize = 32;

/// A valid handle: its display form and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle {
    shown: String,
    key: String,
}

impl Handle {
    /// Parses a handle; the error names `field` and says what a handle may hold.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ApiError> {
        let shown: String = raw.trim().nfkc().collect();
        let n = shown.chars().count();
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
        if !(HANDLE_MIN..=HANDLE_MAX).contains(&n) || !shown.chars().all(allowed) {
            return Err(ApiError::invalid(
                field,
                format!(
                    "{field} must be {HANDLE_MIN}-{HANDLE_MAX} letters (any script), digits, '_', '-' or '.'"
                ),
            ));
        }
        let key = shown.to_lowercase().nfkc().collect();
        Ok(Self { shown, key })
    }

    /// As shown.
    pub fn as_str(&self) -> &str {
        &self.shown
    }

    /// As compared and keyed.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// An account as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccountRow {
    /// UUIDv7.
    pub id: String,
    /// As shown.
    pub handle: String,
    /// `admin`, or nothing.
    pub roles: Vec<String>,
    /// Microseconds.
    pub created_at: i64,
}

impl AccountRow {
    /// Whether it holds the admin role.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == "admin")
    }

    /// The owner stored with what it starts (tasks, notifications).
    pub fn owner(&self) -> Owner {
        Owner::of_account(&self.id)
    }

    /// As the API shows it.
    pub fn view(&self) -> Account {
        Account {
            handle: self.handle.clone(),
            roles: self.roles.clone(),
            created_at: to_rfc3339(self.created_at),
        }
    }
}

const COLUMNS: &str = "id, handle, roles, created_at";

fn from_row(r: &Row) -> Result<AccountRow, SqlError> {
    let roles: String = r.get(2)?;
    Ok(AccountRow {
        id: r.get(0)?,
        handle: r.get(1)?,
        roles: serde_json::from_str(&roles).map_err(|_| SqlError::InvalidColumnType)?,
        created_at: r.get(3)?,
    })
}

/// Makes an account; 409 if the handle (in any letter case) is taken.
pub async fn create(
    store: &Store,
    handle: &Handle,
    password_hash: &str,
    roles: &[&str],
) -> Result<AccountRow, ApiError> {
    let row = AccountRow {
        id: crate::backend::new_id(),
        handle: handle.as_str().to_owned(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        created_at: now_micros(),
    };
    let roles = serde_json::to_string(&row.roles).unwrap_or_else(|_| "[]".into());
    let writer = store.write().await?;
    let inserted = writer
        .execute(
            "account.insert",
            "INSERT INTO accounts (id, handle, handle_key, password_hash, roles, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (handle_key) DO NOTHING",
            (
                row.id.as_str(),
                handle.as_str(),
                handle.key(),
                password_hash,
                roles.as_str(),
                row.created_at,
            ),
        )
        .await?;
    if inserted == 0 {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("the handle {} is taken", handle.as_str()),
        )
        .with_field("handle"));
    }
    Ok(row)
}

/// The account with this handle and its password hash (`None` for an account that cannot
/// sign in with a password).
pub async fn by_handle(
    store: &Store,
    handle: &Handle,
) -> Result<Option<(AccountRow, Option<String>)>, ApiError> {
    let reader = store.read().await?;
    let sql = format!("SELECT {COLUMNS}, password_hash FROM accounts WHERE handle_key = ?1");
    Ok(reader
        .query_opt("account.by_handle", &sql, [handle.key()], |r| {
            Ok((from_row(r)?, r.get::<Option<String>>(4)?))
        })
        .await?)
}

/// The account with this id.
pub async fn by_id(store: &Store, id: &str) -> Result<Option<AccountRow>, ApiError> {
    let reader = store.read().await?;
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1");
    Ok(reader
        .query_opt("account.by_id", &sql, [id], from_row)
        .await?)
}

/// The password hash of account `id`.
pub async fn password_hash(store: &Store, id: &str) -> Result<Option<String>, ApiError> {
    let reader = store.read().await?;
    Ok(reader
        .query_opt(
            "account.password",
            "SELECT password_hash FROM accounts WHERE id = ?1",
            [id],
            |r| r.get::<Option<String>>(0),
        )
        .await?
        .flatten())
}

/// Replaces account `id`'s password hash.
pub async fn set_password(store: &Store, id: &str, hash: &str) -> Result<(), ApiError> {
    let writer = store.write().await?;
    writer
        .execute(
            "account.set_password",
            "UPDATE accounts SET password_hash = ?2 WHERE id = ?1",
            (id, hash),
        )
        .await?;
    Ok(())
}

/// Gives account `id` the admin role (or takes it away).
pub async fn set_admin(store: &Store, id: &str, admin: bool) -> Result<(), ApiError> {
    let roles = if admin { r#"["admin"]"# } else { "[]" };
    let writer = store.write().await?;
    writer
        .execute(
            "account.set_roles",
            "UPDATE accounts SET roles = ?2 WHERE id = ?1",
            (id, roles),
        )
        .await?;
    Ok(())
}

/// Moves what the anonymous session `from` started (its tasks and notifications) to `to`.
pub async fn adopt(store: &Store, from: &Owner, to: &Owner) -> Result<(), ApiError> {
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    tx.execute(
        "account.adopt_tasks",
        "UPDATE tasks SET owner = ?2 WHERE owner = ?1",
        (from.as_str(), to.as_str()),
    )
    .await?;
    tx.execute(
        "account.adopt_notifications",
        "UPDATE notifications SET owner = ?2 WHERE owner = ?1",
        (from.as_str(), to.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_compare_without_case_or_width_and_take_any_script() {
        let a = Handle::parse("handle", "Ada").expect("latin");
        let b = Handle::parse("handle", " ADA ").expect("upper");
        let c = Handle::parse("handle", "ａｄａ").expect("full width");
        assert_eq!(a.key(), b.key());
        assert_eq!(a.key(), c.key());
        assert_eq!(b.as_str(), "ADA");
        let zh = Handle::parse("handle", "小说家").expect("chinese");
        assert_eq!(zh.key(), "小说家");
        for bad in ["ab", "a b c", "semi;colon", "<script>", &"x".repeat(33)] {
            let err = Handle::parse("handle", bad).expect_err(bad);
            assert_eq!(err.field(), Some("handle"));
        }
    }
}
