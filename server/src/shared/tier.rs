//! The shared cache tier on Redis: [`crate::cache::SharedTier`] with exact, cross-instance
//! invalidation by tag.
//!
//! Layout under the namespace: `c:{key}` the entry's bytes (expiring with its policy's
//! time to live), `tv:{tag}` a tag's version, `ts:{tag}` the set of entry keys carrying the
//! tag. Every entry also carries the tag `*`, so clearing is invalidating `*`.
//!
//! A miss returns the versions of the entry's tags; the store that follows the load sets
//! the entry only if those versions are unchanged, in one script, so it is atomic with
//! respect to an invalidation (which bumps the versions, deletes the tagged entries and
//! publishes the message to the other instances, also in one script: see
//! [`super::SharedBus::publish_tags`]). A load that read the store before another
//! instance's write therefore either lands before that write's invalidation (which then
//! deletes it) or is refused.
//!
//! Each call waits at most [`TIER_TIMEOUT`]; after a failure the tier is skipped for
//! [`TIER_BACKOFF`], so an outage costs one timeout per backoff, not one per miss.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use redis::Value;

use super::SharedBus;
use crate::cache::{Lookup, SharedTier, Stamp, TierError, TierFuture};

/// Longest wait for one call.
pub const TIER_TIMEOUT: Duration = Duration::from_millis(50);
/// How long the tier is skipped after a failed call.
pub const TIER_BACKOFF: Duration = Duration::from_secs(1);
/// Longest life of a shared entry, whatever its policy says (tag versions outlive it).
pub const MAX_TTL: Duration = Duration::from_secs(7 * 86_400);

/// KEYS[1] the entry, KEYS[2..] the versions of its tags. Returns {1, bytes} or
/// {0, version, ...}.
const LOOKUP: &str = r#"
local v = redis.call('GET', KEYS[1])
if v then return {1, v} end
local out = {0}
for i = 2, #KEYS do out[i] = tonumber(redis.call('GET', KEYS[i]) or '0') end
return out
"#;

/// KEYS[1] the entry, then n version keys, then n tag-set keys. ARGV[1] the bytes,
/// ARGV[2] the time to live in ms, ARGV[3..] the n versions seen at lookup.
const STORE: &str = r#"
local n = (#KEYS - 1) / 2
for i = 1, n do
  if tonumber(redis.call('GET', KEYS[1 + i]) or '0') ~= tonumber(ARGV[2 + i]) then return 0 end
end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = 1, n do
  local set = KEYS[1 + n + i]
  redis.call('SADD', set, KEYS[1])
  if redis.call('PTTL', set) < ttl then redis.call('PEXPIRE', set, ttl) end
end
return 1
"#;

/// The shared cache tier on the Redis of a [`SharedBus`].
pub struct RedisTier {
    bus: SharedBus,
    lookup: redis::Script,
    store: redis::Script,
    skip_until: Mutex<Option<Instant>>,
}

/// The tags of an entry as the tier keeps them: its own and `*`.
fn with_all(tags: &[String]) -> impl Iterator<Item = &str> {
    tags.iter().map(String::as_str).chain(["*"])
}

impl RedisTier {
    /// The tier on `bus`'s Redis, under the bus's namespace.
    pub fn new(bus: &SharedBus) -> Self {
        Self {
            bus: bus.clone(),
            lookup: redis::Script::new(LOOKUP),
            store: redis::Script::new(STORE),
            skip_until: Mutex::new(None),
        }
    }

    fn skipping(&self) -> bool {
        let mut until = self.skip_until.lock().unwrap_or_else(|p| p.into_inner());
        match *until {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    async fn call<T: redis::FromRedisValue>(
        &self,
        invocation: redis::ScriptInvocation<'_>,
    ) -> Result<T, TierError> {
        if self.skipping() {
            return Err(TierError("skipped after a recent failure".into()));
        }
        let mut conn = self.bus.conn.clone();
        let answer =
            match tokio::time::timeout(TIER_TIMEOUT, invocation.invoke_async(&mut conn)).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => TierError(e.to_string()),
                Err(_) => TierError(format!("no answer within {TIER_TIMEOUT:?}")),
            };
        *self.skip_until.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Instant::now() + TIER_BACKOFF);
        Err(answer)
    }
}

fn malformed() -> TierError {
    TierError("malformed reply".into())
}

impl SharedTier for RedisTier {
    fn lookup<'a>(&'a self, key: &'a str, tags: &'a [String]) -> TierFuture<'a, Lookup> {
        Box::pin(async move {
            let mut invocation = self.lookup.prepare_invoke();
            invocation.key(self.bus.key(&format!("c:{key}")));
            for tag in with_all(tags) {
                invocation.key(self.bus.key(&format!("tv:{tag}")));
            }
            let reply: Vec<Value> = self.call(invocation).await?;
            match reply.split_first() {
                Some((Value::Int(1), [Value::BulkString(bytes)])) => Ok(Lookup::Hit(bytes.clone())),
                Some((Value::Int(0), versions)) => versions
                    .iter()
                    .map(|v| match v {
                        Value::Int(n) => Ok(*n),
                        _ => Err(malformed()),
                    })
                    .collect::<Result<_, _>>()
                    .map(|v| Lookup::Miss(Stamp(v))),
                _ => Err(malformed()),
            }
        })
    }

    fn store<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        ttl: Duration,
        tags: &'a [String],
        stamp: &'a Stamp,
    ) -> TierFuture<'a, bool> {
        Box::pin(async move {
            let mut invocation = self.store.prepare_invoke();
            invocation.key(self.bus.key(&format!("c:{key}")));
            for tag in with_all(tags) {
                invocation.key(self.bus.key(&format!("tv:{tag}")));
            }
            for tag in with_all(tags) {
                invocation.key(self.bus.key(&format!("ts:{tag}")));
            }
            invocation
                .arg(value)
                .arg(ttl.min(MAX_TTL).as_millis().max(1) as u64);
            for v in &stamp.0 {
                invocation.arg(*v);
            }
            let stored: i64 = self.call(invocation).await?;
            Ok(stored == 1)
        })
    }
}
