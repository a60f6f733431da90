//! Time for the hooks: a millisecond clock and a sleep that work in the browser, and the
//! [`Millis`] type every hook's deciding logic takes as an argument.
//!
//! The logic of each hook (debounce state, cache freshness, batching) never reads a clock
//! itself: it is handed `now` by the thin browser layer, so the native unit tests drive it
//! with a manual clock and assert exact timings without sleeping. In the browser `now` is
//! `performance.now()` (monotonic, sub-millisecond) and sleeping is a `setTimeout` through
//! `gloo-timers`. On the server nothing waits: effects and event handlers never run during
//! server rendering, so a server-side sleep never completes rather than holding a thread.

/// Milliseconds on a monotonic clock.
pub type Millis = f64;

/// Now, in milliseconds since the page started (browser) or since first use (native).
pub fn now() -> Millis {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|w| w.performance())
            .map_or(0.0, |p| p.now())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        use std::time::Instant;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
    }
}

/// Completes after `ms` milliseconds (at least 0) in the browser; never on the server.
pub async fn sleep(ms: Millis) {
    #[cfg(target_arch = "wasm32")]
    {
        gloo_timers::future::TimeoutFuture::new(ms.clamp(0.0, f64::from(u32::MAX)) as u32).await;
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = ms;
        std::future::pending::<()>().await;
    }
}

/// A clock the tests move by hand.
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy)]
pub struct ManualClock(pub Millis);

#[cfg(test)]
impl ManualClock {
    /// Moves the clock forward and returns the new time.
    pub fn advance(&mut self, ms: Millis) -> Millis {
        self.0 += ms;
        self.0
    }
}
