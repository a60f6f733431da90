//! Rate limits shared by every instance: GCRA with the theoretical arrival time of each
//! client kept in Redis and updated by one Lua script, so that N instances allow exactly
//! the configured rate between them, not N times it.
//!
//! The script reads Redis's own clock (`TIME`), so instances with drifting clocks agree,
//! and sets each key to expire when its state is back to fresh: Redis holds at most one key
//! per client active within the last burst period. A check that Redis cannot answer within
//! [`LIMIT_TIMEOUT`] returns an error; the caller then falls back to its own per-instance
//! limiter (documented in SCALING.md), so an outage degrades the limit, never a request.

use std::{net::IpAddr, time::Duration};

use super::{SharedBus, SharedError};

/// Longest wait for Redis to answer a limit check before the local limiter decides.
pub const LIMIT_TIMEOUT: Duration = Duration::from_millis(50);

/// GCRA on Redis's clock. KEYS[1]: the client's key. ARGV[1]: emission interval in
/// microseconds; ARGV[2]: burst. Returns {allowed (0|1), remaining, microseconds to wait
/// (refused) or until the bucket is full again (allowed)}.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if now < allow_at then
  return {0, 0, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, math.ceil((new_tat - now) / 1000)))
local remaining = math.floor((now - allow_at) / interval)
return {1, remaining, new_tat - now}
"#;

/// Redis's answer to one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedDecision {
    /// Let through.
    pub allowed: bool,
    /// Requests still allowed at once after this one.
    pub remaining: u64,
    /// Refused: how long until one is allowed; allowed: until the burst is whole again.
    pub wait: Duration,
}

/// Limit checks against the shared state.
#[derive(Clone)]
pub struct SharedLimits {
    bus: SharedBus,
    script: redis::Script,
    namespace: String,
}

impl SharedLimits {
    /// Limits on the Redis of `bus`, keys under `{namespace}:rl:`.
    pub fn new(bus: &SharedBus, namespace: &str) -> Self {
        Self {
            bus: bus.clone(),
            script: redis::Script::new(GCRA),
            namespace: namespace.to_owned(),
        }
    }

    /// Charges one request of `client` against the limit `kind` (`per_minute`, `burst`).
    pub async fn check(
        &self,
        kind: &str,
        client: IpAddr,
        per_minute: u32,
        burst: u32,
    ) -> Result<SharedDecision, SharedError> {
        let interval_us = (60_000_000 / u64::from(per_minute.max(1))).max(1);
        let key = format!("{}:rl:{kind}:{client}", self.namespace);
        let mut conn = self.bus.conn.clone();
        let answer = tokio::time::timeout(
            LIMIT_TIMEOUT,
            self.script
                .key(key)
                .arg(interval_us)
                .arg(burst.max(1))
                .invoke_async::<(i64, i64, i64)>(&mut conn),
        )
        .await
        .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "limit check timed out")))??;
        let (allowed, remaining, wait_us) = answer;
        Ok(SharedDecision {
            allowed: allowed == 1,
            remaining: remaining.max(0) as u64,
            wait: Duration::from_micros(wait_us.max(0) as u64),
        })
    }
}
