//! Notifications: what finished tasks tell the user, stored, and pushed live.
//!
//! A listener follows the task queue's events: it forwards every change to the live stream
//! (`GET /api/events`) and turns completed and failed tasks into stored notifications.
//! Cancelled tasks make none: the user asked for that. Both carry the task's owner, so each
//! client sees only its own (see `identity`).
//!
//! A task gets exactly one notification: the table allows one per task, and at start
//! [`recover`] makes those that a crash between a task's end and its notification lost.

use serde_json::Value;
use server::{
    store::{Row, SqlError, Store, params},
    tasks::{Status, TaskEvent},
};
use tokio::{sync::broadcast, task::JoinHandle};

use super::{
    AppState,
    identity::{Sees, Viewer},
    tasks::status_of,
    time::{now_micros, to_rfc3339},
};
use crate::model::{
    ApiError, LiveEvent, Notification, NotificationList, TaskKind, fields::Id, result_url,
};

impl AppState {
    /// The caller's latest notifications and unread count.
    pub async fn notifications(&self, viewer: &Viewer) -> Result<NotificationList, ApiError> {
        list(self.store(), viewer).await
    }

    /// Marks the caller's notifications read (these ids, or all); the list as it is now.
    pub async fn mark_notifications_read(
        &self,
        viewer: &Viewer,
        ids: Option<&[String]>,
    ) -> Result<NotificationList, ApiError> {
        mark_read(self.store(), viewer, ids).await?;
        list(self.store(), viewer).await
    }

    /// Live events from now on (task progress, notifications), each with its owner: the
    /// receiver shows each one only to who may see it.
    pub fn subscribe_live(&self) -> broadcast::Receiver<LiveMessage> {
        self.live().subscribe()
    }
}

/// Notifications listed at most.
pub const LIST_LIMIT: i64 = 50;

/// A live event and who may see it (`None`: operators only).
#[derive(Debug, Clone)]
pub struct LiveMessage {
    /// The owner of the task the event is about.
    pub owner: Option<String>,
    /// The event.
    pub event: LiveEvent,
}

/// A live message as it travels between instances (see `server::shared`).
#[derive(serde::Serialize, serde::Deserialize)]
struct Relayed {
    owner: Option<String>,
    event: LiveEvent,
}

/// Sends a live message to this instance's streams and, when instances share a Redis, to
/// every other instance's, so a browser follows work wherever it runs.
pub async fn broadcast(state: &AppState, message: LiveMessage) {
    if let Some(bus) = state.shared() {
        let relayed = Relayed {
            owner: message.owner.clone(),
            event: message.event.clone(),
        };
        if let Ok(json) = serde_json::to_string(&relayed) {
            bus.publish_event(&json).await;
        }
    }
    let _ = state.live().send(message);
}

/// A live message another instance relayed (`None` if it is not one).
pub fn relayed(json: &str) -> Option<LiveMessage> {
    let Relayed { owner, event } = serde_json::from_str(json).ok()?;
    Some(LiveMessage { owner, event })
}

fn from_row(r: &Row) -> Result<Notification, SqlError> {
    Ok(Notification {
        id: r.get(0)?,
        level: r.get(1)?,
        title: r.get(2)?,
        body: r.get(3)?,
        link: r.get(4)?,
        task_id: r.get(5)?,
        created_at: to_rfc3339(r.get(6)?),
        read: r.get::<Option<i64>>(7)?.is_some(),
    })
}

/// What a new notification says.
pub struct NewNotification<'a> {
    /// `success` or `failure`.
    pub level: &'a str,
    /// One line.
    pub title: &'a str,
    /// Details.
    pub body: &'a str,
    /// Where to go.
    pub link: Option<&'a str>,
    /// The task's public id.
    pub task_uid: Option<&'a str>,
    /// Who may see it.
    pub owner: Option<&'a str>,
}

/// Stores a notification; `None` if its task has one already.
pub async fn create(
    store: &Store,
    n: NewNotification<'_>,
) -> Result<Option<Notification>, ApiError> {
    let id = super::new_id();
    let now = now_micros();
    let mut writer = store.write().await?;
    // The insert and the trim commit together: a crash between them left an owner one
    // over its bound (the crash soak found 201).
    let tx = writer.begin().await?;
    let inserted = tx
        .execute(
            "notification.create",
            "INSERT OR IGNORE INTO notifications
                (id, level, title, body, link, task_uid, owner, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id.as_str(),
                n.level,
                n.title,
                n.body,
                n.link,
                n.task_uid,
                n.owner,
                now
            ],
        )
        .await?;
    if inserted == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    // The owner keeps the newest KEEP_PER_OWNER (by `notifications_by_owner`).
    if let Some(owner) = n.owner {
        tx.execute(
            "notification.trim",
            "DELETE FROM notifications WHERE owner = ?1 AND seq <=
                   (SELECT seq FROM notifications WHERE owner = ?1
                    ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
            params![owner, KEEP_PER_OWNER],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(Notification {
        id,
        level: n.level.to_owned(),
        title: n.title.to_owned(),
        body: n.body.to_owned(),
        link: n.link.map(str::to_owned),
        task_id: n.task_uid.map(str::to_owned),
        created_at: to_rfc3339(now),
        read: false,
    }))
}

/// Makes the notifications of finished tasks that have none (a crash came between the
/// task's end and its notification); how many.
pub async fn recover(state: &AppState) -> Result<usize, ApiError> {
    let mut made = 0;
    for id in missing(state.store()).await? {
        let Some(task) = state.tasks().get(id).await? else {
            continue;
        };
        let event = TaskEvent {
            id: task.id,
            uid: task.uid.clone(),
            owner: task.owner.clone(),
            kind: task.kind.clone(),
            status: task.status,
            progress: task.progress,
            message: task.message.clone(),
            error: task.error.clone(),
        };
        notify(state, &event).await?;
        made += 1;
    }
    Ok(made)
}

/// Finished tasks whose notification is missing because a crash came between the task's
/// end and its notification, not because the owner's newest [`KEEP_PER_OWNER`] left it
/// out: a task that ended before the oldest notification an owner at that bound keeps had
/// one, trimmed since. (Without that condition every restart brought trimmed notifications
/// back, each pushing out a newer one: the crash soak found it, 201 notifications kept and
/// older tasks' ones in place of newer.) Task times are milliseconds, notification times
/// microseconds.
const MISSING: &str = "SELECT id FROM tasks t WHERE status IN ('completed', 'failed')
    AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.task_uid = t.uid)
    AND NOT ((SELECT count(*) FROM notifications n WHERE n.owner IS t.owner) >= ?1
             AND t.finished_at * 1000 <=
                 (SELECT min(created_at) FROM notifications n WHERE n.owner IS t.owner))";

async fn missing(store: &Store) -> Result<Vec<i64>, ApiError> {
    let conn = store.read().await?;
    Ok(conn
        .query("notification.missing", MISSING, [KEEP_PER_OWNER], |r| {
            r.get::<i64>(0)
        })
        .await?)
}

/// Whose notifications a statement touches.
enum Scope {
    /// Everyone's (operators).
    All,
    /// One owner's.
    Owner(String),
}

/// The viewer's scope; a viewer without a session has none.
fn scope(viewer: &Viewer) -> Option<Scope> {
    match viewer.sees() {
        Sees::All => Some(Scope::All),
        Sees::Own(owner) => Some(Scope::Owner(owner.as_str().to_owned())),
        Sees::Nothing => None,
    }
}

/// The latest notifications: everyone's (by the primary key) or one owner's (by
/// `notifications_by_owner`). Separate statements, so neither scans the table (`?1 OR
/// owner = ?2` did: `SCAN notifications`, ~20 ms at 200k rows).
pub const LIST_ALL: &str = "SELECT id, level, title, body, link, task_uid, created_at, read_at
     FROM notifications ORDER BY seq DESC LIMIT ?1";
/// See [`LIST_ALL`].
pub const LIST_OWN: &str = "SELECT id, level, title, body, link, task_uid, created_at, read_at
     FROM notifications WHERE owner = ?2 ORDER BY seq DESC LIMIT ?1";
/// Unread, everyone's (`notifications_unread`) or one owner's
/// (`notifications_unread_by_owner`).
pub const UNREAD_ALL: &str = "SELECT count(*) FROM notifications WHERE read_at IS NULL";
/// See [`UNREAD_ALL`].
pub const UNREAD_OWN: &str =
    "SELECT count(*) FROM notifications WHERE read_at IS NULL AND owner = ?1";

/// Notifications kept per owner: the newest (the bell shows [`LIST_LIMIT`]).
pub const KEEP_PER_OWNER: i64 = 200;

/// The viewer's latest notifications and unread count.
pub async fn list(store: &Store, viewer: &Viewer) -> Result<NotificationList, ApiError> {
    let Some(scope) = scope(viewer) else {
        return Ok(NotificationList {
            items: Vec::new(),
            unread: 0,
        });
    };
    let conn = store.read().await?;
    let items = match &scope {
        Scope::All => {
            conn.query("notification.list", LIST_ALL, params![LIST_LIMIT], from_row)
                .await?
        }
        Scope::Owner(owner) => {
            conn.query(
                "notification.list",
                LIST_OWN,
                params![LIST_LIMIT, owner.as_str()],
                from_row,
            )
            .await?
        }
    };
    let unread = unread(&conn, &scope).await?;
    Ok(NotificationList { items, unread })
}

async fn unread(conn: &server::store::Conn, scope: &Scope) -> Result<u64, ApiError> {
    let n = match scope {
        Scope::All => {
            conn.query_i64("notification.unread", UNREAD_ALL, ())
                .await?
        }
        Scope::Owner(owner) => {
            conn.query_i64("notification.unread", UNREAD_OWN, [owner.as_str()])
                .await?
        }
    };
    Ok(n as u64)
}

/// Unread notifications of `owner` (none without one: an ownerless task notifies nobody's
/// bell but an operator's, who reads the list).
pub async fn unread_count(store: &Store, owner: Option<&str>) -> Result<u64, ApiError> {
    match owner {
        Some(owner) => unread(&*store.read().await?, &Scope::Owner(owner.to_owned())).await,
        None => Ok(0),
    }
}

/// Deletes notifications older than `max_age` (their tasks are cleaned up on the same
/// schedule); how many.
pub async fn sweep(store: &Store, max_age: std::time::Duration) -> Result<u64, ApiError> {
    let before = now_micros() - i64::try_from(max_age.as_micros()).unwrap_or(i64::MAX);
    let writer = store.write().await?;
    Ok(writer
        .execute(
            "notification.sweep",
            "DELETE FROM notifications WHERE created_at < ?1",
            [before],
        )
        .await?)
}

/// Ids one `POST /api/notifications/read` may name.
pub const MARK_READ_MAX: usize = 500;

/// Marks some of the viewer's notifications (or all of them) read, in one statement.
pub async fn mark_read(
    store: &Store,
    viewer: &Viewer,
    ids: Option<&[String]>,
) -> Result<(), ApiError> {
    let now = now_micros();
    if ids.is_some_and(|ids| ids.len() > MARK_READ_MAX) {
        return Err(ApiError::invalid(
            "ids",
            format!(
                "ids has {} entries; at most {MARK_READ_MAX} are allowed (send no ids to mark all read)",
                ids.map_or(0, <[String]>::len)
            ),
        ));
    }
    let Some(scope) = scope(viewer) else {
        return Ok(());
    };
    // `?3` NULL: everyone's (operators).
    let owner = match &scope {
        Scope::All => None,
        Scope::Owner(owner) => Some(owner.clone()),
    };
    let Some(ids) = ids else {
        let writer = store.write().await?;
        match &owner {
            None => {
                writer
                    .execute(
                        "notification.read_all",
                        "UPDATE notifications SET read_at = ?1 WHERE read_at IS NULL",
                        [now],
                    )
                    .await?
            }
            Some(owner) => writer
                .execute(
                    "notification.read_all",
                    "UPDATE notifications SET read_at = ?1 WHERE read_at IS NULL AND owner = ?2",
                    params![now, owner.as_str()],
                )
                .await?,
        };
        return Ok(());
    };
    let parsed = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Id::parse(&format!("ids[{i}]"), id).map(|id| id.as_str().to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    if parsed.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(&parsed).map_err(|e| {
        tracing::error!("notification ids did not serialise: {e}");
        ApiError::internal()
    })?;
    let writer = store.write().await?;
    writer
        .execute(
            "notification.read",
            "UPDATE notifications SET read_at = ?1
             WHERE read_at IS NULL AND id IN (SELECT value FROM json_each(?2))
               AND (?3 IS NULL OR owner = ?3)",
            params![now, json, owner],
        )
        .await?;
    Ok(())
}

/// Follows task events: forwards them live and makes notifications of finished tasks.
pub fn spawn_listener(state: AppState) -> JoinHandle<()> {
    let mut events = state.tasks().subscribe();
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    // The events missed are gone, their notifications are not: make those
                    // of the tasks that finished meanwhile from the tasks table.
                    tracing::warn!(missed = n, "task events came faster than they were read");
                    match recover(&state).await {
                        Ok(made) => tracing::info!(made, "notifications of missed events made"),
                        Err(e) => tracing::warn!("recovering missed notifications failed: {e:?}"),
                    }
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let message = LiveMessage {
                owner: event.owner.clone(),
                event: LiveEvent::Task {
                    id: event.uid.clone(),
                    kind: TaskKind::parse(&event.kind),
                    status: status_of(event.status),
                    progress: event.progress,
                    message: event.message.clone(),
                    error: event.error.clone(),
                },
            };
            broadcast(&state, message).await;
            if matches!(event.status, Status::Completed | Status::Failed)
                && let Err(e) = notify(&state, &event).await
            {
                tracing::warn!(task = event.id, "making a notification failed: {e:?}");
            }
        }
    })
}

async fn notify(state: &AppState, event: &TaskEvent) -> Result<(), ApiError> {
    let task = state.tasks().get(event.id).await.ok().flatten();
    let payload = task.as_ref().map(|t| &t.payload);
    let story_id = payload
        .and_then(|p| p.get("story_id"))
        .and_then(Value::as_str);
    let kind = TaskKind::parse(&event.kind);
    let what = match story_id {
        Some(id) => {
            let title = match Id::parse("story_id", id) {
                Ok(id) => state.story(&id).await.map(|s| s.title.clone()).ok(),
                Err(_) => None,
            };
            format!("{} of “{}”", kind.label(), title.as_deref().unwrap_or(id))
        }
        None if kind == TaskKind::Report => "Library report".to_owned(),
        None => kind.label().to_owned(),
    };
    let result = task.as_ref().and_then(|t| t.result.as_ref());
    let (level, title, body, link) = if event.status == Status::Completed {
        let size = result
            .and_then(|r| r.get("bytes"))
            .and_then(Value::as_u64)
            .map(|b| format!("{:.1} KB", b as f64 / 1024.0))
            .unwrap_or_default();
        let link = result
            .and_then(|r| r.get("file"))
            .map(|_| result_url(&event.uid));
        ("success", format!("{what} is ready"), size, link)
    } else {
        let error = event.error.clone().unwrap_or_default();
        (
            "failure",
            format!("{what} failed"),
            error,
            Some("/tasks".to_owned()),
        )
    };
    let owner = event.owner.as_deref();
    let Some(n) = create(
        state.store(),
        NewNotification {
            level,
            title: &title,
            body: &body,
            link: link.as_deref(),
            task_uid: Some(&event.uid),
            owner,
        },
    )
    .await?
    else {
        return Ok(()); // made already (before a restart, or by the recovery at start)
    };
    let unread = unread_count(state.store(), owner).await?;
    let message = LiveMessage {
        owner: event.owner.clone(),
        event: LiveEvent::Notification {
            notification: n,
            unread,
        },
    };
    broadcast(state, message).await;
    Ok(())
}

#[cfg(test)]
mod tests;
