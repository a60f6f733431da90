//! Application state shared by every request: configuration and the running services.
//!
//! It travels as an axum `Extension` rather than a global, so that several instances can run
//! in one process (tests) and server functions name what they use in their signature.

use std::{sync::Arc, time::Instant};

use server::store::{Store, StoreConfig};

use super::{AppConfig, demo, schema, search_index::SearchIndexer};
use crate::model::{ApiError, Health};

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] server::store::StoreError),
    /// Demo data could not be written.
    #[error("seeding demo data failed: {0}")]
    Seed(ApiError),
}

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: AppConfig,
    store: Store,
    started: Instant,
    indexer: std::sync::Mutex<Option<SearchIndexer>>,
}

/// The extractor server functions use: `#[get("/api/x", state: AppExt)]`.
pub type AppExt = axum::Extension<AppState>;

impl AppState {
    /// Opens the database, applies migrations and seeds demo data into an empty database.
    pub async fn start(config: AppConfig) -> Result<Self, StartError> {
        let store = Store::open(StoreConfig::new(&config.db_path)).await?;
        store.migrate(schema::MIGRATIONS).await?;
        if config.seed_demo {
            let conn = store.read().await?;
            let stories = conn
                .query_i64("story.count", "SELECT count(*) FROM stories", ())
                .await?;
            drop(conn);
            if stories == 0 {
                let report = demo::seed(&store, demo::DemoSpec::default())
                    .await
                    .map_err(StartError::Seed)?;
                tracing::info!(
                    stories = report.stories,
                    nodes = report.nodes,
                    "seeded demo data"
                );
            }
        }
        let indexer = SearchIndexer::spawn(store.clone());
        Ok(Self(Arc::new(Inner {
            config,
            store,
            started: Instant::now(),
            indexer: std::sync::Mutex::new(Some(indexer)),
        })))
    }

    /// The configuration the server started with.
    pub fn config(&self) -> &AppConfig {
        &self.0.config
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// Version and uptime.
    pub fn health(&self) -> Health {
        Health {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_secs: self.0.started.elapsed().as_secs(),
        }
    }

    /// Stops background work and flushes state.
    pub async fn shutdown(&self) {
        let indexer = self
            .0
            .indexer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(indexer) = indexer {
            indexer.stop().await;
        }
        if let Err(e) = self.0.store.checkpoint().await {
            tracing::warn!("final WAL checkpoint failed: {e}");
        }
    }
}
