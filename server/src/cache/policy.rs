//! Cache policies: which kind of data an entry holds decides how long it may live.
//!
//! The cache does not know the kinds; the application defines them as an enum implementing
//! [`CachePolicy`] (typed, so a misspelt kind is a compile error, not a silent default).

use std::{hash::Hash, time::Duration};

/// A kind of cached data with its time to live.
///
/// ```
/// use std::time::Duration;
/// use server::cache::CachePolicy;
///
/// #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
/// enum Kind { Page, Asset }
///
/// impl CachePolicy for Kind {
///     const ALL: &'static [Self] = &[Kind::Page, Kind::Asset];
///     fn ttl(&self) -> Duration {
///         match self { Kind::Page => Duration::from_secs(300), Kind::Asset => Duration::from_secs(86_400) }
///     }
///     fn name(&self) -> &'static str {
///         match self { Kind::Page => "page", Kind::Asset => "asset" }
///     }
/// }
/// assert_eq!(Kind::Page.ttl(), Duration::from_secs(300));
/// ```
pub trait CachePolicy: Copy + Eq + Hash + Send + Sync + std::fmt::Debug + 'static {
    /// Every policy, for statistics.
    const ALL: &'static [Self];
    /// How long an entry of this kind may live in any tier.
    fn ttl(&self) -> Duration;
    /// A stable name for statistics and metrics.
    fn name(&self) -> &'static str;
}
