//! Versioned schema migrations, supplied by the application and applied at start.
//!
//! All pending migrations run in one transaction and are recorded in `_migrations`, so a
//! failure leaves the schema exactly as it was. A recorded migration whose name no longer
//! matches the code stops the start: the database was made by a different build.

use super::{Store, StoreError};

/// One step of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Strictly increasing, starting at 1.
    pub version: u32,
    /// A short name, recorded with the version.
    pub name: &'static str,
    /// The statements, separated by `;`.
    pub sql: &'static str,
}

impl Store {
    /// Applies the migrations not yet recorded; returns the versions applied now.
    ///
    /// ```
    /// # tokio_test_block_on(async {
    /// use server::store::{Migration, Store, StoreConfig};
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = Store::open(StoreConfig::new(dir.path().join("x.db"))).await.unwrap();
    /// let m = [Migration { version: 1, name: "notes", sql: "CREATE TABLE notes (body TEXT)" }];
    /// assert_eq!(store.migrate(&m).await.unwrap(), vec![1]);
    /// assert!(store.migrate(&m).await.unwrap().is_empty());
    /// # });
    /// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// ```
    pub async fn migrate(&self, migrations: &[Migration]) -> Result<Vec<u32>, StoreError> {
        for pair in migrations.windows(2) {
            if pair[1].version <= pair[0].version {
                return Err(StoreError::Migration {
                    version: pair[1].version,
                    name: pair[1].name,
                    reason: "versions must be strictly increasing".into(),
                });
            }
        }
        let mut writer = self.write().await?;
        writer
            .execute(
                "migrate.table",
                "CREATE TABLE IF NOT EXISTS _migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                )",
                (),
            )
            .await?;
        let applied = writer
            .query(
                "migrate.applied",
                "SELECT version, name FROM _migrations ORDER BY version",
                (),
                |r| Ok((r.get::<u32>(0)?, r.get::<String>(1)?)),
            )
            .await?;
        for (version, name) in &applied {
            if let Some(m) = migrations.iter().find(|m| m.version == *version)
                && m.name != name
            {
                return Err(StoreError::Migration {
                    version: *version,
                    name: m.name,
                    reason: format!(
                        "the database recorded it as {name:?}; it was made by a different build"
                    ),
                });
            }
        }
        let pending: Vec<&Migration> = migrations
            .iter()
            .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
            .collect();
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let tx = writer.begin().await?;
        for m in &pending {
            let step = async {
                tx.execute_batch("migrate.step", m.sql).await?;
                tx.execute(
                    "migrate.record",
                    "INSERT INTO _migrations (version, name) VALUES (?1, ?2)",
                    libsql::params![m.version, m.name],
                )
                .await
            };
            if let Err(e) = step.await {
                let _ = tx.rollback().await;
                return Err(StoreError::Migration {
                    version: m.version,
                    name: m.name,
                    reason: e.to_string(),
                });
            }
        }
        tx.commit().await?;
        let versions: Vec<u32> = pending.iter().map(|m| m.version).collect();
        tracing::info!(?versions, "migrations applied");
        Ok(versions)
    }
}
