//! Batch inserts of nodes: a whole list (up to `BATCH_MAX_NODES`, items may hang under
//! earlier items of the same batch) validated before any SQL runs, placed among their
//! siblings in memory, then written in one transaction, all or nothing.

use super::*;

/// Adds many nodes in one transaction: all of them or none. Positions are worked out in
/// memory ([`placement`]): each sibling group is shifted in a few range updates, so the
/// cost grows with the nodes written, not with their product.
pub async fn create_batch(
    store: &Store,
    story_id: &Id,
    batch: &NodeBatch,
    limits: StoryLimits,
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
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    let created = create_batch_in(&tx, story_id, batch, limits).await?;
    tx.commit().await?;
    Ok(created)
}

/// [`create_batch`] inside a transaction of the caller's, without the bound on the batch's
/// length (an import writes its story's whole tree in one).
pub(crate) async fn create_batch_in(
    tx: &WriteTx<'_>,
    story_id: &Id,
    batch: &NodeBatch,
    limits: StoryLimits,
) -> Result<NodeBatchResult, ApiError> {
    let plan = plan_batch(&batch.nodes)?;
    let now = now_micros();
    let bytes: i64 = plan
        .iter()
        .map(|p| {
            let d = &p.draft;
            node_bytes(
                d.title.as_str(),
                d.content.as_str(),
                d.choice_label.as_deref(),
            )
        })
        .sum();
    limits.check(
        story_size(tx, story_id).await?,
        plan.len() as u64,
        bytes,
        "nodes",
    )?;
    let groups = sibling_groups(tx, story_id, &plan).await?;
    let mut positions = vec![0u32; plan.len()];
    for group in &groups {
        let wanted: Vec<Option<u32>> = group
            .members
            .iter()
            .map(|&i| plan[i].draft.position)
            .collect();
        let placed = placement::place(group.existing, &wanted);
        for (&i, &p) in group.members.iter().zip(&placed.new) {
            positions[i] = p;
        }
        let parent = group.parent.as_ref().map(|p| match p {
            GroupParent::Existing(id) => id.as_str(),
            GroupParent::InBatch(i) => plan[*i].id.as_str(),
        });
        for shift in &placed.shifts {
            shift_range(tx, story_id.as_str(), parent, shift).await?;
        }
    }
    let words = insert_planned(tx, story_id, &plan, &positions, now).await?;
    let growth = Growth {
        nodes: plan.len() as i64,
        words,
        bytes,
    };
    touch_story(tx, story_id.as_str(), growth).await?;
    Ok(NodeBatchResult {
        created: plan.len() as u32,
        ids: plan.into_iter().map(|item| item.id).collect(),
    })
}

/// A parent under which a batch adds nodes.
enum GroupParent<'a> {
    /// A node already in the story.
    Existing(&'a Id),
    /// A node of this batch.
    InBatch(usize),
}

/// The new nodes under one parent (`None`: the top level), and how many it has already.
struct SiblingGroup<'a> {
    parent: Option<GroupParent<'a>>,
    existing: u32,
    /// Indexes into the plan, in the batch's order.
    members: Vec<usize>,
}

/// The batch's nodes by parent, with each existing parent checked to be a node of this
/// story and its children counted (parents created in this batch start empty).
async fn sibling_groups<'a>(
    tx: &WriteTx<'_>,
    story_id: &Id,
    plan: &'a [PlannedNode],
) -> Result<Vec<SiblingGroup<'a>>, ApiError> {
    let mut groups: Vec<SiblingGroup<'a>> = Vec::new();
    let mut by_parent: HashMap<(u8, &str, usize), usize> = HashMap::new();
    for (i, item) in plan.iter().enumerate() {
        let key = match &item.parent {
            ParentRef::TopLevel => (0, "", 0),
            ParentRef::Existing(p) => (1, p.as_str(), 0),
            ParentRef::InBatch(j) => (2, "", *j),
        };
        if let Some(&g) = by_parent.get(&key) {
            groups[g].members.push(i);
            continue;
        }
        let (parent, existing) = match &item.parent {
            ParentRef::TopLevel => (None, child_count(tx, story_id.as_str(), None).await?),
            ParentRef::Existing(p) => {
                let field = format!("nodes[{}].parent_id", item.index);
                check_parent(tx, story_id, Some(p), &field).await?;
                let n = child_count(tx, story_id.as_str(), Some(p.as_str())).await?;
                (Some(GroupParent::Existing(p)), n)
            }
            ParentRef::InBatch(j) => (Some(GroupParent::InBatch(*j)), 0),
        };
        by_parent.insert(key, groups.len());
        groups.push(SiblingGroup {
            parent,
            existing,
            members: vec![i],
        });
    }
    Ok(groups)
}

/// Moves the existing siblings `shift.from..shift.to` of one parent up by `shift.by`.
async fn shift_range(
    tx: &WriteTx<'_>,
    story_id: &str,
    parent: Option<&str>,
    shift: &placement::Shift,
) -> Result<(), ApiError> {
    tx.execute(
        "node.shift_range",
        "UPDATE nodes SET position = position + ?5
          WHERE story_id = ?1 AND parent_id IS ?2 AND position >= ?3 AND position < ?4",
        params![story_id, parent, shift.from, shift.to, shift.by],
    )
    .await?;
    Ok(())
}

/// Inserts every planned node at its worked-out position; their words.
async fn insert_planned(
    tx: &WriteTx<'_>,
    story_id: &Id,
    plan: &[PlannedNode],
    positions: &[u32],
    now: i64,
) -> Result<i64, ApiError> {
    let mut insert = tx.prepare("node.batch_insert", INSERT_NODE).await?;
    let mut words = 0i64;
    for (item, &position) in plan.iter().zip(positions) {
        let parent = match &item.parent {
            ParentRef::TopLevel => None,
            ParentRef::Existing(p) => Some(p.as_str()),
            ParentRef::InBatch(i) => Some(plan[*i].id.as_str()),
        };
        let d = &item.draft;
        let row = NodeRow {
            id: item.id.as_str(),
            story_id: story_id.as_str(),
            parent_id: parent,
            position,
            kind: d.kind,
            title: d.title.as_str(),
            content: d.content.as_str(),
            choice_label: d.choice_label.as_deref(),
            words: d.words,
            at: now,
        };
        insert.execute(row.params()).await?;
        words += i64::from(d.words);
    }
    Ok(words)
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
