//! Measurements shared by every part of the engine room: latency histograms for store
//! queries and tasks (HDR, so percentiles are exact to three significant digits, not
//! averaged guesses), request metrics per route with rolling windows (DDSketches of 1 %
//! relative error, which allocate with the spread of the values rather than their range:
//! kilobytes per route instead of HDR's ~190 KB), a history ring for charts, threshold
//! alerts with hysteresis, what the process costs the machine, and the Prometheus text
//! format.

pub mod alerts;
mod histogram;
mod history;
mod process;
pub mod prometheus;
mod requests;

pub use histogram::{Histogram, HistogramSnapshot};
pub use history::History;
pub use process::{ProcessStats, open_files_limit, process_stats};
pub use prometheus::Exposition;
pub use requests::{
    RequestMetrics, RequestsSnapshot, RouteHandle, RouteSnapshot, SlowRequest, WindowStats,
};
