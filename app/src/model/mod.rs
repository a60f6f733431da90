//! Serde types shared by client and server: what travels over the wire, and the parsing of
//! input into types that cannot hold invalid values.

mod body;
mod cover;
mod error;
pub mod fields;
mod health;
mod node;
#[cfg(all(test, feature = "server"))]
mod properties;
mod snapshot;
mod story;
mod task;
mod vitals;

pub use body::{BATCH_BODY_LIMIT, DEFAULT_BODY_LIMIT, JsonBody};
pub use cover::{
    COVER_WIDTHS, Cover, CoverUploaded, MediaFormat, media_url, scaled_height, variant_widths,
};
pub use error::{ApiError, ErrorBody, ErrorCode};
pub use health::Health;
pub use node::{
    BatchNode, Deleted, MoveNode, NewNode, Node, NodeBatch, NodeBatchResult, NodeKind, NodePatch,
    StoryTree,
};
pub use snapshot::{
    AlertView, ApiSection, CacheSection, DatabaseSection, HistoryPoint, Latency, LoopView,
    MetricsHistory, MetricsSnapshot, PolicyView, QueryKindView, ResourcesSection, RouteLatency,
    SlowQueryView, SlowRequestView, TierView,
};
pub use story::{NewStory, Story, StoryPage, StoryPatch, StorySort, StoryStatus};
pub use task::{
    AdminUnlock, EXPORT_FORMAT, EXPORT_VERSION, ExportRequest, ExportedCover, ExportedNode,
    ExportedStory, LiveEvent, MarkRead, Notification, NotificationList, Priority, ReportRequest,
    StoryExport, TaskKind, TaskList, TaskStats, TaskStatus, TaskView, millis, per_second,
    result_url,
};
pub use vitals::{
    MetricVitals, NAVIGATION_TYPES, PageVitals, VITAL_ROUTES, ValidVitals, Vital, VitalSample,
    VitalsReport, VitalsSummary,
};
