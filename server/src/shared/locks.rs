//! Named locks shared by every instance: the [`NamedLocks`] trait on Redis, so singleton
//! work (the cache warm-up, maintenance) runs on one instance at a time.
//!
//! Acquiring is `SET key token NX PX lease` with a random token; while the guard lives, a
//! keeper task extends the lease every third of it, and dropping the guard releases the
//! lock. Extending and releasing are Lua scripts that act only if the key still holds this
//! holder's token, so a holder whose lease ran out (a paused or crashed process) can never
//! extend or release a lock someone else has taken since. A crashed holder's lock frees
//! itself when its lease ends.

use std::{future::Future, pin::Pin, time::Duration};

use crate::cache::{LockError, LockGuard, NamedLocks};

use super::SharedBus;

/// Release only if the key still holds our token.
const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// Extend only if the key still holds our token.
const EXTEND: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"#;

/// How often a waiting acquirer asks again.
const RETRY: Duration = Duration::from_millis(20);

/// Locks in Redis, under `{namespace}:lock:{name}`.
#[derive(Clone)]
pub struct RedisLocks {
    bus: SharedBus,
    namespace: String,
}

impl RedisLocks {
    /// Locks on the Redis of `bus`.
    pub fn new(bus: &SharedBus, namespace: &str) -> Self {
        Self {
            bus: bus.clone(),
            namespace: namespace.to_owned(),
        }
    }

    async fn try_once(&self, key: &str, token: &str, lease: Duration) -> Result<bool, LockError> {
        let mut conn = self.bus.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg(token)
            .arg("NX")
            .arg("PX")
            .arg(lease.as_millis().max(1) as u64)
            .query_async(&mut conn)
            .await
            .map_err(|e| LockError::Unavailable(e.to_string()))?;
        Ok(set.is_some())
    }
}

/// Held: keeps the lease alive, releases on drop.
struct Held {
    keeper: tokio::task::JoinHandle<()>,
    release: Option<(SharedBus, String, String)>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.keeper.abort();
        if let Some((bus, key, token)) = self.release.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(async move {
                let mut conn = bus.conn.clone();
                let _ = redis::Script::new(RELEASE)
                    .key(key)
                    .arg(token)
                    .invoke_async::<i64>(&mut conn)
                    .await;
            });
        }
    }
}

impl NamedLocks for RedisLocks {
    fn acquire<'a>(
        &'a self,
        name: &'a str,
        lease: Duration,
        wait: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<LockGuard, LockError>> + Send + 'a>> {
        Box::pin(async move {
            let key = format!("{}:lock:{name}", self.namespace);
            let token = uuid::Uuid::now_v7().simple().to_string();
            let started = tokio::time::Instant::now();
            while !self.try_once(&key, &token, lease).await? {
                if started.elapsed() >= wait {
                    return Err(LockError::Timeout {
                        name: name.to_owned(),
                        waited: wait,
                    });
                }
                tokio::time::sleep(RETRY.min(wait.saturating_sub(started.elapsed()))).await;
            }
            let (bus, k, t) = (self.bus.clone(), key.clone(), token.clone());
            let keeper = tokio::spawn(async move {
                let every = (lease / 3).max(Duration::from_millis(10));
                let script = redis::Script::new(EXTEND);
                loop {
                    tokio::time::sleep(every).await;
                    let mut conn = bus.conn.clone();
                    let kept = script
                        .key(&k)
                        .arg(&t)
                        .arg(lease.as_millis().max(1) as u64)
                        .invoke_async::<i64>(&mut conn)
                        .await;
                    if matches!(kept, Ok(0)) {
                        tracing::warn!(lock = %k, "lost a lock whose lease ran out");
                        return;
                    }
                }
            });
            Ok(LockGuard::new(Held {
                keeper,
                release: Some((self.bus.clone(), key, token)),
            }))
        })
    }
}
