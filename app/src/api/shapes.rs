//! Shapes the API document describes that no handler has as a type: the query strings of
//! the server functions that take theirs as strings (parsed and checked by the backend),
//! and the small JSON objects some handlers build by hand. They only document (the
//! `utoipa::path` annotations name them); `openapi` gathers them into the document.
#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::{IntoParams, ToSchema, openapi};

#[allow(unused_imports)] // Named by the query types.
use app::model::{StorySort, StoryStatus, TaskStatus};

/// `GET /api/stories`'s query: all optional; a bad value is a 400 naming it.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StoryListQuery {
    /// Page size, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Stories to skip (to jump to a position; follow `next_cursor` for the next page).
    #[param(minimum = 0, maximum = 10000000)]
    offset: Option<u32>,
    /// Only stories in this state.
    status: Option<StoryStatus>,
    /// Only stories with this tag.
    tag: Option<String>,
    /// Full-text search in titles and summaries.
    q: Option<String>,
    /// Order, default `updated_desc`.
    sort: Option<StorySort>,
    /// Whose stories: public ones, the caller's own, or those shared with the caller
    /// (default: public ones and the caller's own).
    scope: Option<Scope>,
}

/// `GET /api/stories/{id}/tree`'s query: all optional; without any, a small story comes
/// whole. A bad value is a 400 naming it.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TreePageQuery {
    /// Nodes per page, default 500 (and about 2 MiB of text at most).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Nodes to skip in the depth-first order (not with `cursor`).
    #[param(minimum = 0, maximum = 10000000)]
    offset: Option<u32>,
}

/// `GET /api/stories/{id}/outline`'s query.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutlineQuery {
    /// Rows per page, default 500.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Rows to skip in the depth-first order.
    #[param(minimum = 0, maximum = 10000000)]
    offset: Option<u32>,
}

/// `GET /api/stories/{id}/view`'s query.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViewQuery {
    /// The node (a UUID); without it, the story's first top-level node.
    node: Option<String>,
}

/// Whose stories a list shows.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Public,
    Mine,
    Shared,
}

/// `GET /api/tasks`'s query.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskListQuery {
    /// Only tasks in this state.
    status: Option<TaskStatus>,
    /// Page size, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_before` of the previous page.
    before: Option<String>,
}

/// How far back a chart reaches.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Range {
    /// The last hour, a point per 5 s (default).
    Hour,
    /// The last 7 days, a point per minute.
    Week,
}

/// `GET /api/metrics/history`'s query.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only points taken after this (Unix milliseconds, a point's `at_unix_ms`).
    since_ms: Option<u64>,
    range: Option<Range>,
}

/// Which latency percentile the dashboard shows.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Percentile {
    P50,
    P95,
    P99,
}

/// `GET /api/metrics/dashboard`'s query.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// Default `p95`.
    percentile: Option<Percentile>,
    range: Option<Range>,
}

/// The dashboard's panels rendered as HTML.
#[derive(ToSchema)]
pub struct Panels {
    at_unix_ms: u64,
    /// `[id, html]` pairs, in page order.
    #[schema(schema_with = pairs_of_strings)]
    panels: Vec<(String, String)>,
}

/// `[[string, string], ...]`. utoipa writes a tuple as `prefixItems` (right for 3.1), which
/// schemathesis 4.32 refuses as an invalid schema; this is the same constraint without it.
fn pairs_of_strings() -> openapi::schema::Array {
    use openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ArrayBuilder::new()
                .items(ObjectBuilder::new().schema_type(Type::String))
                .min_items(Some(2))
                .max_items(Some(2)),
        )
        .build()
}

/// One layer of the `/performance` page, rendered as HTML.
#[derive(ToSchema)]
pub struct Layer {
    title: String,
    about: String,
    live: String,
    bench: String,
}

/// The `/performance` page's layers by id (`http`, `store`, `cache`, `tasks`, `client`).
#[derive(ToSchema)]
pub struct Layers {
    at_unix_ms: u64,
    layers: BTreeMap<String, Layer>,
}

/// What `POST /api/vitals` recorded.
#[derive(ToSchema)]
pub struct Recorded {
    /// Metrics taken from the report.
    recorded: u32,
}

/// The caches were emptied.
#[derive(ToSchema)]
pub struct Cleared {
    cleared: bool,
}

/// Whether admin actions are open on this server and whether the caller may use them.
#[derive(ToSchema)]
pub struct AdminStatus {
    /// The server has an admin token.
    configured: bool,
    /// This request is an operator's (the token, or a session unlocked with it).
    admin: bool,
}

/// A started passkey ceremony.
#[derive(ToSchema)]
pub struct Ceremony {
    /// Sent back with the browser's answer.
    ceremony: String,
    /// `{"publicKey": {...}}` for the browser's WebAuthn call.
    options: serde_json::Value,
}

/// Database operations `POST /api/admin/db/{operation}` runs.
#[derive(ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DbOperation {
    Analyze,
    Optimize,
    Vacuum,
    Checkpoint,
    IntegrityCheck,
}

/// Maintenance runs `POST /api/admin/maintenance/{operation}` starts: the names the
/// maintenance task knows (`Operation::ALL`), so the document follows them.
pub struct MaintenanceOperation;

impl utoipa::PartialSchema for MaintenanceOperation {
    fn schema() -> openapi::RefOr<openapi::schema::Schema> {
        openapi::schema::ObjectBuilder::new()
            .schema_type(openapi::schema::Type::String)
            .enum_values(Some(app::backend::ops::maintenance::Operation::ALL))
            .into()
    }
}

impl ToSchema for MaintenanceOperation {}
