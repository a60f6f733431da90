//! Batch inserts of nodes: a whole list (up to `BATCH_MAX_NODES`, items may hang under
//! earlier items of the same batch) validated before any SQL runs, then written in one
//! transaction, all or nothing.

use super::*;

/// Adds many nodes in one transaction: all of them or none.
pub async fn create_batch(
    store: &Store,
    story_id: &Id,
    batch: &NodeBatch,
) -> Result<NodeBatchResult, ApiError> {
    if batch.nodes.is_empty() {
        return Err(ApiError::invalid(
            "nodes",
            "nodes must hold at least one node",
        ));
    }
    if batch.nodes.len() > BATCH_MAX_NODES {
        return Err(ApiError::invalid(
            "nodes",
            format!(
                "a batch holds at most {BATCH_MAX_NODES} nodes; this one has {}",
                batch.nodes.len()
            ),
        ));
    }
    let plan = plan_batch(&batch.nodes)?;
    let now = now_micros();
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    story_exists(&tx, story_id).await?;
    // Next free position per parent: existing parents (checked to be of this story) start
    // after their current children, parents created in this batch start at 0.
    let mut existing_next: HashMap<&str, u32> = HashMap::new();
    for item in &plan {
        if let ParentRef::Existing(p) = &item.parent
            && !existing_next.contains_key(p.as_str())
        {
            let field = format!("nodes[{}].parent_id", item.index);
            check_parent(&tx, story_id, Some(p), &field).await?;
            let n = child_count(&tx, story_id.as_str(), Some(p.as_str())).await?;
            existing_next.insert(p.as_str(), n);
        }
    }
    let mut top_next = child_count(&tx, story_id.as_str(), None).await?;
    let mut batch_next = vec![0u32; plan.len()];
    let mut words = 0i64;
    {
        let mut insert = tx.prepare("node.batch_insert", INSERT_NODE).await?;
        for item in &plan {
            let (parent, next): (Option<&str>, &mut u32) = match &item.parent {
                ParentRef::TopLevel => (None, &mut top_next),
                ParentRef::Existing(p) => (
                    Some(p.as_str()),
                    existing_next.get_mut(p.as_str()).expect("filled above"),
                ),
                ParentRef::InBatch(i) => (Some(plan[*i].id.as_str()), &mut batch_next[*i]),
            };
            let position = match item.draft.position {
                Some(p) if p < *next => {
                    shift_siblings(&tx, story_id.as_str(), parent, p, 1).await?;
                    p
                }
                _ => *next,
            };
            *next += 1;
            let d = &item.draft;
            insert
                .execute(params![
                    item.id.as_str(),
                    story_id.as_str(),
                    parent,
                    position,
                    d.kind.as_str(),
                    d.title.as_str(),
                    d.content.as_str(),
                    d.choice_label.as_deref(),
                    d.words,
                    now
                ])
                .await?;
            words += i64::from(d.words);
        }
    }
    touch_story(&tx, story_id.as_str(), plan.len() as i64, words).await?;
    tx.commit().await?;
    Ok(NodeBatchResult {
        created: plan.len() as u32,
        ids: plan.into_iter().map(|item| item.id).collect(),
    })
}

enum ParentRef {
    TopLevel,
    Existing(Id),
    InBatch(usize),
}

struct PlannedNode {
    index: usize,
    id: String,
    parent: ParentRef,
    draft: NodeDraft,
}

/// Validates every item and resolves `parent_ref`s to earlier items, before any SQL runs.
fn plan_batch(items: &[BatchNode]) -> Result<Vec<PlannedNode>, ApiError> {
    let mut refs: HashMap<&str, usize> = HashMap::new();
    let mut plan = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("nodes[{i}].");
        let draft = NodeDraft::parse(
            &prefix,
            item.kind,
            &item.title,
            item.content.as_deref(),
            item.choice_label.as_deref(),
            item.position,
        )?;
        let parent = match (&item.parent_ref, &item.parent_id) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    format!("{prefix}parent_ref"),
                    "give parent_ref or parent_id, not both",
                ));
            }
            (Some(r), None) => ParentRef::InBatch(*refs.get(r.as_str()).ok_or_else(|| {
                ApiError::invalid(
                    format!("{prefix}parent_ref"),
                    format!("parent_ref {r:?} names no earlier node of this batch"),
                )
            })?),
            (None, Some(p)) => ParentRef::Existing(Id::parse(&format!("{prefix}parent_id"), p)?),
            (None, None) => ParentRef::TopLevel,
        };
        if let Some(r) = &item.ref_
            && refs.insert(r.as_str(), i).is_some()
        {
            return Err(ApiError::invalid(
                format!("{prefix}ref"),
                format!("ref {r:?} is used twice in this batch"),
            ));
        }
        plan.push(PlannedNode {
            index: i,
            id: crate::backend::new_id(),
            parent,
            draft,
        });
    }
    Ok(plan)
}
