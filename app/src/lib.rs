//! The AION library half: wire types shared by client and server ([`model`]) and, with the
//! `server` feature, the domain backend ([`backend`]): configuration, state, SQL
//! repositories, demo data and task handlers.
//!
//! The binary (`main.rs`) holds the UI and the server functions; keeping them there means
//! every server function is registered in the binary that serves it. Benchmarks and tests
//! use this library directly.

pub mod model;

#[cfg(feature = "server")]
pub mod backend;
