//! AION's engine room: the parts of the server that know nothing about stories or Dioxus.
//!
//! Each module owns one piece of infrastructure and is usable (and benchmarked) on its own:
//! [`http`] serves an axum router and provides the tower layers around it. The product crate
//! (`app`) wires these together; the dependency only ever points from `app` to here.

pub mod cache;
pub mod http;
pub mod metrics;
pub mod replica;
pub mod schedule;
pub mod shared;
pub mod store;
pub mod tasks;
