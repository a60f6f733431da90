//! Importing a story from its JSON export (format `aion.story`, version 1; see API.md): all
//! of it or nothing.
//!
//! The story row, every node and the cover are written in one transaction, so no reader
//! ever sees a story half imported and a crash half-way leaves nothing behind. (They were
//! a transaction per batch of nodes, with the story removed again after a failure: readers
//! saw it grow, and a crash between batches kept the part written.) Holding the store's
//! writer for the whole tree costs other writes a wait of about one batch write per
//! [`BATCH_MAX_NODES`] nodes; BENCHMARKS.md ("Store") has the cost of such a batch.

use base64::{Engine, engine::general_purpose::STANDARD};
use std::collections::{HashMap, HashSet};

use crate::{
    backend::{
        AppState,
        identity::Viewer,
        library::{access, nodes, stories},
        media::{self, Upload},
    },
    model::{
        ApiError, BatchNode, EXPORT_FORMAT, EXPORT_VERSION, ExportedNode, NewStory, NodeBatch,
        Story, StoryExport,
        fields::{BATCH_MAX_NODES, Id},
    },
};

/// Creates a new story from an export document: all of it or nothing. A cover is checked
/// like an upload before anything is written, and its variants are made by a task owned
/// by `owner`.
pub async fn import_story(
    state: &AppState,
    caller: &Viewer,
    doc: &StoryExport,
    owner: &str,
) -> Result<Story, ApiError> {
    let owner_id = access::owner_id(caller)?;
    check_document(doc)?;
    let cover = match &doc.story.cover {
        None => None,
        Some(c) => {
            let bytes = STANDARD.decode(&c.data).map_err(|_| {
                ApiError::invalid("story.cover.data", "data must be the file in base64")
            })?;
            let checked = Upload::check_within(
                state.image_budget(),
                bytes,
                Some(c.content_type.clone()),
                Some(crate::backend::media::budget::UPLOAD_WAIT),
            )
            .await;
            Some(checked.map_err(|e| prefix(e, "story.cover."))?)
        }
    };
    let input = NewStory {
        title: doc.story.title.clone(),
        summary: Some(doc.story.summary.clone()),
        status: Some(doc.story.status),
        tags: Some(doc.story.tags.clone()),
        visibility: None,
    };
    let mut writer = state.store().write().await?;
    let tx = writer.begin().await?;
    let story = stories::create_in(&tx, &owner_id, &input)
        .await
        .map_err(|e| prefix(e, "story."))?;
    let id = Id::parse("id", &story.id)?;
    import_nodes(&tx, &id, &doc.nodes, state.story_limits()).await?;
    let cover_done = match &cover {
        Some(upload) => Some(media::attach_in(&tx, &id, upload).await?),
        None => None,
    };
    tx.commit().await?;
    drop(writer);
    state.story_imported(&id).await;
    if let (Some(upload), Some(done)) = (&cover, cover_done) {
        state.cover_attached(&id, &upload.hash, done, owner).await?;
    }
    state.story(&id).await.map(|s| (*s).clone())
}

/// The format and version, and every parent named before its children with unique refs
/// (the export is depth-first): checked before anything is written.
fn check_document(doc: &StoryExport) -> Result<(), ApiError> {
    if doc.format != EXPORT_FORMAT {
        return Err(ApiError::invalid(
            "format",
            format!("format must be {EXPORT_FORMAT:?}"),
        ));
    }
    if doc.version != EXPORT_VERSION {
        return Err(ApiError::invalid(
            "version",
            format!("this server reads version {EXPORT_VERSION} exports"),
        ));
    }
    let mut seen = HashMap::with_capacity(doc.nodes.len());
    for (i, n) in doc.nodes.iter().enumerate() {
        if let Some(parent) = &n.parent_ref
            && !seen.contains_key(parent.as_str())
        {
            return Err(ApiError::invalid(
                format!("nodes[{i}].parent_ref"),
                "parent_ref must name the ref of an earlier node",
            ));
        }
        if seen.insert(n.ref_.as_str(), i).is_some() {
            return Err(ApiError::invalid(
                format!("nodes[{i}].ref"),
                "ref must be unique in the export",
            ));
        }
    }
    Ok(())
}

/// Writes the nodes in `tx`, in batches of the batch limit; later batches name parents
/// written by earlier ones by their new id.
async fn import_nodes(
    tx: &server::store::WriteTx<'_>,
    story: &Id,
    nodes: &[ExportedNode],
    limits: nodes::StoryLimits,
) -> Result<(), ApiError> {
    let mut new_ids: HashMap<&str, String> = HashMap::with_capacity(nodes.len());
    for (chunk_no, chunk) in nodes.chunks(BATCH_MAX_NODES).enumerate() {
        let in_chunk: HashSet<&str> = chunk.iter().map(|n| n.ref_.as_str()).collect();
        let batch = NodeBatch {
            nodes: chunk
                .iter()
                .map(|n| {
                    let (parent_ref, parent_id) = match n.parent_ref.as_deref() {
                        None => (None, None),
                        Some(p) if in_chunk.contains(p) => (Some(p.to_owned()), None),
                        Some(p) => (None, new_ids.get(p).cloned()),
                    };
                    BatchNode {
                        ref_: Some(n.ref_.clone()),
                        parent_ref,
                        parent_id,
                        kind: n.kind,
                        title: n.title.clone(),
                        content: Some(n.content.clone()),
                        choice_label: n.choice_label.clone(),
                        position: None,
                    }
                })
                .collect(),
        };
        let offset = chunk_no * BATCH_MAX_NODES;
        let created = nodes::create_batch_in(tx, story, &batch, limits)
            .await
            .map_err(|e| renumber(e, offset))?;
        for (n, id) in chunk.iter().zip(created.ids) {
            new_ids.insert(n.ref_.as_str(), id);
        }
    }
    Ok(())
}

fn prefix(e: ApiError, prefix: &str) -> ApiError {
    match e.field() {
        Some(f) => ApiError::invalid(format!("{prefix}{f}"), e.message()),
        None => e,
    }
}

/// A batch error names `nodes[i]` within its chunk; name the node of the whole export.
fn renumber(e: ApiError, offset: usize) -> ApiError {
    let Some(field) = e.field() else { return e };
    let Some(rest) = field.strip_prefix("nodes[") else {
        return e;
    };
    let Some((index, tail)) = rest.split_once(']') else {
        return e;
    };
    match index.parse::<usize>() {
        Ok(i) => ApiError::invalid(format!("nodes[{}]{tail}", i + offset), e.message()),
        Err(_) => e,
    }
}
