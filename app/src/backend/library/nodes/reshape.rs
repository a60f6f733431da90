//! Changing a tree's shape: deleting a subtree (one recursive statement) and moving a node
//! with its subtree under another parent or to another position, keeping sibling positions
//! dense and the story's counts exact, each in one write transaction.

use super::*;

/// The subtree under and including `id`, as a CTE named `sub`.
const SUBTREE: &str = "WITH RECURSIVE sub (id) AS (
    SELECT id FROM nodes WHERE id = ?1
    UNION ALL
    SELECT n.id FROM nodes n JOIN sub ON n.parent_id = sub.id
)";

/// Deletes a node and everything under it.
pub async fn delete(store: &Store, id: &Id) -> Result<Deleted, ApiError> {
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    let node = find(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("node", id.as_str()))?;
    let (count, words, bytes) = tx
        .query_opt(
            "node.subtree_size",
            &format!(
                "{SUBTREE} SELECT count(*), COALESCE(sum(word_count), 0),
                     COALESCE(sum({NODE_BYTES}), 0) FROM nodes WHERE id IN sub"
            ),
            [id.as_str()],
            |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?)),
        )
        .await?
        .unwrap_or((0, 0, 0));
    // One statement deletes the whole subtree; the parent_id foreign key is checked at its
    // end, when no child is left without its parent.
    tx.execute(
        "node.delete_subtree",
        &format!("{SUBTREE} DELETE FROM nodes WHERE id IN sub"),
        [id.as_str()],
    )
    .await?;
    shift_siblings(
        &tx,
        &node.story_id,
        node.parent_id.as_deref(),
        node.position + 1,
        -1,
    )
    .await?;
    let shrink = Growth {
        nodes: -count,
        words: -words,
        bytes: -bytes,
    };
    touch_story(&tx, &node.story_id, shrink).await?;
    tx.commit().await?;
    Ok(Deleted {
        id: id.as_str().to_owned(),
        story_id: node.story_id,
        nodes_deleted: count as u32,
    })
}

/// Moves a node (with its subtree) under another parent or to another position.
pub async fn move_node(store: &Store, id: &Id, input: &MoveNode) -> Result<Node, ApiError> {
    let new_parent = input
        .parent_id
        .as_deref()
        .map(|p| Id::parse("parent_id", p))
        .transpose()?;
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    let node = find(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("node", id.as_str()))?;
    let story_id = Id::parse("story_id", &node.story_id)?;
    check_parent(&tx, &story_id, new_parent.as_ref(), "parent_id").await?;
    if let Some(p) = &new_parent {
        let inside = tx
            .query_opt(
                "node.is_descendant",
                &format!("{SUBTREE} SELECT 1 FROM sub WHERE id = ?2"),
                params![id.as_str(), p.as_str()],
                |r| r.get::<i64>(0),
            )
            .await?;
        if inside.is_some() {
            return Err(ApiError::invalid(
                "parent_id",
                "a node cannot move under itself or one of its descendants",
            ));
        }
    }
    let new_parent = new_parent.as_ref().map(Id::as_str);
    // Close the gap where it was, then open one where it goes.
    tx.execute(
        "node.detach",
        "UPDATE nodes SET position = -1 WHERE id = ?1",
        [id.as_str()],
    )
    .await?;
    shift_siblings(
        &tx,
        &node.story_id,
        node.parent_id.as_deref(),
        node.position + 1,
        -1,
    )
    .await?;
    let count = child_count(&tx, &node.story_id, new_parent).await?
        - u32::from(new_parent == node.parent_id.as_deref());
    let position = input.position.map_or(count, |p| p.min(count));
    shift_siblings(&tx, &node.story_id, new_parent, position, 1).await?;
    let at = next_after(parse_rfc3339("updated_at", &node.updated_at)?);
    tx.execute(
        "node.attach",
        "UPDATE nodes SET parent_id = ?2, position = ?3, updated_at = ?4 WHERE id = ?1",
        params![id.as_str(), new_parent, position, at],
    )
    .await?;
    touch_story(&tx, &node.story_id, Growth::default()).await?;
    let moved = find(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("node", id.as_str()))?;
    tx.commit().await?;
    Ok(moved)
}
