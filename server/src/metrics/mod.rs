//! Measurements shared by every part of the engine room: latency histograms (HDR, so
//! percentiles are exact to three significant digits, not averaged guesses) and the snapshot
//! types the dashboard and `/metrics` read.

mod histogram;

pub use histogram::{Histogram, HistogramSnapshot};
