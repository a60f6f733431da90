//! HTTP infrastructure: the listener that serves a router, and (in later modules) the tower
//! layers every request passes through.

mod listener;
pub mod load;

pub use listener::{ServeError, serve, shutdown_signal};
