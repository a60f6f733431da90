//! Cache invalidation and live events shared by several instances through Redis pub/sub.
//!
//! Each instance keeps its caches in its own memory. When one of them changes data it
//! invalidates its own caches (read-your-writes on that instance), then publishes the tags
//! on one channel and waits for Redis to take the message before the write is answered.
//! Every other instance applies the tags to its own caches as the message arrives, so an
//! acknowledged write is stale elsewhere for at most the delivery delay, which each
//! receiver measures (the message carries its send time) and exposes as
//! `aion_shared_invalidation_delay_seconds`.
//!
//! Pub/sub delivers nothing to an instance that is not connected, so whenever the listener
//! (re)subscribes it first asks its owner to drop everything it holds
//! ([`BusMessage::Resync`]): messages missed while disconnected cannot leave stale
//! entries behind. While Redis is down, instances keep serving from their own caches and
//! the store; publishing fails fast (a short timeout), is counted and logged, and the
//! write still succeeds. The listener reconnects by itself with backoff.
//!
//! An invalidation that could not be published is owed, not forgotten: its tags are kept
//! (at most [`super::MAX_OWED_TAGS`]; past that, everything is owed) and published again, with
//! backoff, until Redis takes them. Without that, an instance whose subscription stayed up
//! while the publisher's own connection failed would keep the old entries for their whole
//! lifetime. Publishing a tag twice only drops entries twice, so a repeat is harmless.
//!
//! Live events (task progress, notifications) travel on a second channel the same way, so a
//! browser connected to one instance follows work that runs on another.
//!
//! Built on the `redis` crate (its connection manager reconnects; its pub/sub connection
//! is re-made here). This module knows tags, not what they name.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sketches_ddsketch::{Config, DDSketch};
use tokio::task::JoinHandle;

use super::owed::Owed;
use crate::metrics::Exposition;

/// Longest wait for Redis to take a published invalidation.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_millis(250);

/// Bumps the versions of tags (KEYS[1..n]), deletes the shared tier's entries in their
/// tag sets (KEYS[n+1..2n]) and publishes ARGV[2] on channel ARGV[1], atomically; ARGV[3]:
/// how long a version is kept (ms), longer than any entry lives.
const INVALIDATE: &str = r#"
local n = #KEYS / 2
for i = 1, n do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
  local members = redis.call('SMEMBERS', KEYS[n + i])
  for _, k in ipairs(members) do redis.call('DEL', k) end
  redis.call('DEL', KEYS[n + i])
end
return redis.call('PUBLISH', ARGV[1], ARGV[2])
"#;

/// Longest wait between two attempts to publish what is owed.
const REPAIR_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// How long a tag's version is kept after its last change: longer than any shared entry
/// lives ([`super::tier::MAX_TTL`]), so a stamp can never match a version that was forgotten
/// and counted again from zero.
const VERSION_TTL: Duration = Duration::from_secs(8 * 86_400);

/// What another instance sent this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusMessage {
    /// Drop entries carrying any of these tags.
    Tags(Vec<String>),
    /// Drop entries carrying any of these tags, changed by a write at this replication
    /// position (instances that are embedded replicas of one libsql server): read nothing
    /// again before the local replica has it.
    TagsAt(Vec<String>, u64),
    /// Drop everything (an operator cleared the caches).
    All,
    /// Drop everything, because messages may have been missed (just (re)subscribed).
    Resync,
    /// A live event (opaque text, the app's own serialisation) to pass on to this
    /// instance's listeners.
    Event(String),
}

/// Why the shared bus could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct SharedError(#[from] redis::RedisError);

#[derive(Default)]
struct Stats {
    published: AtomicU64,
    publish_errors: AtomicU64,
    republished: AtomicU64,
    received: AtomicU64,
    events_received: AtomicU64,
    resyncs: AtomicU64,
    connected: AtomicBool,
    delay: Mutex<Option<DDSketch>>,
}

/// The link of one instance to the others.
#[derive(Clone)]
pub struct SharedBus {
    client: redis::Client,
    pub(super) conn: ConnectionManager,
    namespace: String,
    channel: String,
    events: String,
    instance: String,
    invalidate: Arc<redis::Script>,
    stats: Arc<Stats>,
    owed: Arc<Mutex<Owed>>,
    owed_signal: Arc<tokio::sync::Notify>,
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

impl SharedBus {
    /// A bus on the Redis at `url` (`redis://host:port/db`), on channel
    /// `{namespace}:invalidate`. Connects lazily: a Redis that is down now is not an error.
    pub fn new(url: &str, namespace: &str) -> Result<Self, SharedError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(PUBLISH_TIMEOUT))
            .set_response_timeout(Some(PUBLISH_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(Self {
            client,
            conn,
            namespace: namespace.to_owned(),
            channel: format!("{namespace}:invalidate"),
            events: format!("{namespace}:live"),
            instance: uuid::Uuid::now_v7().simple().to_string(),
            invalidate: Arc::new(redis::Script::new(INVALIDATE)),
            stats: Arc::default(),
            owed: Arc::default(),
            owed_signal: Arc::default(),
        })
    }

    /// This instance's id on the bus (messages it sent are not applied again).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// `name` in this bus's namespace.
    pub(super) fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.namespace)
    }

    /// Drops the shared tier's entries with these tags and tells every other instance to
    /// drop theirs, in one step; true once Redis has done it. Call it before invalidating
    /// this instance's own caches, so a local miss in between cannot bring the old value
    /// back from the shared tier. Failures are counted and logged, never raised: the write
    /// that caused them has happened. A failed publish is owed and sent again by the
    /// listener's task ([`Self::spawn_listener`]) once Redis takes it.
    pub async fn publish_tags(&self, tags: &[&str]) -> bool {
        self.publish(tags, &tags.join("\n")).await
    }

    /// Announces a write at replication `position` that changed no cached value: receivers
    /// get [`BusMessage::TagsAt`] with no tags. Best effort: a failure is counted, not owed
    /// (the receivers' replicas get the write by their own sync interval).
    pub async fn publish_position(&self, position: u64) -> bool {
        self.send(&self.channel, &format!("@{position}\n")).await
    }

    /// [`Self::publish_tags`] for a write at replication `position`, which receivers
    /// get as [`BusMessage::TagsAt`].
    pub async fn publish_tags_at(&self, tags: &[&str], position: u64) -> bool {
        self.publish(tags, &format!("@{position}\n{}", tags.join("\n")))
            .await
    }

    /// Drops every entry of the shared tier and tells every other instance to drop
    /// everything.
    pub async fn publish_clear(&self) -> bool {
        self.publish(&["*"], "*").await
    }

    /// Passes a live event (task progress, a notification) to every other instance, whose
    /// listeners get it as [`BusMessage::Event`]. Best effort, like invalidations.
    pub async fn publish_event(&self, event: &str) -> bool {
        self.send(&self.events, event).await
    }

    async fn publish(&self, tags: &[&str], body: &str) -> bool {
        let mut invocation = self.invalidate.prepare_invoke();
        for tag in tags {
            invocation.key(self.key(&format!("tv:{tag}")));
        }
        for tag in tags {
            invocation.key(self.key(&format!("ts:{tag}")));
        }
        invocation
            .arg(&self.channel)
            .arg(self.message(body))
            .arg(VERSION_TTL.as_millis() as u64);
        let mut conn = self.conn.clone();
        let sent =
            tokio::time::timeout(PUBLISH_TIMEOUT, invocation.invoke_async::<i64>(&mut conn)).await;
        let published = self.sent(sent);
        if !published {
            self.owe(tags);
        }
        published
    }

    fn owe(&self, tags: &[&str]) {
        self.owed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(tags);
        self.owed_signal.notify_one();
    }

    /// How many tags are owed to the other instances now (1 for a clear of everything).
    pub fn owed(&self) -> usize {
        self.owed.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Publishes what failed to publish, whenever something is owed, until Redis takes it.
    async fn repair(&self) {
        loop {
            self.owed_signal.notified().await;
            let mut backoff = Duration::from_millis(50);
            loop {
                let owed = self.owed.lock().unwrap_or_else(|p| p.into_inner()).take();
                let Some((tags, body)) = owed else { break };
                let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
                if self.publish(&tags, &body).await {
                    self.stats.republished.fetch_add(1, Relaxed);
                    tracing::info!(tags = tags.len(), "owed invalidation published");
                    backoff = Duration::from_millis(50);
                } else {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(REPAIR_BACKOFF_MAX);
                }
            }
        }
    }

    fn message(&self, body: &str) -> String {
        format!("{}|{}|{body}", self.instance, now_micros())
    }

    async fn send(&self, channel: &str, body: &str) -> bool {
        let mut conn = self.conn.clone();
        let sent = tokio::time::timeout(
            PUBLISH_TIMEOUT,
            redis::cmd("PUBLISH")
                .arg(channel)
                .arg(self.message(body))
                .query_async::<i64>(&mut conn),
        )
        .await;
        self.sent(sent)
    }

    fn sent(&self, sent: Result<redis::RedisResult<i64>, tokio::time::error::Elapsed>) -> bool {
        match sent {
            Ok(Ok(_)) => {
                self.stats.published.fetch_add(1, Relaxed);
                true
            }
            Ok(Err(e)) => self.publish_failed(&e.to_string()),
            Err(_) => self.publish_failed("timed out"),
        }
    }

    fn publish_failed(&self, why: &str) -> bool {
        let n = self.stats.publish_errors.fetch_add(1, Relaxed);
        // One line per failure would flood the log while Redis is down.
        if n.is_power_of_two() || n == 0 {
            tracing::warn!(errors = n + 1, "publishing an invalidation failed: {why}");
        }
        false
    }

    /// Parses a live event message; `None` for our own and for malformed ones.
    fn parse_event<'a>(&self, payload: &'a str) -> Option<(u64, &'a str)> {
        let mut parts = payload.splitn(3, '|');
        let (from, sent, body) = (parts.next()?, parts.next()?, parts.next()?);
        (from != self.instance).then_some((sent.parse().ok()?, body))
    }

    /// Parses an invalidation message; `None` for our own and for malformed ones.
    fn parse(&self, payload: &str) -> Option<(u64, BusMessage)> {
        let mut parts = payload.splitn(3, '|');
        let (from, sent, body) = (parts.next()?, parts.next()?, parts.next()?);
        if from == self.instance {
            return None;
        }
        let sent = sent.parse().ok()?;
        let at = body
            .strip_prefix('@')
            .and_then(|rest| rest.split_once('\n'))
            .and_then(|(position, tags)| Some((position.parse::<u64>().ok()?, tags)));
        let what = match at {
            Some((position, tags)) => BusMessage::TagsAt(
                tags.split('\n')
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
                position,
            ),
            None if body == "*" => BusMessage::All,
            None => BusMessage::Tags(body.split('\n').map(str::to_owned).collect()),
        };
        Some((sent, what))
    }

    /// Listens for other instances' invalidations until the task is aborted, calling
    /// `apply` for each (and with [`BusMessage::Resync`] on every (re)subscription); the
    /// same task publishes again what this instance failed to publish.
    pub fn spawn_listener(
        &self,
        apply: impl Fn(BusMessage) + Send + Sync + 'static,
    ) -> JoinHandle<()> {
        let bus = self.clone();
        tokio::spawn(async move {
            tokio::join!(bus.listen_forever(&apply), bus.repair());
        })
    }

    async fn listen_forever(&self, apply: &(impl Fn(BusMessage) + Send + Sync)) {
        let mut backoff = Duration::from_millis(50);
        loop {
            match self.listen(apply).await {
                // It was subscribed: a new outage starts from the shortest wait.
                Ok(()) => {
                    tracing::warn!("redis pub/sub connection closed; reconnecting");
                    backoff = Duration::from_millis(50);
                }
                Err(e) => tracing::warn!("redis pub/sub unavailable: {e}; retrying"),
            }
            self.stats.connected.store(false, Relaxed);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    async fn listen(&self, apply: &(impl Fn(BusMessage) + Send + Sync)) -> Result<(), SharedError> {
        let mut pubsub =
            tokio::time::timeout(Duration::from_secs(2), self.client.get_async_pubsub())
                .await
                .map_err(|_| {
                    redis::RedisError::from((redis::ErrorKind::Io, "connect timed out"))
                })??;
        pubsub.subscribe(&self.channel).await?;
        pubsub.subscribe(&self.events).await?;
        self.stats.connected.store(true, Relaxed);
        self.stats.resyncs.fetch_add(1, Relaxed);
        apply(BusMessage::Resync);
        tracing::info!(channel = %self.channel, "listening for other instances' invalidations");
        let mut messages = pubsub.into_on_message();
        while let Some(msg) = messages.next().await {
            let Ok(payload) = msg.get_payload::<String>() else {
                continue;
            };
            if msg.get_channel_name() == self.events {
                if let Some((_, event)) = self.parse_event(&payload) {
                    apply(BusMessage::Event(event.to_owned()));
                    self.stats.events_received.fetch_add(1, Relaxed);
                }
                continue;
            }
            let Some((sent, what)) = self.parse(&payload) else {
                continue;
            };
            apply(what);
            self.stats.received.fetch_add(1, Relaxed);
            let delay = now_micros().saturating_sub(sent) as f64 / 1e6;
            self.stats
                .delay
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert_with(|| DDSketch::new(Config::defaults()))
                .add(delay);
        }
        Ok(())
    }

    /// Whether the listener is subscribed now.
    pub fn connected(&self) -> bool {
        self.stats.connected.load(Relaxed)
    }

    /// Delivery delay quantile `q` (seconds) of the invalidations received so far.
    pub fn delay_quantile(&self, q: f64) -> Option<f64> {
        let delay = self.stats.delay.lock().unwrap_or_else(|p| p.into_inner());
        delay.as_ref().and_then(|d| d.quantile(q).ok().flatten())
    }

    /// Adds the bus's counters to a `/metrics` document.
    pub fn expose(&self, e: &mut Exposition) {
        let s = &self.stats;
        e.gauge(
            "aion_shared_connected",
            "1 while subscribed to the other instances' invalidations.",
            &[],
            f64::from(u8::from(s.connected.load(Relaxed))),
        );
        e.gauge(
            "aion_shared_owed_tags",
            "Invalidation tags that failed to publish and are being sent again (1: a clear of everything).",
            &[],
            self.owed() as f64,
        );
        for (name, help, v) in [
            (
                "aion_shared_published_total",
                "Invalidations and live events published.",
                &s.published,
            ),
            (
                "aion_shared_publish_errors_total",
                "Invalidations that could not be published (Redis down or slow).",
                &s.publish_errors,
            ),
            (
                "aion_shared_republished_total",
                "Owed invalidations published once Redis answered again.",
                &s.republished,
            ),
            (
                "aion_shared_received_total",
                "Invalidations received from other instances.",
                &s.received,
            ),
            (
                "aion_shared_events_received_total",
                "Live events received from other instances.",
                &s.events_received,
            ),
            (
                "aion_shared_resyncs_total",
                "Local caches dropped on (re)subscribing.",
                &s.resyncs,
            ),
        ] {
            e.counter(name, help, &[], v.load(Relaxed) as f64);
        }
        let delay = s.delay.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = delay.as_ref() {
            for q in [0.5, 0.99] {
                if let Ok(Some(v)) = d.quantile(q) {
                    e.gauge(
                        "aion_shared_invalidation_delay_seconds",
                        "From publishing an invalidation to applying it here.",
                        &[("quantile", if q == 0.5 { "0.5" } else { "0.99" })],
                        v,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_name_their_sender_and_tags() {
        let a = SharedBus::new("redis://127.0.0.1:1/", "t").expect("url");
        let b = SharedBus::new("redis://127.0.0.1:1/", "t").expect("url");
        let msg = format!("{}|{}|story:1\nstories:list", a.instance(), 42);
        assert_eq!(a.parse(&msg), None, "own messages are skipped");
        assert_eq!(
            b.parse(&msg),
            Some((
                42,
                BusMessage::Tags(vec!["story:1".into(), "stories:list".into()])
            ))
        );
        assert_eq!(
            b.parse(&format!("{}|7|@1234\nstory:1", a.instance())),
            Some((7, BusMessage::TagsAt(vec!["story:1".into()], 1234))),
            "a write's replication position travels with its tags"
        );
        assert_eq!(
            b.parse(&format!("{}|8|@99\n", a.instance())),
            Some((8, BusMessage::TagsAt(Vec::new(), 99))),
            "a write that changed no cached value announces its position alone"
        );
        assert_eq!(
            b.parse(&format!("{}|1|*", a.instance())),
            Some((1, BusMessage::All))
        );
        assert_eq!(b.parse("garbage"), None);
        let event = format!("{}|7|{{\"type\":\"task\",\"a|b\":1}}", a.instance());
        assert_eq!(a.parse_event(&event), None);
        assert_eq!(
            b.parse_event(&event),
            Some((7, "{\"type\":\"task\",\"a|b\":1}"))
        );
    }

    #[tokio::test]
    async fn publishing_to_a_redis_that_is_down_fails_fast_and_is_counted() {
        let bus = SharedBus::new("redis://127.0.0.1:1/", "t").expect("url");
        let started = std::time::Instant::now();
        assert!(!bus.publish_tags(&["story:1"]).await);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(bus.stats.publish_errors.load(Relaxed), 1);
        assert_eq!(bus.owed(), 1, "the failed tag is owed");
    }
}
