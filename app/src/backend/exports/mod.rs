//! Story exports and reports as tasks: the JSON export and its import ([`export_json`]),
//! the gamebook PDF ([`pdf`]) and the statistics report ([`report`]), with what they share:
//! loading the story, naming and writing the result file.
//!
//! Files are written under a temporary name and renamed, so a task killed mid-write never
//! leaves a file that looks finished, and a rerun simply overwrites its own `task-{id}` file.

mod export_json;
mod import;
mod pdf;
mod report;

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use server::{
    store::Store,
    tasks::{EnqueueOptions, Priority, TaskContext, TaskError},
};

pub use export_json::{ExportJson, build_export};
pub use import::import_story;
pub use pdf::ExportPdf;
pub use report::{Report, ReportPayload};

use super::{
    AppState,
    identity::Session,
    library::{nodes, stories},
};
use crate::model::{ApiError, Story, StoryTree, TaskView, fields::Id};

impl AppState {
    /// Starts an export of story `raw_id` as `format` (`json` or `pdf`), owned by the
    /// caller's session.
    pub async fn start_export(
        &self,
        session: &Session,
        raw_id: &str,
        format: &str,
    ) -> Result<TaskView, ApiError> {
        let story = Id::parse("id", raw_id)?;
        self.readable_story(session.viewer(), &story).await?;
        let payload = StoryPayload {
            story_id: story.as_str().to_owned(),
        };
        let options = EnqueueOptions::priority(Priority::High).owned_by(session.owner().as_str());
        let task = match format {
            "json" => {
                self.tasks()
                    .enqueue::<ExportJson>(&payload, options)
                    .await?
            }
            "pdf" => self.tasks().enqueue::<ExportPdf>(&payload, options).await?,
            _ => return Err(ApiError::invalid("format", "format must be json or pdf")),
        };
        self.task_view(task).await
    }

    /// Starts a report of one story (`story_id`) or of the whole library, owned by the
    /// caller's session.
    pub async fn start_report(
        &self,
        session: &Session,
        story_id: Option<&str>,
    ) -> Result<TaskView, ApiError> {
        if let Some(id) = story_id {
            self.readable_story(session.viewer(), &Id::parse("story_id", id)?)
                .await?;
        }
        let payload = ReportPayload {
            story_id: story_id.map(str::to_owned),
        };
        let options = EnqueueOptions::default().owned_by(session.owner().as_str());
        let task = self.tasks().enqueue::<Report>(&payload, options).await?;
        self.task_view(task).await
    }
}

/// Payload of tasks about one story.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoryPayload {
    /// The story.
    pub story_id: String,
}

/// What a task that wrote a file returns; stored as the task's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileResult {
    /// File name inside the files directory.
    pub file: String,
    /// Size.
    pub bytes: u64,
    /// MIME type to serve it with.
    pub content_type: String,
    /// The name a browser saves it under.
    pub filename: String,
    /// Anything else worth keeping (counts, stats).
    #[serde(default)]
    pub details: Value,
}

impl FileResult {
    /// As the task's stored result.
    pub fn into_value(self) -> Result<Value, TaskError> {
        serde_json::to_value(self)
            .map_err(|e| TaskError::permanent("the task's result could not be recorded").detail(e))
    }
}

/// The story a task is about, and its whole tree.
pub async fn load_story(
    store: &Store,
    story_id: &str,
    ctx: &TaskContext,
) -> Result<(Story, StoryTree), TaskError> {
    let id = Id::parse("story_id", story_id)?;
    ctx.progress(2, "reading the story");
    Ok((
        stories::get(store, &id).await?,
        nodes::tree(store, &id).await?,
    ))
}

/// Writes `bytes` to `dir/name` atomically; the size.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<u64, TaskError> {
    write_file_with(dir, name, |w| std::io::Write::write_all(w, bytes))
}

/// Writes `dir/name` atomically through `write` (a `.part` file renamed when complete, so
/// a download never sees half a file); the size. Blocking: call it on a blocking thread.
pub fn write_file_with(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<u64, TaskError> {
    let io = |e: std::io::Error| {
        TaskError::retryable(
            "the result file could not be written (the server's disk may be full); the task will be tried again",
        )
        .detail(format_args!("writing {}: {e}", dir.join(name).display()))
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let part = dir.join(format!("{name}.part"));
    let written = (|| {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&part)?);
        write(&mut file)?;
        let file = file
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        file.sync_data()?;
        file.metadata().map(|m| m.len())
    })();
    match written {
        Ok(size) => {
            std::fs::rename(&part, dir.join(name)).map_err(io)?;
            Ok(size)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(io(e))
        }
    }
}

/// A file name made from a title: letters, digits (any script) and dashes.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.chars().count() >= 60 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() { "story".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_keep_letters_of_any_script() {
        assert_eq!(slug("第1章 The Dark Forest!"), "第1章-The-Dark-Forest");
        assert_eq!(slug("  ??  "), "story");
    }
}
