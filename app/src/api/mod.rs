//! Server functions, grouped by resource. Each has an explicit, stable path (listed in
//! API.md) so that any HTTP client can use the API, not only this app.

mod health;

pub use health::health;
