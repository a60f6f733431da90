//! Named locks with a timeout, behind a trait so that a Redis implementation can replace the
//! in-process one when AION runs on several machines.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

/// Why a lock was not acquired.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// Someone else held it for the whole wait.
    #[error("lock {name:?} is held elsewhere; gave up after {waited:?}")]
    Timeout {
        /// The lock's name.
        name: String,
        /// How long we waited.
        waited: Duration,
    },
    /// The lock service could not be reached (distributed implementations).
    #[error("lock service unavailable: {0}")]
    Unavailable(String),
}

/// Holding a lock; dropping it releases the lock.
pub struct LockGuard {
    _held: Box<dyn Send + Sync>,
}

impl LockGuard {
    /// A guard that releases the lock when `held` is dropped (for implementations of
    /// [`NamedLocks`] outside this module).
    pub fn new(held: impl Send + Sync + 'static) -> Self {
        Self {
            _held: Box::new(held),
        }
    }
}

/// A set of named, mutually exclusive locks.
pub trait NamedLocks: Send + Sync {
    /// Waits at most `wait` for the lock `name`. `lease` bounds how long a distributed lock
    /// survives a holder that crashed; an in-process lock is released when its guard drops.
    fn acquire<'a>(
        &'a self,
        name: &'a str,
        lease: Duration,
        wait: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<LockGuard, LockError>> + Send + 'a>>;
}

/// Runs `work` unless someone else holds the lock `name` now (the holder is doing the same
/// work): singleton work on several instances, such as a sweep of shared files. Returns
/// `None` when skipped. A lock service that cannot answer does not stop the work, which
/// must therefore be safe to repeat: it runs here, as it would on a single instance.
pub async fn run_exclusive<T>(
    locks: &dyn NamedLocks,
    name: &str,
    lease: Duration,
    work: impl Future<Output = T>,
) -> Option<T> {
    match locks.acquire(name, lease, Duration::ZERO).await {
        Ok(held) => {
            let out = work.await;
            drop(held);
            Some(out)
        }
        Err(LockError::Timeout { .. }) => None,
        Err(LockError::Unavailable(why)) => {
            tracing::warn!(
                lock = name,
                "lock service unavailable ({why}); running here"
            );
            Some(work.await)
        }
    }
}

/// Locks within this process.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use server::cache::{LocalLocks, NamedLocks};
/// let locks = LocalLocks::default();
/// let held = locks.acquire("warm-up", Duration::from_secs(30), Duration::ZERO).await.unwrap();
/// assert!(locks.acquire("warm-up", Duration::from_secs(30), Duration::from_millis(10)).await.is_err());
/// drop(held);
/// assert!(locks.acquire("warm-up", Duration::from_secs(30), Duration::ZERO).await.is_ok());
/// # });
/// ```
#[derive(Default)]
pub struct LocalLocks {
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// Releases the mutex and forgets the name when nobody else waits for it.
struct LocalHeld {
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    name: String,
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Drop for LocalHeld {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks
            .get(&self.name)
            .is_some_and(|m| Arc::strong_count(m) == 1)
        {
            locks.remove(&self.name);
        }
    }
}

impl NamedLocks for LocalLocks {
    fn acquire<'a>(
        &'a self,
        name: &'a str,
        _lease: Duration,
        wait: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<LockGuard, LockError>> + Send + 'a>> {
        Box::pin(async move {
            let mutex = self
                .locks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(name.to_owned())
                .or_default()
                .clone();
            let guard = match mutex.clone().try_lock_owned() {
                Ok(g) => g,
                Err(_) => tokio::time::timeout(wait, mutex.lock_owned())
                    .await
                    .map_err(|_| LockError::Timeout {
                        name: name.to_owned(),
                        waited: wait,
                    })?,
            };
            Ok(LockGuard {
                _held: Box::new(LocalHeld {
                    guard: Some(guard),
                    name: name.to_owned(),
                    locks: self.locks.clone(),
                }),
            })
        })
    }
}
