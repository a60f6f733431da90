//! Notifications: what finished tasks tell the user, stored, and pushed live.
//!
//! A listener follows the task queue's events: it forwards every change to the live stream
//! (`GET /api/events`) and turns completed and failed tasks into stored notifications.
//! Cancelled tasks make none: the user asked for that.

use serde_json::Value;
use server::{
    store::{Row, SqlError, Store, params},
    tasks::{Status, TaskEvent},
};
use tokio::{sync::broadcast, task::JoinHandle};

use super::{
    AppState,
    time::{now_micros, to_rfc3339},
};
use crate::model::{ApiError, LiveEvent, Notification, NotificationList, fields::Id, kind_label};

/// Notifications listed at most.
pub const LIST_LIMIT: i64 = 50;

fn from_row(r: &Row) -> Result<Notification, SqlError> {
    Ok(Notification {
        id: r.get(0)?,
        level: r.get(1)?,
        title: r.get(2)?,
        body: r.get(3)?,
        link: r.get(4)?,
        task_id: r.get::<Option<i64>>(5)?.map(|t| t.to_string()),
        created_at: to_rfc3339(r.get(6)?),
        read: r.get::<Option<i64>>(7)?.is_some(),
    })
}

/// Stores a notification.
pub async fn create(
    store: &Store,
    level: &str,
    title: &str,
    body: &str,
    link: Option<&str>,
    task_id: Option<i64>,
) -> Result<Notification, ApiError> {
    let id = super::new_id();
    let now = now_micros();
    let writer = store.write().await?;
    writer
        .execute(
            "notification.create",
            "INSERT INTO notifications (id, level, title, body, link, task_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id.as_str(), level, title, body, link, task_id, now],
        )
        .await?;
    Ok(Notification {
        id,
        level: level.to_owned(),
        title: title.to_owned(),
        body: body.to_owned(),
        link: link.map(str::to_owned),
        task_id: task_id.map(|t| t.to_string()),
        created_at: to_rfc3339(now),
        read: false,
    })
}

/// The latest notifications and the unread count.
pub async fn list(store: &Store) -> Result<NotificationList, ApiError> {
    let conn = store.read().await?;
    let items = conn
        .query(
            "notification.list",
            "SELECT id, level, title, body, link, task_id, created_at, read_at
             FROM notifications ORDER BY seq DESC LIMIT ?1",
            [LIST_LIMIT],
            from_row,
        )
        .await?;
    let unread = unread(&conn).await?;
    Ok(NotificationList { items, unread })
}

async fn unread(conn: &server::store::Conn) -> Result<u64, ApiError> {
    Ok(conn
        .query_i64(
            "notification.unread",
            "SELECT count(*) FROM notifications WHERE read_at IS NULL",
            (),
        )
        .await? as u64)
}

/// Unread notifications.
pub async fn unread_count(store: &Store) -> Result<u64, ApiError> {
    unread(&*store.read().await?).await
}

/// Marks some notifications (or all) read.
pub async fn mark_read(store: &Store, ids: Option<&[String]>) -> Result<(), ApiError> {
    let now = now_micros();
    let writer = store.write().await?;
    match ids {
        None => {
            writer
                .execute(
                    "notification.read_all",
                    "UPDATE notifications SET read_at = ?1 WHERE read_at IS NULL",
                    [now],
                )
                .await?;
        }
        Some(ids) => {
            for (i, id) in ids.iter().enumerate() {
                Id::parse(&format!("ids[{i}]"), id)?;
            }
            for id in ids {
                writer
                    .execute(
                        "notification.read",
                        "UPDATE notifications SET read_at = ?2 WHERE id = ?1 AND read_at IS NULL",
                        params![id.as_str(), now],
                    )
                    .await?;
            }
        }
    }
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
                    tracing::warn!(missed = n, "task events came faster than they were read");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let _ = state.live().send(LiveEvent::Task {
                id: event.id.to_string(),
                kind: event.kind.clone(),
                status: event.status.as_str().to_owned(),
                progress: event.progress,
                message: event.message.clone(),
                error: event.error.clone(),
            });
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
    let what = match story_id {
        Some(id) => {
            let title = match Id::parse("story_id", id) {
                Ok(id) => state.story(&id).await.map(|s| s.title.clone()).ok(),
                Err(_) => None,
            };
            format!(
                "{} of “{}”",
                kind_label(&event.kind),
                title.as_deref().unwrap_or(id)
            )
        }
        None if event.kind == "report" => "Library report".to_owned(),
        None => kind_label(&event.kind).to_owned(),
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
            .map(|_| format!("/api/tasks/{}/result", event.id));
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
    let n = create(
        state.store(),
        level,
        &title,
        &body,
        link.as_deref(),
        Some(event.id),
    )
    .await?;
    let unread = unread_count(state.store()).await?;
    let _ = state.live().send(LiveEvent::Notification {
        notification: n,
        unread,
    });
    Ok(())
}
