//! Serde types shared by client and server: what travels over the wire, and the parsing of
//! input into types that cannot hold invalid values.

/// Enums that travel as their wire names (the task enums, visibility, roles). Written by
/// hand rather than derived:
/// the derived (de)serialisers, with their variant tables and messages, cost the client
/// 1,047 bytes brotli more than this (`cargo xtask bundle-size`, builds side by side).
///
/// On the server each also describes itself to the API document: a string, one of `$names`.
macro_rules! wire_name {
    ($t:ty, $what:literal, $names:expr, |$s:ident| $parse:expr) => {
        #[cfg(feature = "server")]
        impl utoipa::PartialSchema for $t {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some($names.iter().map(|v: &$t| v.as_str())))
                    .into()
            }
        }

        #[cfg(feature = "server")]
        impl utoipa::ToSchema for $t {}

        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let $s = String::deserialize(deserializer)?;
                $parse.ok_or_else(|| serde::de::Error::custom(concat!("unknown ", $what)))
            }
        }
    };
}

mod account;
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

pub use account::{
    Account, AccountPage, Collaborator, CollaboratorRole, Collaborators, Credentials, PasskeyView,
    PasswordChange, SessionList, SessionView, ShareRequest, StoryScope, Visibility,
};
pub use body::{BATCH_BODY_LIMIT, DEFAULT_BODY_LIMIT, JsonBody};
pub use cover::{
    COVER_WIDTHS, Cover, CoverUploaded, MediaFormat, media_url, scaled_height, variant_widths,
};
pub use error::{ApiError, ErrorBody, ErrorCode};
pub use health::Health;
pub use node::{
    BatchNode, Deleted, MoveNode, NewNode, Node, NodeBatch, NodeBatchResult, NodeKind, NodePatch,
    NodeSummary, NodeView, OutlinePage, StoryTree,
};
pub use snapshot::{
    AlertView, ApiSection, CacheSection, DatabaseSection, HistoryPoint, Latency, LoopView,
    MetricsHistory, MetricsSnapshot, PolicyView, QueryKindView, ReplicaView, ResourcesSection,
    RouteLatency, SlowQueryView, SlowRequestView, TierView,
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
