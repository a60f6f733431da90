//! The operator's half: what the running system measures and keeps, and the work done on
//! it. Real-user Web Vitals ([`vitals`], scored by [`vitals_score`]), the alert rules
//! ([`alerts`]), the last hour of samples ([`history`]) and seven days of minutes
//! ([`history_days`]), the dashboard's snapshot ([`snapshot`]) and the `/metrics` document
//! ([`prometheus`]), the dashboard's panels and the `/performance` layers rendered from
//! the snapshot ([`dashboard`]), the client bundle as served ([`bundle`]), and the operator's tasks:
//! backups ([`backup`]) and maintenance ([`maintenance`]), and what the admin endpoints ask
//! for (`operator`).

pub mod alerts;
pub mod backup;
pub mod bundle;
pub mod dashboard;
pub mod history;
pub mod history_days;
pub mod maintenance;
mod operator;
pub mod prometheus;
mod snapshot;
pub mod vitals;
pub mod vitals_score;

pub use backup::{Backup, BackupPayload, list_backups};
pub use maintenance::{Maintenance, MaintenancePayload, Operation};
