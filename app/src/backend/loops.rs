//! The app's background work, all on one scheduler (`server::schedule`): what runs, how
//! often and why, in one place. Each loop's runs, last run and last error show in the
//! metrics snapshot (`loops`), so a loop that stopped working is seen, not only logged.
//!
//! | loop | every | does |
//! |---|---|---|
//! | `cache.sweep`, `pages.sweep` | 5 min | returns expired cache entries' memory |
//! | `limits.sweep` | 1 min | forgets clients whose rate limit has refilled |
//! | `files.sweep` | 5 min | deletes result files of cleaned-up tasks (one instance at a time) |
//! | `reads.flush` | 5 s | adds counted story reads to the store |
//! | `vitals.flush` | 10 s | writes the minute's Web Vitals |
//! | `history.sample` | 5 s | a point of the dashboard's history, alerts evaluated |
//! | `backup.schedule` | `AION_BACKUP_EVERY_SECS` | adds a `db.backup` task unless any instance added one within the interval |
//! | `notifications.recover` | once | notifications of tasks that ended before a crash |
//! | `cache.warm` | once | loads the most-read stories |
//!
//! Listeners that follow a stream rather than a clock (task events, the Redis bus, the
//! replica monitor) are kept by the same scheduler so that they stop with the rest.

use std::{sync::Arc, time::Duration};

use server::{schedule::Scheduler, shared::BusMessage};

use super::{AppState, library::reads, notifications, ops, tasks};

/// How often the caches return expired entries' memory.
const SWEEP_EVERY: Duration = Duration::from_secs(300);
/// How often old result files are looked for.
const FILES_EVERY: Duration = Duration::from_secs(300);

/// Starts every loop of `state` on its scheduler.
pub(super) fn start(state: &AppState) {
    let s = state.scheduler();
    sweepers(state, s);
    let counts = state.clone();
    s.every("reads.flush", reads::FLUSH_EVERY, true, move || {
        let state = counts.clone();
        async move {
            state
                .reads()
                .flush(state.store())
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        }
    });
    let field_data = state.clone();
    s.every("vitals.flush", ops::vitals::FLUSH_EVERY, true, move || {
        let state = field_data.clone();
        async move {
            state
                .vitals()
                .flush(state.store())
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        }
    });
    schedule_backups(state, s);
    let sampler = state.clone();
    let prev = Arc::new(tokio::sync::Mutex::new(ops::history::Previous::default()));
    s.every(
        "history.sample",
        state.metrics_ring().interval,
        true,
        move || {
            let (state, prev) = (sampler.clone(), prev.clone());
            async move {
                state.sample_history(&mut *prev.lock().await).await;
                Ok(())
            }
        },
    );
    s.track(notifications::spawn_listener(state.clone()));
    if let Some(bus) = state.shared() {
        let relay = state.clone();
        s.track(bus.spawn_listener(move |what| relay.on_bus(what)));
    }
    if let Some(announcer) = super::announce::spawn(state) {
        s.track(announcer);
    }
    let recovering = state.clone();
    s.once("notifications.recover", async move {
        let recovered = recovering.singleton("recover-notifications", async {
            notifications::recover(&recovering).await
        });
        match recovered.await.unwrap_or(Ok(0)) {
            Ok(0) => Ok(()),
            Ok(n) => {
                tracing::info!(
                    notifications = n,
                    "notifications of tasks that ended before a crash made"
                );
                Ok(())
            }
            Err(e) => Err(format!("recovering notifications failed: {e:?}")),
        }
    });
    let warm = state.config().cache_warm_stories;
    if warm > 0 && state.config().cache_enabled {
        let warmer = state.clone();
        s.once("cache.warm", async move {
            let started = std::time::Instant::now();
            let n = warmer.warm_up(warm).await.map_err(|e| e.to_string())?;
            tracing::info!(
                stories = n,
                ms = started.elapsed().as_millis() as u64,
                "cache warmed"
            );
            Ok(())
        });
    }
}

/// Backups every `AION_BACKUP_EVERY_SECS`. Every instance keeps the schedule (none is
/// special, any may be gone); the queue adds the task only if no instance added one within
/// the interval, in one statement on the shared database, so one backup runs per interval.
fn schedule_backups(state: &AppState, s: &Scheduler) {
    let every = Duration::from_secs(state.config().backup_every_secs);
    if every.is_zero() {
        return;
    }
    let scheduler = state.clone();
    s.every("backup.schedule", every, true, move || {
        let state = scheduler.clone();
        async move {
            // Within a little less than the interval: this instance's own next tick must
            // not find its previous task still inside the window.
            let options = server::tasks::EnqueueOptions::priority(server::tasks::Priority::High)
                .reserved()
                .once_within(every.mul_f64(0.9));
            match state
                .tasks()
                .enqueue::<ops::Backup>(&Default::default(), options)
                .await
            {
                Ok(_) | Err(server::tasks::QueueError::Recent { .. }) => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        }
    });
}

/// The loops that return memory or disk space.
fn sweepers(state: &AppState, s: &Scheduler) {
    let cache = state.cache().clone();
    s.every("cache.sweep", SWEEP_EVERY, false, move || {
        cache.sweep();
        async { Ok(()) }
    });
    let pages = state.response_cache().clone();
    s.every("pages.sweep", SWEEP_EVERY, false, move || {
        pages.cache().sweep();
        async { Ok(()) }
    });
    let limits = state.rate_limits().clone();
    s.every("limits.sweep", Duration::from_secs(60), false, move || {
        limits.sweep();
        async { Ok(()) }
    });
    let files = state.config().files_dir.clone();
    // Files of tasks the queue has cleaned up (same retention, checked as often), by one
    // instance at a time: they share the directory.
    let max_age = Duration::from_secs(state.config().task_retention_secs) + FILES_EVERY;
    let sweeper = state.clone();
    s.every("files.sweep", FILES_EVERY, true, move || {
        let (state, files) = (sweeper.clone(), files.clone());
        async move {
            let sweep = async { tasks::sweep_files(&files, max_age) };
            let removed = state.singleton("sweep-files", sweep).await.unwrap_or(0);
            if removed > 0 {
                tracing::info!(files = removed, "old export files removed");
            }
            // Notifications go with their tasks.
            match super::notifications::sweep(state.store(), max_age).await {
                Ok(0) => {}
                Ok(gone) => tracing::info!(notifications = gone, "old notifications removed"),
                Err(e) => tracing::warn!("sweeping old notifications failed: {e:?}"),
            }
            Ok(())
        }
    });
}

impl AppState {
    /// What another instance told this one over Redis.
    fn on_bus(&self, what: BusMessage) {
        match what {
            BusMessage::Tags(tags) => {
                let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
                self.invalidate_tags(&tags);
            }
            BusMessage::TagsAt(tags, position) => {
                // First the position, then the tags: the reload a dropped entry causes
                // waits for the write (`Store::read`).
                self.store().want_position(position);
                let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
                self.invalidate_tags(&tags);
            }
            BusMessage::All | BusMessage::Resync => self.clear_caches(),
            BusMessage::Event(json) => {
                if let Some(message) = notifications::relayed(&json) {
                    let _ = self.live().send(message);
                }
            }
        }
    }
}
