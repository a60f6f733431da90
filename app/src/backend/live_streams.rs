//! Open live-event streams (`GET /api/events`): how many one session and one client address
//! may hold, and how long one lasts.
//!
//! A stream holds a connection, a file descriptor and a broadcast receiver for as long as
//! it is open, and without bounds one client opened them faster than anything closed them
//! (1,200 from one address were all accepted). So each stream takes a [`StreamSlot`]: at
//! most `per_session` for a session (several tabs) and `per_address` for a client address
//! (an office behind one NAT), else 429 naming which. A stream also ends by itself after
//! `max_age`; the browser's `EventSource` opens a new one and the page catches up on what
//! it missed (it reads the notifications again on every open). The slot goes with the
//! response body, whether the stream ended or the client left.
//!
//! Keyed by client input (session, address), so bounded: an entry exists only while one of
//! its streams is open, and open streams are bounded by the connection cap.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::{AppState, identity::Session};
use crate::model::{ApiError, ErrorCode, LiveEvent};

/// What a stream's body yields (the error type Dioxus's `ServerEvents` takes).
pub type StreamItem = Result<LiveEvent, Box<dyn std::error::Error + Send + Sync>>;

impl AppState {
    /// The caller's live events from now on, for at most the streams' `max_age`: task
    /// progress and notifications it may see. Refused (429) past the session's or the
    /// address's bound; the place is held until the returned stream is dropped.
    pub fn live_events(
        &self,
        session: &Session,
        address: Option<IpAddr>,
    ) -> Result<impl Stream<Item = StreamItem> + Send + 'static, ApiError> {
        let streams = self.live_streams();
        let slot = streams.open(session.owner().as_str(), address)?;
        let ends = tokio::time::sleep(streams.max_age());
        let viewer = session.viewer().clone();
        let rx = self.subscribe_live();
        let events = futures_util::stream::unfold((rx, slot), move |(mut rx, slot)| {
            let viewer = viewer.clone();
            async move {
                loop {
                    match rx.recv().await {
                        Ok(message) if viewer.can_see(message.owner.as_deref()) => {
                            return Some((Ok(message.event), (rx, slot)));
                        }
                        Ok(_) | Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
        });
        Ok(events.take_until(ends))
    }
}

/// How many live streams may be open, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// Streams one session may hold open (`AION_EVENT_STREAMS_PER_SESSION`).
    pub per_session: usize,
    /// Streams one client address may hold open (`AION_EVENT_STREAMS_PER_ADDRESS`).
    pub per_address: usize,
    /// How long a stream stays open before the server ends it
    /// (`AION_EVENT_STREAM_MAX_SECS`).
    pub max_age: Duration,
}

#[derive(Default)]
struct Open {
    by_session: HashMap<String, usize>,
    by_address: HashMap<IpAddr, usize>,
    total: usize,
}

/// The open streams of this instance.
pub struct LiveStreams {
    limits: StreamLimits,
    open: Mutex<Open>,
    refused_session: AtomicU64,
    refused_address: AtomicU64,
}

/// One open stream's place; given back when dropped.
pub struct StreamSlot {
    streams: Arc<LiveStreams>,
    session: String,
    address: Option<IpAddr>,
}

impl LiveStreams {
    /// No stream open yet.
    pub fn new(limits: StreamLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            open: Mutex::default(),
            refused_session: AtomicU64::new(0),
            refused_address: AtomicU64::new(0),
        })
    }

    /// How long a stream lasts.
    pub fn max_age(&self) -> Duration {
        self.limits.max_age
    }

    /// A place for one more stream of `session` from `address`, or 429 saying which
    /// bound it would pass.
    pub fn open(
        self: &Arc<Self>,
        session: &str,
        address: Option<IpAddr>,
    ) -> Result<StreamSlot, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let of_session = open.by_session.get(session).copied().unwrap_or(0);
        if of_session >= self.limits.per_session {
            self.refused_session.fetch_add(1, Relaxed);
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                format!(
                    "this session has {} live streams open, the most it may: close a tab, or \
                     wait for one to end",
                    self.limits.per_session
                ),
            ));
        }
        if let Some(ip) = address {
            let of_address = open.by_address.get(&ip).copied().unwrap_or(0);
            if of_address >= self.limits.per_address {
                self.refused_address.fetch_add(1, Relaxed);
                return Err(ApiError::new(
                    ErrorCode::RateLimited,
                    format!(
                        "this address has {} live streams open, the most it may: close some, \
                         or wait for one to end",
                        self.limits.per_address
                    ),
                ));
            }
            *open.by_address.entry(ip).or_default() += 1;
        }
        *open.by_session.entry(session.to_owned()).or_default() += 1;
        open.total += 1;
        Ok(StreamSlot {
            streams: self.clone(),
            session: session.to_owned(),
            address,
        })
    }

    /// Streams open now.
    pub fn open_now(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    /// Adds the streams' figures to a `/metrics` document.
    pub fn expose(&self, e: &mut server::metrics::Exposition) {
        e.gauge(
            "aion_live_streams",
            "Live-event streams (GET /api/events) open now.",
            &[],
            self.open_now() as f64,
        );
        for (bound, n) in [
            ("session", &self.refused_session),
            ("address", &self.refused_address),
        ] {
            e.counter(
                "aion_live_streams_refused_total",
                "Live-event streams refused for passing a bound (per session or address).",
                &[("bound", bound)],
                n.load(Relaxed) as f64,
            );
        }
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_session.get_mut(&self.session) {
            *n -= 1;
            if *n == 0 {
                open.by_session.remove(&self.session);
            }
        }
        if let Some(ip) = self.address
            && let Some(n) = open.by_address.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streams() -> Arc<LiveStreams> {
        LiveStreams::new(StreamLimits {
            per_session: 2,
            per_address: 3,
            max_age: Duration::from_secs(60),
        })
    }

    #[test]
    fn a_session_and_an_address_hold_at_most_their_share_and_get_it_back() {
        let streams = streams();
        let ip: IpAddr = "192.0.2.7".parse().expect("literal");
        let a1 = streams.open("a", Some(ip)).expect("first");
        let _a2 = streams.open("a", Some(ip)).expect("second");
        let third = streams
            .open("a", Some(ip))
            .err()
            .expect("a third for a session");
        assert_eq!(third.code(), ErrorCode::RateLimited);
        assert!(third.message().contains("session"), "{}", third.message());
        let _b1 = streams.open("b", Some(ip)).expect("another session");
        let by_address = streams
            .open("c", Some(ip))
            .err()
            .expect("a fourth for the address");
        assert!(
            by_address.message().contains("address"),
            "{}",
            by_address.message()
        );
        // Another address is not held back by this one.
        let _d = streams
            .open("d", Some("192.0.2.8".parse().expect("literal")))
            .expect("another address");
        drop(a1);
        let _a3 = streams
            .open("a", Some(ip))
            .expect("a freed place is taken again");
        assert_eq!(streams.open_now(), 4);
    }

    #[test]
    fn nothing_is_kept_for_a_session_once_its_streams_are_gone() {
        let streams = streams();
        for i in 0..1_000 {
            let _slot = streams.open(&format!("s{i}"), None).expect("room");
        }
        let open = streams.open.lock().expect("lock");
        assert!(open.by_session.is_empty() && open.by_address.is_empty());
        assert_eq!(open.total, 0);
    }
}
