//! Batched updates: many changes coalesced into one request per pause (or per `max_wait`
//! while changes keep coming), flushed at once when the page is hidden or left.
//!
//! Changes are keyed (the editor keys them by field), the newest value of a key wins, and
//! what a failed request carried goes back into the batch unless newer values replaced it,
//! so nothing typed is lost. The status (nothing to save / waiting / saving / saved /
//! failed) drives the editor's "Saving… / Saved / Offline" line.
//!
//! ```ignore
//! let autosave = use_batch(DebounceOptions::trailing(800.0).max_wait(5_000.0), move |changes| {
//!     async move { save(changes).await }
//! });
//! rsx! { textarea { oninput: move |e| autosave.push("content", e.value()) } }
//! ```
//!
//! The timing is [`super::debounce`]'s state machine; this module adds the keyed buffer, the
//! one-request-at-a-time rule and the retry, all unit-tested natively. Batches are small
//! (a form's fields), so they are vectors searched by key, not maps: a map's code costs
//! bundle size and buys nothing at this size.

/// Changes by key, each key once, in the order first changed.
pub type Changes<K, V> = Vec<(K, V)>;

/// Sets `key` to `value` in `changes`.
fn put<K: PartialEq, V>(changes: &mut Changes<K, V>, key: K, value: V) {
    match changes.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => changes.push((key, value)),
    }
}

/// The value of `key` in `changes`.
pub fn get<'a, K: PartialEq, V>(changes: &'a Changes<K, V>, key: &K) -> Option<&'a V> {
    changes.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

use std::future::Future;

use dioxus::core::{Runtime, Task};
use dioxus::prelude::*;

use app::model::{ApiError, ErrorCode};

use super::clock;
use super::debounce::{DebounceOptions, Debouncer};

/// Where the batch stands.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchStatus {
    /// Nothing changed since the last save.
    Idle,
    /// Changes wait for the pause.
    Pending,
    /// A request is under way.
    Saving,
    /// Everything is saved.
    Saved,
    /// The network is down: changes are kept and retried.
    Offline,
    /// The server refused the changes (e.g. a field is too long); they are kept.
    Failed(ApiError),
}

/// The keyed buffer and its timing.
#[derive(Debug)]
pub struct Batch<K: PartialEq + Clone, V: Clone> {
    timer: Debouncer<()>,
    pending: Changes<K, V>,
    in_flight: Option<Changes<K, V>>,
}

impl<K: PartialEq + Clone, V: Clone> Batch<K, V> {
    /// An empty batch timed by `opts`.
    pub fn new(opts: DebounceOptions) -> Self {
        Self {
            timer: Debouncer::new(opts),
            pending: Vec::new(),
            in_flight: None,
        }
    }

    /// A change at `now`; returns a batch to send now (leading edge or `max_wait` up).
    pub fn push(&mut self, now: clock::Millis, key: K, value: V) -> Option<Changes<K, V>> {
        put(&mut self.pending, key, value);
        self.timer.call(now, ()).and_then(|()| self.take())
    }

    /// The timer fired; returns the batch to send if the pause is over.
    pub fn expired(&mut self, now: clock::Millis) -> Option<Changes<K, V>> {
        self.timer.expired(now).and_then(|()| self.take())
    }

    /// When the timer should fire next.
    pub fn deadline(&self) -> Option<clock::Millis> {
        self.timer.deadline()
    }

    /// Everything pending, now (page hidden or left, or an explicit save).
    pub fn flush(&mut self, now: clock::Millis) -> Option<Changes<K, V>> {
        let _ = self.timer.flush(now);
        self.take()
    }

    /// Hands out the pending changes unless a request is already under way (then they wait
    /// for it to finish, so two saves never race).
    fn take(&mut self) -> Option<Changes<K, V>> {
        if self.in_flight.is_some() || self.pending.is_empty() {
            return None;
        }
        let batch = std::mem::take(&mut self.pending);
        self.in_flight = Some(batch.clone());
        Some(batch)
    }

    /// The request ended. On failure its changes go back, under newer ones. Returns the
    /// next batch if changes arrived meanwhile and nothing is waiting for a timer.
    pub fn done(&mut self, ok: bool) -> Option<Changes<K, V>> {
        let sent = self.in_flight.take().unwrap_or_default();
        if !ok {
            for (k, v) in sent {
                if get(&self.pending, &k).is_none() {
                    self.pending.push((k, v));
                }
            }
            return None;
        }
        if self.timer.pending() {
            None
        } else {
            self.take()
        }
    }

    /// Changes not yet saved (pending or in flight), newest value per key.
    pub fn unsaved(&self) -> Changes<K, V> {
        let mut all = self.in_flight.clone().unwrap_or_default();
        for (k, v) in &self.pending {
            put(&mut all, k.clone(), v.clone());
        }
        all
    }

    /// Whether a request is under way.
    pub fn saving(&self) -> bool {
        self.in_flight.is_some()
    }
}

/// One save request, as the page's `send` function made it.
type Saving = std::pin::Pin<Box<dyn Future<Output = Result<(), ApiError>>>>;

/// A batch of keyed changes saved by one async call at a time; `Copy`.
pub struct Batcher<K: PartialEq + Clone + 'static, V: Clone + 'static> {
    batch: CopyValue<Batch<K, V>>,
    send: Callback<Changes<K, V>, Saving>,
    timer: CopyValue<Option<Task>>,
    /// Where the batch stands, for the page to show.
    pub status: Signal<BatchStatus>,
}

impl<K: PartialEq + Clone + 'static, V: Clone + 'static> Clone for Batcher<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K: PartialEq + Clone + 'static, V: Clone + 'static> Copy for Batcher<K, V> {}

impl<K: PartialEq + Clone + 'static, V: Clone + 'static> Batcher<K, V> {
    /// Records a change.
    pub fn push(mut self, key: K, value: V) {
        let out = self.batch.write_unchecked().push(clock::now(), key, value);
        if !self.batch.read_unchecked().saving() {
            self.status.set(BatchStatus::Pending);
        }
        self.dispatch(out);
        self.arm();
    }

    /// Saves everything pending now.
    pub fn flush(self) {
        let out = self.batch.write_unchecked().flush(clock::now());
        self.dispatch(out);
    }

    /// Whether changes wait for the timer or a request is under way.
    pub fn busy(self) -> bool {
        let b = self.batch.read_unchecked();
        b.saving() || b.deadline().is_some()
    }

    /// Changes not yet saved.
    pub fn unsaved(self) -> Changes<K, V> {
        self.batch.read_unchecked().unsaved()
    }

    fn arm(self) {
        if let Some(task) = self.timer.write_unchecked().take() {
            task.cancel();
        }
        let Some(at) = self.batch.read_unchecked().deadline() else {
            return;
        };
        let task = spawn(async move {
            clock::sleep(at - clock::now()).await;
            self.timer.write_unchecked().take();
            let out = self.batch.write_unchecked().expired(clock::now());
            self.dispatch(out);
            self.arm();
        });
        *self.timer.write_unchecked() = Some(task);
    }

    fn set_status(mut self, status: BatchStatus) {
        if let Ok(mut s) = self.status.try_write() {
            *s = status;
        }
    }

    fn dispatch(self, out: Option<Changes<K, V>>) {
        let Some(changes) = out else { return };
        self.set_status(BatchStatus::Saving);
        let request = self.send.call(changes);
        // On the app's scope: the last save of a form that is closing still goes out. If
        // the form is gone when it returns, there is nothing left to update.
        Runtime::current().spawn(ScopeId::APP, async move {
            let result = request.await;
            let Ok(next) = self
                .batch
                .try_write_unchecked()
                .map(|mut b| b.done(result.is_ok()))
            else {
                return;
            };
            match result {
                Ok(()) => {
                    let waiting = self
                        .batch
                        .try_read_unchecked()
                        .is_ok_and(|b| !b.unsaved().is_empty());
                    self.set_status(if waiting {
                        BatchStatus::Pending
                    } else {
                        BatchStatus::Saved
                    });
                    self.dispatch(next);
                }
                Err(e) if matches!(e.code(), ErrorCode::Network | ErrorCode::Unavailable) => {
                    self.set_status(BatchStatus::Offline);
                    // Try again in a while (the network may be back).
                    clock::sleep(3_000.0).await;
                    if self.batch.try_read_unchecked().is_ok() {
                        self.flush();
                    }
                }
                Err(e) => self.set_status(BatchStatus::Failed(e)),
            }
        });
    }
}

/// A batch sent by `send`, timed by `opts`, flushed when the page is hidden or left and
/// when the network comes back.
pub fn use_batch<K, V, Fut>(
    opts: DebounceOptions,
    mut send: impl FnMut(Changes<K, V>) -> Fut + 'static,
) -> Batcher<K, V>
where
    K: PartialEq + Clone + 'static,
    V: Clone + 'static,
    Fut: Future<Output = Result<(), ApiError>> + 'static,
{
    let send = use_callback(move |changes| Box::pin(send(changes)) as Saving);
    let batcher = use_hook(|| Batcher {
        batch: CopyValue::new(Batch::new(opts)),
        send,
        timer: CopyValue::new(None),
        status: Signal::new(BatchStatus::Idle),
    });
    #[cfg(target_arch = "wasm32")]
    {
        // Leaving the page saves now; so does the network coming back (rather than at the
        // next retry).
        let listeners = use_hook(move || {
            let mut all = super::browser::on_page_leave(move || batcher.flush());
            all.extend(super::browser::on_window(&["online"], move || {
                batcher.flush()
            }));
            std::rc::Rc::new(all)
        });
        use_drop(move || drop(listeners));
    }
    use_drop(move || batcher.flush());
    batcher
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> DebounceOptions {
        DebounceOptions::trailing(500.0).max_wait(2_000.0)
    }

    fn fire(
        b: &mut Batch<&'static str, String>,
        until: f64,
    ) -> Vec<(f64, Changes<&'static str, String>)> {
        let mut sent = Vec::new();
        while let Some(at) = b.deadline().filter(|at| *at <= until) {
            if let Some(batch) = b.expired(at) {
                sent.push((at, batch));
            }
        }
        sent
    }

    #[test]
    fn a_burst_of_typing_is_one_request_with_the_last_text() {
        let mut b = Batch::new(opts());
        let mut t = 0.0;
        let mut text = String::new();
        for c in "hello".chars() {
            text.push(c);
            assert!(b.push(t, "content", text.clone()).is_none());
            t += 100.0;
        }
        let sent = fire(&mut b, 10_000.0);
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].0, 400.0 + 500.0);
        assert_eq!(
            get(&sent[0].1, &"content").map(String::as_str),
            Some("hello")
        );
    }

    #[test]
    fn steady_typing_still_saves_every_max_wait() {
        let mut b = Batch::new(opts());
        let mut sent = Vec::new();
        let mut t = 0.0;
        while t < 6_000.0 {
            sent.extend(fire(&mut b, t));
            if let Some(batch) = b.push(t, "content", format!("{t}")) {
                sent.push((t, batch));
            }
            if b.saving() {
                assert!(b.done(true).is_none());
            }
            t += 100.0;
        }
        assert!(sent.len() >= 2, "{sent:?}");
        for pair in sent.windows(2) {
            assert!(pair[1].0 - pair[0].0 <= 2_000.0, "{sent:?}");
        }
    }

    #[test]
    fn changes_made_while_saving_wait_and_go_in_the_next_request() {
        let mut b = Batch::new(opts());
        b.push(0.0, "title", "a".to_owned());
        let first = b.flush(10.0).expect("flushed");
        assert_eq!(first.len(), 1);
        b.push(20.0, "content", "x".to_owned());
        assert!(b.flush(30.0).is_none(), "one request at a time");
        let next = b.done(true).expect("the waiting change goes next");
        assert_eq!(next, vec![("content", "x".to_owned())]);
    }

    #[test]
    fn a_failed_request_keeps_its_changes_under_newer_ones() {
        let mut b = Batch::new(opts());
        b.push(0.0, "title", "old title".to_owned());
        b.push(0.0, "content", "text".to_owned());
        b.flush(1.0).expect("sent");
        b.push(2.0, "title", "new title".to_owned());
        assert!(b.done(false).is_none());
        let unsaved = b.unsaved();
        assert_eq!(
            get(&unsaved, &"title").map(String::as_str),
            Some("new title")
        );
        assert_eq!(get(&unsaved, &"content").map(String::as_str), Some("text"));
        let retry = b.flush(3.0).expect("retried");
        assert_eq!(retry.len(), 2);
        assert!(b.done(true).is_none());
        assert!(b.unsaved().is_empty());
    }

    #[test]
    fn flush_with_nothing_pending_sends_nothing() {
        let mut b: Batch<&str, String> = Batch::new(opts());
        assert!(b.flush(0.0).is_none());
    }
}
