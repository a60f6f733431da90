//! Application state shared by every request: configuration and the running services.
//!
//! It travels as an axum `Extension` rather than a global, so that several instances can run
//! in one process (tests) and server functions name what they use in their signature.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::future::BoxFuture;
use server::{
    cache::{LocalLocks, NamedLocks, Shared},
    http::{rate_limit::RateLimits, response_cache::ResponseCache},
    metrics::RequestMetrics,
    replica::{ReplicaConfig, ReplicaMonitor, ReplicaStatus},
    schedule::Scheduler,
    shared::{RedisLocks, RedisTier, SharedBus, SharedLimits},
    store::{Store, StoreConfig},
    tasks::{TaskConfig, TaskQueue},
};
use tokio::sync::broadcast;

use super::{
    AppConfig,
    cache::{AppCache, Policy, SharedValues},
    demo, exports, http,
    identity::{
        account::Attempts, admin::AdminSessions, passkeys::RelyingParty, password::Passwords,
    },
    library::{reads::ReadCounter, search_index::SearchIndexer},
    media,
    notifications::LiveMessage,
    ops::{self, alerts::Alerts, bundle::BundleSize, history::MetricsRing, vitals::Vitals},
    schema,
    tasks::{AppCaches, JobEnv},
};
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
    /// `AION_REDIS_URL` is not a Redis URL.
    #[error("AION_REDIS_URL: {0}")]
    Redis(#[from] server::shared::SharedError),
}

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: AppConfig,
    store: Store,
    cache: AppCache,
    response_cache: Arc<ResponseCache<Policy>>,
    request_metrics: Arc<RequestMetrics>,
    rate_limits: Arc<RateLimits>,
    reads: Arc<ReadCounter>,
    locks: Arc<dyn NamedLocks>,
    /// Locks of work one instance does for all (Redis when shared, else in-process).
    singletons: Arc<dyn NamedLocks>,
    tasks: TaskQueue,
    live: broadcast::Sender<LiveMessage>,
    replica: Option<ReplicaMonitor>,
    shared: Option<SharedBus>,
    vitals: Vitals,
    alerts: Alerts,
    bundle: std::sync::OnceLock<BundleSize>,
    ring: MetricsRing,
    started: Instant,
    indexer: Mutex<Option<SearchIndexer>>,
    scheduler: Scheduler,
    admin_sessions: Arc<AdminSessions>,
    passwords: Passwords,
    attempts: Attempts,
    relying_party: RelyingParty,
    images: super::media::budget::ImageBudget,
    streams: Arc<super::live_streams::LiveStreams>,
    /// The highest replication position announced to the other instances.
    announced: super::announce::Announced,
}

/// An [`AppState`] that does not keep it alive: for the task handlers, which the state
/// owns through its queue.
#[derive(Clone)]
pub struct WeakState(std::sync::Weak<Inner>);

impl WeakState {
    /// The state, while the server runs.
    pub fn upgrade(&self) -> Option<AppState> {
        self.0.upgrade().map(AppState)
    }
}

impl AppCaches for WeakState {
    fn cover_changed<'a>(&'a self, story_id: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Some(app) = self.upgrade() {
                app.cover_changed(story_id).await;
            }
        })
    }

    fn clear_all(&self) -> BoxFuture<'_, Result<(), ApiError>> {
        Box::pin(async move {
            let app = self.upgrade().ok_or_else(stopping)?;
            app.clear_everywhere().await;
            Ok(())
        })
    }

    fn warm(&self) -> BoxFuture<'_, Result<usize, ApiError>> {
        Box::pin(async move {
            let app = self.upgrade().ok_or_else(stopping)?;
            let n = app.config().cache_warm_stories.max(1);
            app.warm_up(n).await
        })
    }
}

fn stopping() -> ApiError {
    ApiError::new(
        crate::model::ErrorCode::Unavailable,
        "the server is starting or stopping",
    )
}

/// The extractor server functions use: `#[get("/api/x", state: AppExt)]`.
pub type AppExt = axum::Extension<AppState>;

impl AppState {
    /// Opens the database, applies migrations, seeds demo data into an empty database and
    /// starts the background work (search indexer, cache sweeper and warm-up, read counts).
    pub async fn start(config: AppConfig) -> Result<Self, StartError> {
        let store = open_store(&config).await?;
        let shared = match &config.redis_url {
            Some(url) => Some(SharedBus::new(url, "aion")?),
            None => None,
        };
        let cache = data_cache(&config, shared.as_ref());
        let (tasks, job_env) = task_queue(&config, &store);
        let indexer = SearchIndexer::spawn(store.clone());
        let reads = Arc::new(ReadCounter::default());
        let vitals = Vitals::load(&store).await?;
        let alerts = Alerts::load(&store).await?;
        let ring = MetricsRing::new(Duration::from_millis(config.history_sample_ms.max(100)));
        let (replica, replica_task) = replica_monitor(&config).unzip();
        let admin_sessions = Arc::new(AdminSessions::default());
        let relying_party = RelyingParty::new(&config.passkey_origin);
        let streams = super::live_streams::LiveStreams::new(super::live_streams::StreamLimits {
            per_session: config.event_streams_per_session.max(1),
            per_address: config.event_streams_per_address.max(1),
            max_age: Duration::from_secs(config.event_stream_max_secs.max(1)),
        });
        let state = Self(Arc::new(Inner {
            response_cache: Arc::new(http::response_cache(
                reads.clone(),
                config.page_cache,
                admin_sessions.clone(),
            )),
            request_metrics: http::request_metrics(&config),
            rate_limits: Arc::new(match &shared {
                Some(bus) => http::rate_limits(&config).shared(SharedLimits::new(bus, "aion")),
                None => http::rate_limits(&config),
            }),
            config,
            store,
            cache,
            reads,
            // In-process even with Redis: the one user, the warm-up, fills this instance's
            // own cache (server::shared::RedisLocks is there for work shared across them).
            locks: Arc::new(LocalLocks::default()),
            singletons: match &shared {
                Some(bus) => Arc::new(RedisLocks::new(bus, "aion")),
                None => Arc::new(LocalLocks::default()),
            },
            tasks,
            live: broadcast::channel(1024).0,
            replica,
            shared,
            vitals,
            alerts,
            bundle: std::sync::OnceLock::new(),
            ring,
            started: Instant::now(),
            indexer: Mutex::new(Some(indexer)),
            scheduler: Scheduler::default(),
            admin_sessions,
            passwords: Passwords::default(),
            attempts: Attempts::default(),
            relying_party,
            images: job_env.images.clone(),
            streams,
            announced: Default::default(),
        }));
        let _ = job_env
            .app
            .set(Box::new(WeakState(Arc::downgrade(&state.0))));
        super::loops::start(&state);
        if let Some(task) = replica_task {
            state.0.scheduler.track(task);
        }
        state.0.tasks.start();
        state.resume_covers();
        Ok(state)
    }

    /// The link to the other instances, when several share a Redis.
    pub fn shared(&self) -> Option<&SharedBus> {
        self.0.shared.as_ref()
    }

    /// Drops entries with any of `tags` from this instance's caches.
    pub fn invalidate_tags(&self, tags: &[&str]) {
        for tag in tags {
            self.0.cache.invalidate_tag(tag);
            self.0.response_cache.cache().invalidate_tag(tag);
        }
    }

    /// Drops entries with any of `tags` from every instance's caches: the shared tier
    /// first (a miss between the two steps would otherwise bring the old value back from
    /// it into this instance's caches), then this instance's.
    ///
    /// On an embedded replica the message carries the replication position of this
    /// instance's last write, so that the others read nothing again before their replicas
    /// have it (`server::store::replica`).
    pub async fn invalidate_everywhere(&self, tags: &[&str]) {
        if let Some(bus) = self.shared() {
            match self.store().written_position() {
                Some(position) if position > 0 => {
                    self.announced().set(position);
                    bus.publish_tags_at(tags, position).await
                }
                _ => bus.publish_tags(tags).await,
            };
        }
        self.invalidate_tags(tags);
    }

    /// Empties every instance's caches: the shared tier first, as for writes (see
    /// `AppState::invalidate`), then this instance's.
    pub async fn clear_everywhere(&self) {
        if let Some(bus) = self.shared() {
            bus.publish_clear().await;
        }
        self.clear_caches();
    }

    /// Empties this instance's caches.
    pub fn clear_caches(&self) {
        self.0.cache.clear();
        self.0.response_cache.cache().clear();
    }

    /// The configuration the server started with.
    pub fn config(&self) -> &AppConfig {
        &self.0.config
    }

    /// Browser sessions an operator unlocked with the admin token.
    pub(crate) fn admin_sessions(&self) -> &AdminSessions {
        &self.0.admin_sessions
    }

    /// A handle that does not keep the state alive (for its own background loops).
    pub fn downgrade(&self) -> WeakState {
        WeakState(Arc::downgrade(&self.0))
    }

    /// What this instance has announced of its writes (`announce`).
    pub(super) fn announced(&self) -> &super::announce::Announced {
        &self.0.announced
    }

    /// The live-event streams open on this instance, and their bounds.
    pub fn live_streams(&self) -> &Arc<super::live_streams::LiveStreams> {
        &self.0.streams
    }

    /// What image work may hold in memory at once.
    pub fn image_budget(&self) -> &super::media::budget::ImageBudget {
        &self.0.images
    }

    /// The passkeys' relying party (this site), or why passkeys are off.
    pub(crate) fn relying_party(&self) -> &RelyingParty {
        &self.0.relying_party
    }

    /// Sign-in attempts per handle.
    pub(crate) fn attempts(&self) -> &Attempts {
        &self.0.attempts
    }

    /// The password hasher.
    pub(crate) fn passwords(&self) -> &Passwords {
        &self.0.passwords
    }

    /// The database.
    pub(crate) fn store(&self) -> &Store {
        &self.0.store
    }

    /// Records the client bundle being served (once, at start).
    pub fn set_client_bundle(&self, size: BundleSize) {
        let _ = self.0.bundle.set(size);
    }

    /// The client bundle being served (zeros when there is none, as in the API tests).
    pub fn client_bundle(&self) -> BundleSize {
        self.0.bundle.get().copied().unwrap_or_default()
    }

    /// The last hour of samples.
    pub(crate) fn metrics_ring(&self) -> &MetricsRing {
        &self.0.ring
    }

    /// Web Vitals from browsers.
    pub fn vitals(&self) -> &Vitals {
        &self.0.vitals
    }

    /// The dashboard's alert rules and their states.
    pub(crate) fn alerts(&self) -> &Alerts {
        &self.0.alerts
    }

    /// What the replica monitor last found (`None`: no replication configured).
    pub fn replica(&self) -> Option<ReplicaStatus> {
        self.0.replica.as_ref().map(ReplicaMonitor::status)
    }

    /// The tiered cache.
    pub(crate) fn cache(&self) -> &AppCache {
        &self.0.cache
    }

    /// The HTTP response cache.
    pub(crate) fn response_cache(&self) -> &Arc<ResponseCache<Policy>> {
        &self.0.response_cache
    }

    /// HTTP request metrics.
    pub(crate) fn request_metrics(&self) -> &Arc<RequestMetrics> {
        &self.0.request_metrics
    }

    /// The rate limits.
    pub(crate) fn rate_limits(&self) -> &Arc<RateLimits> {
        &self.0.rate_limits
    }

    /// Story reads not yet written to the database.
    pub(crate) fn reads(&self) -> &ReadCounter {
        &self.0.reads
    }

    /// Runs `work` here unless another instance sharing this Redis is running the work
    /// `name` now (see `server::cache::run_exclusive`); alone, it always runs.
    pub async fn singleton<T>(&self, name: &str, work: impl Future<Output = T>) -> Option<T> {
        server::cache::run_exclusive(
            &*self.0.singletons,
            &format!("singleton:{name}"),
            Duration::from_secs(30),
            work,
        )
        .await
    }

    /// Named locks within this instance (the cache warm-up fills this instance's own cache,
    /// so instances do not exclude each other from it).
    pub(crate) fn locks(&self) -> &dyn NamedLocks {
        &*self.0.locks
    }

    /// The background loops.
    pub(crate) fn scheduler(&self) -> &Scheduler {
        &self.0.scheduler
    }

    /// The durable task queue.
    pub(crate) fn tasks(&self) -> &TaskQueue {
        &self.0.tasks
    }

    /// Live events for open pages (task progress, notifications), with their owners.
    pub(crate) fn live(&self) -> &broadcast::Sender<LiveMessage> {
        &self.0.live
    }

    /// Version and uptime.
    pub fn health(&self) -> Health {
        Health {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_secs: self.0.started.elapsed().as_secs(),
        }
    }

    /// Stops background work, writes what is pending, and checkpoints the database.
    pub async fn shutdown(&self) {
        // Running tasks get the grace; the rest are released for the next start.
        self.0.tasks.shutdown(self.0.config.shutdown_grace).await;
        self.0.scheduler.stop();
        let indexer = self
            .0
            .indexer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(indexer) = indexer {
            indexer.stop().await;
        }
        if let Err(e) = self.0.reads.flush(&self.0.store).await {
            tracing::warn!("writing read counts at shutdown failed: {e}");
        }
        if let Err(e) = self.0.vitals.flush(&self.0.store).await {
            tracing::warn!("writing web vitals at shutdown failed: {e}");
        }
        if let Err(e) = self.0.store.checkpoint().await {
            tracing::warn!("final WAL checkpoint failed: {e}");
        }
    }
}

/// The database, migrated, with the demo library seeded into it when it is empty (and
/// `AION_SEED_DEMO` allows).
async fn open_store(config: &AppConfig) -> Result<Store, StartError> {
    let mut store_config =
        StoreConfig::new(&config.db_path).replicated(config.litestream.is_some());
    if let Some(primary) = &config.db_primary {
        store_config = store_config.primary(primary.clone());
    }
    let store = Store::open(store_config).await?;
    store.migrate(schema::MIGRATIONS).await?;
    if !config.seed_demo {
        return Ok(store);
    }
    let conn = store.read().await?;
    let stories = conn
        .query_i64("story.count", "SELECT count(*) FROM stories", ())
        .await?;
    drop(conn);
    if stories == 0 {
        let spec = demo::DemoSpec::default();
        let report = demo::seed(&store, spec).await.map_err(StartError::Seed)?;
        demo::seed_covers(&store, config.demo_covers)
            .await
            .map_err(StartError::Seed)?;
        tracing::info!(
            stories = report.stories,
            nodes = report.nodes,
            "seeded demo data"
        );
    }
    Ok(store)
}

/// The tiered data cache, with the shared tier when Redis is configured and
/// `AION_SHARED_CACHE` allows.
fn data_cache(config: &AppConfig, shared: Option<&SharedBus>) -> AppCache {
    let mut cache = AppCache::builder();
    if let (Some(bus), true) = (shared, config.shared_cache) {
        // Cross-instance locks so a cold key is loaded by one instance while the others
        // wait for its value.
        cache = cache.shared(Shared::new(
            Arc::new(RedisTier::new(bus)),
            Arc::new(SharedValues),
            Some(Arc::new(RedisLocks::new(bus, "aion"))),
        ));
    }
    cache.build()
}

/// The monitor of the Litestream replica, when replicating, and its background task.
fn replica_monitor(config: &AppConfig) -> Option<(ReplicaMonitor, tokio::task::JoinHandle<()>)> {
    config.litestream.as_ref().map(|ls| {
        // Litestream's config names the database by its absolute path, as given (the
        // project's commands write the same; symlinks are not resolved on either side).
        let db = std::path::absolute(&config.db_path).unwrap_or_else(|_| config.db_path.clone());
        let mut replica = ReplicaConfig::new(&ls.bin, &ls.socket, db);
        replica.interval = ls.check_every;
        ReplicaMonitor::spawn(replica)
    })
}

/// The task queue with the app's handlers, configured from the environment.
fn task_queue(config: &AppConfig, store: &Store) -> (TaskQueue, Arc<JobEnv>) {
    let env = Arc::new(JobEnv {
        store: store.clone(),
        files_dir: config.files_dir.clone(),
        backup_dir: config.backup_dir.clone(),
        backup_keep: config.backup_keep.max(1),
        pdf_font: config.pdf_font.clone(),
        images: super::media::budget::ImageBudget::new(config.image_memory_mb),
        app: std::sync::OnceLock::new(),
    });
    let queue = TaskQueue::builder(store.clone())
        .config(TaskConfig {
            workers: config.workers.max(1),
            lease: Duration::from_secs(config.task_lease_secs.max(1)),
            max_pending: config.task_max_pending,
            reserved_pending: config
                .task_reserved_pending
                .min(config.task_max_pending / 2),
            max_pending_per_owner: config.task_max_pending_per_caller,
            retention: Duration::from_secs(config.task_retention_secs),
            ..TaskConfig::default()
        })
        .register(exports::ExportJson(env.clone()))
        .register(exports::ExportPdf(env.clone()))
        .register(exports::Report(env.clone()))
        .register(ops::Backup(env.clone()))
        .register(ops::Maintenance(env.clone()))
        .register(media::CoverVariants(env.clone()))
        .build();
    (queue, env)
}
