//! Deterministic demo data: stories with branching trees and mixed Chinese/English text.
//!
//! The same seed always gives the same stories, ids included (UUIDv7 built from a synthetic
//! clock and a seeded generator), so benchmarks and screenshots are reproducible. Rows go
//! in through prepared statements, many stories per transaction.

pub mod art;
mod rng;

use server::store::{Prepared, Store, WriteTx, params};

pub use rng::Rng;

use crate::backend::library::nodes::{INSERT_NODE, NodeRow};
use crate::model::{ApiError, NodeKind, StoryStatus, fields::word_count};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoSpec {
    /// Number of stories.
    pub stories: usize,
    /// Average nodes per story (trees vary around it).
    pub nodes_per_story: usize,
    /// Generator seed.
    pub seed: u64,
    /// How many of the most recently updated stories get a generated cover (their variants
    /// are made by the task queue once the server runs).
    pub covers: usize,
}

impl Default for DemoSpec {
    fn default() -> Self {
        Self {
            stories: 200,
            nodes_per_story: 12,
            seed: 42,
            covers: 24,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoReport {
    /// Stories inserted.
    pub stories: usize,
    /// Nodes inserted.
    pub nodes: usize,
}

const ZH_PLACES: &[&str] = &[
    "长安", "洛阳", "江南", "昆仑", "东海", "西域", "蜀山", "敦煌", "苏州", "雪原",
];
const ZH_THINGS: &[&str] = &["龙", "剑", "灯", "书", "镜", "门", "船", "钟", "星", "梦"];
const ZH_SENTENCES: &[&str] = &[
    "夜色渐深，远处传来钟声。",
    "她推开木门，看见满地月光。",
    "风从山谷吹来，带着雨的味道。",
    "老人笑了笑，把灯递给了你。",
    "河面上漂着一封没有署名的信。",
    "城门外，商队正在等待黎明。",
    "你听见身后有脚步声，却不敢回头。",
    "古书的最后一页写着一个名字。",
];
const EN_ADJ: &[&str] = &[
    "Silent",
    "Crimson",
    "Hidden",
    "Last",
    "Wandering",
    "Frozen",
    "Golden",
    "Broken",
];
const EN_NOUN: &[&str] = &[
    "Harbor", "Lantern", "Archive", "Garden", "Compass", "Tower", "River", "Mirror",
];
const EN_SENTENCES: &[&str] = &[
    "The rain stopped as suddenly as it had begun.",
    "Somewhere below, a door creaked open.",
    "You count the coins twice and still come up short.",
    "The map was wrong, or the river had moved.",
    "A lantern swings in the wind, casting long shadows.",
    "Nobody in the village remembers the old road.",
    "The letter is sealed with wax the colour of jade.",
    "Footsteps echo in the corridor behind you.",
];
const TAGS: &[&str] = &[
    "奇幻",
    "悬疑",
    "历史",
    "科幻",
    "romance",
    "mystery",
    "adventure",
    "horror",
    "武侠",
    "short",
];
const CHOICES: &[&str] = &[
    "跟上去 Follow",
    "留下来 Stay",
    "打开它 Open it",
    "转身离开 Walk away",
    "问他 Ask him",
    "等待 Wait",
];

fn story_title(rng: &mut Rng) -> String {
    format!(
        "{}之{} · The {} {}",
        rng.pick(ZH_PLACES),
        rng.pick(ZH_THINGS),
        rng.pick(EN_ADJ),
        rng.pick(EN_NOUN)
    )
}

fn paragraph(rng: &mut Rng, sentences: usize) -> String {
    let mut p = String::new();
    for i in 0..sentences {
        if i % 2 == 0 {
            p.push_str(rng.pick(ZH_SENTENCES));
        } else {
            p.push(' ');
            p.push_str(rng.pick(EN_SENTENCES));
            p.push(' ');
        }
    }
    p.trim().to_owned()
}

struct DemoNode {
    id: String,
    parent: Option<usize>,
    position: u32,
    kind: NodeKind,
    title: String,
    content: String,
    label: Option<String>,
    words: u32,
}

/// The title, choice label and text of a new node of `kind` (`n`: its chapter number).
fn node_text(rng: &mut Rng, kind: NodeKind, n: usize) -> (String, Option<String>, String) {
    let (title, label) = match kind {
        NodeKind::Chapter => (format!("第{}章 Chapter {}", n + 1, n + 1), None),
        NodeKind::Choice => {
            let l = rng.pick(CHOICES).to_owned();
            (l.clone(), Some(l))
        }
        NodeKind::Ending => ("终章 The End".to_owned(), None),
        _ => (
            format!(
                "{}的{} {}",
                rng.pick(ZH_PLACES),
                rng.pick(ZH_THINGS),
                rng.pick(EN_NOUN)
            ),
            None,
        ),
    };
    let content = match kind {
        NodeKind::Choice => String::new(),
        _ => {
            let sentences = 2 + rng.below(4);
            paragraph(rng, sentences)
        }
    };
    (title, label, content)
}

/// A tree being grown: its nodes and each node's child count.
struct Growing<'r> {
    rng: &'r mut Rng,
    millis: u64,
    nodes: Vec<DemoNode>,
    children: Vec<u32>,
}

impl Growing<'_> {
    /// Adds a node under `parent` (last among its siblings); its index.
    fn push(&mut self, parent: Option<usize>, kind: NodeKind, n: usize) -> usize {
        let position = match parent {
            Some(p) => {
                self.children[p] += 1;
                self.children[p] - 1
            }
            None => self.nodes.iter().filter(|x| x.parent.is_none()).count() as u32,
        };
        let (title, label, content) = node_text(self.rng, kind, n);
        let words = word_count(&title) + word_count(&content);
        self.nodes.push(DemoNode {
            id: self.rng.id(self.millis),
            parent,
            position,
            kind,
            title,
            content,
            label,
            words,
        });
        self.children.push(0);
        self.nodes.len() - 1
    }
}

/// A tree of about `target` nodes: chapters, scenes, choices that lead to further scenes,
/// and endings at the leaves.
fn tree(rng: &mut Rng, target: usize, millis: u64) -> Vec<DemoNode> {
    let target = target.max(2);
    let mut t = Growing {
        rng,
        millis,
        nodes: Vec::with_capacity(target + 4),
        children: Vec::with_capacity(target + 4),
    };
    let chapters = 1 + target / 20;
    let mut frontier = Vec::new();
    for c in 0..chapters {
        let ch = t.push(None, NodeKind::Chapter, c);
        frontier.push(t.push(Some(ch), NodeKind::Scene, 0));
    }
    while t.nodes.len() + 2 < target && !frontier.is_empty() {
        let at = frontier.remove(t.rng.below(frontier.len()));
        for _ in 0..(1 + t.rng.below(3)) {
            if t.nodes.len() + 2 > target {
                break;
            }
            let choice = t.push(Some(at), NodeKind::Choice, 0);
            frontier.push(t.push(Some(choice), NodeKind::Scene, 0));
        }
    }
    for leaf in frontier {
        if t.nodes.len() >= target + 2 {
            break;
        }
        t.push(Some(leaf), NodeKind::Ending, 0);
    }
    t.nodes
}

/// One generated story with its tree.
struct DemoStory {
    id: String,
    title: String,
    summary: String,
    status: StoryStatus,
    tags: Vec<&'static str>,
    nodes: Vec<DemoNode>,
    words: u32,
    created_us: i64,
    updated_us: i64,
}

/// The `i`th story (the generator's draws in a fixed order: the same seed, the same stories).
fn demo_story(rng: &mut Rng, spec: &DemoSpec, i: usize) -> DemoStory {
    // A fixed clock start keeps the data identical between runs: 2026-01-01T00:00:00Z.
    const BASE_MS: u64 = 1_767_225_600_000;
    let created_ms = BASE_MS + (i as u64) * 60_000;
    let created_us = created_ms as i64 * 1000;
    let updated_us = created_us + (rng.below(30 * 24 * 3600) as i64) * 1_000_000;
    let id = rng.id(created_ms);
    let size = spec.nodes_per_story / 2 + rng.below(spec.nodes_per_story.max(1) + 1);
    let nodes = tree(rng, size, created_ms);
    let words: u32 = nodes.iter().map(|n| n.words).sum();
    let mut tags: Vec<&'static str> = vec![rng.pick(TAGS)];
    let second = rng.pick(TAGS);
    if second != tags[0] {
        tags.push(second);
    }
    // About 20 % drafts, 30 % in progress, 45 % completed, 5 % archived.
    let status = match rng.below(100) {
        0..20 => StoryStatus::Draft,
        20..50 => StoryStatus::InProgress,
        50..95 => StoryStatus::Completed,
        _ => StoryStatus::Archived,
    };
    let title = story_title(rng);
    let summary = paragraph(rng, 2);
    DemoStory {
        id,
        title,
        summary,
        status,
        tags,
        nodes,
        words,
        created_us,
        updated_us,
    }
}

/// The inserts of a story, its tags and its nodes, prepared once per transaction.
async fn statements<'t>(tx: &'t WriteTx<'_>) -> Result<[Prepared<'t>; 3], ApiError> {
    Ok([
        tx.prepare(
            "demo.story_insert",
            "INSERT INTO stories (id, title, summary, status, tags, node_count, word_count,
                                  created_at, updated_at, owner_id, byte_count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, '00000000-0000-7000-8000-000000000001',
                     ?10)",
        )
        .await?,
        tx.prepare(
            "demo.tag_insert",
            "INSERT INTO story_tags (tag, story_id) VALUES (?1, ?2)",
        )
        .await?,
        tx.prepare("demo.node_insert", INSERT_NODE).await?,
    ])
}

/// Writes one story with its tags and nodes through the prepared statements; its nodes.
async fn insert(
    story: &DemoStory,
    [story_stmt, tags_stmt, nodes_stmt]: [&mut Prepared<'_>; 3],
) -> Result<usize, ApiError> {
    let DemoStory {
        id,
        status,
        tags,
        nodes,
        words,
        created_us,
        updated_us,
        ..
    } = story;
    story_stmt
        .execute(params![
            id.as_str(),
            story.title.as_str(),
            story.summary.as_str(),
            status.as_str(),
            serde_json::to_string(&tags).expect("strings serialise"),
            nodes.len() as i64,
            *words,
            *created_us,
            *updated_us,
            nodes
                .iter()
                .map(|n| n.title.len() + n.content.len() + n.label.as_ref().map_or(0, String::len))
                .sum::<usize>() as i64
        ])
        .await?;
    for tag in tags {
        tags_stmt.execute(params![*tag, id.as_str()]).await?;
    }
    for n in nodes {
        let row = NodeRow {
            id: n.id.as_str(),
            story_id: id.as_str(),
            parent_id: n.parent.map(|p| nodes[p].id.as_str()),
            position: n.position,
            kind: n.kind,
            title: n.title.as_str(),
            content: n.content.as_str(),
            choice_label: n.label.as_deref(),
            words: n.words,
            at: *created_us,
        };
        nodes_stmt.execute(row.params()).await?;
    }
    Ok(nodes.len())
}

/// Writes `spec.stories` generated stories; returns what was written.
pub async fn seed(store: &Store, spec: DemoSpec) -> Result<DemoReport, ApiError> {
    const STORIES_PER_TX: usize = 500;
    let mut rng = Rng(spec.seed);
    let mut report = DemoReport {
        stories: 0,
        nodes: 0,
    };
    let mut done = 0;
    while done < spec.stories {
        let chunk = STORIES_PER_TX.min(spec.stories - done);
        let mut writer = store.write().await?;
        let tx = writer.begin().await?;
        {
            let [mut story_stmt, mut tag_stmt, mut node_stmt] = statements(&tx).await?;
            for i in done..done + chunk {
                let story = demo_story(&mut rng, &spec, i);
                let nodes =
                    insert(&story, [&mut story_stmt, &mut tag_stmt, &mut node_stmt]).await?;
                report.nodes += nodes;
                report.stories += 1;
            }
        }
        tx.commit().await?;
        done += chunk;
    }
    Ok(report)
}

/// Gives the `n` most recently updated stories a generated cover each, as pending uploads
/// (see [`crate::backend::media`]); how many. The picture of a story depends on its id only.
pub async fn seed_covers(store: &Store, n: usize) -> Result<usize, ApiError> {
    use crate::backend::media::{Upload, content_hash, insert_original};
    let ids: Vec<String> = {
        let conn = store.read().await?;
        conn.query(
            "demo.cover_targets",
            "SELECT id FROM stories ORDER BY updated_at DESC, id DESC LIMIT ?1",
            [n as i64],
            |r| r.get::<String>(0),
        )
        .await?
    };
    let uploads = tokio::task::spawn_blocking(move || {
        ids.into_iter()
            .map(|id| {
                let seed = u64::from_str_radix(&content_hash(id.as_bytes()), 16).unwrap_or(0);
                let file = art::jpeg(seed, art::WIDTH, art::HEIGHT);
                Upload::check(file, Some("image/jpeg")).map(|u| (id, u))
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await
    .map_err(|_| ApiError::internal())??;
    let mut writer = store.write().await?;
    let tx = writer.begin().await?;
    for (id, upload) in &uploads {
        insert_original(&tx, upload).await?;
        tx.execute(
            "demo.cover_pending",
            "UPDATE stories SET cover_pending = ?2 WHERE id = ?1",
            params![id.as_str(), upload.hash.as_str()],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(uploads.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_tree() {
        let a = tree(&mut Rng(7), 30, 0);
        let b = tree(&mut Rng(7), 30, 0);
        assert_eq!(a.len(), b.len());
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.id == y.id && x.title == y.title)
        );
        assert!(a.len() >= 20 && a.len() <= 34, "{}", a.len());
        // Every parent comes before its children, and choices carry their label.
        for (i, n) in a.iter().enumerate() {
            assert!(n.parent.is_none_or(|p| p < i));
            assert_eq!(n.kind == NodeKind::Choice, n.label.is_some());
        }
    }
}
