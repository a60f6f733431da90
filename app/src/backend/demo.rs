//! Deterministic demo data: stories with branching trees and mixed Chinese/English text.
//!
//! The same seed always gives the same stories, ids included (UUIDv7 built from a synthetic
//! clock and a seeded generator), so benchmarks and screenshots are reproducible. Rows go
//! in through prepared statements, many stories per transaction.

use server::store::{Store, params};

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

/// SplitMix64: small, fast, good enough for test data, and identical on every platform.
/// Also draws the demo covers (`media::art`).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn id(&mut self, millis: u64) -> String {
        let bytes = self.next().to_le_bytes();
        let more = self.next().to_le_bytes();
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&bytes);
        random[8..].copy_from_slice(&more[..2]);
        uuid::Builder::from_unix_timestamp_millis(millis, &random)
            .into_uuid()
            .to_string()
    }
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

/// A tree of about `target` nodes: chapters, scenes, choices that lead to further scenes,
/// and endings at the leaves.
fn tree(rng: &mut Rng, target: usize, millis: u64) -> Vec<DemoNode> {
    let target = target.max(2);
    let mut nodes: Vec<DemoNode> = Vec::with_capacity(target + 4);
    let mut children: Vec<u32> = Vec::with_capacity(target + 4);
    let push = |nodes: &mut Vec<DemoNode>,
                children: &mut Vec<u32>,
                rng: &mut Rng,
                parent: Option<usize>,
                kind: NodeKind,
                n: usize| {
        let position = match parent {
            Some(p) => {
                children[p] += 1;
                children[p] - 1
            }
            None => nodes.iter().filter(|x| x.parent.is_none()).count() as u32,
        };
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
        let words = word_count(&title) + word_count(&content);
        nodes.push(DemoNode {
            id: rng.id(millis),
            parent,
            position,
            kind,
            title,
            content,
            label,
            words,
        });
        children.push(0);
        nodes.len() - 1
    };
    let chapters = 1 + target / 20;
    let mut frontier = Vec::new();
    for c in 0..chapters {
        let ch = push(&mut nodes, &mut children, rng, None, NodeKind::Chapter, c);
        let scene = push(&mut nodes, &mut children, rng, Some(ch), NodeKind::Scene, 0);
        frontier.push(scene);
    }
    while nodes.len() + 2 < target && !frontier.is_empty() {
        let at = frontier.remove(rng.below(frontier.len()));
        for _ in 0..(1 + rng.below(3)) {
            if nodes.len() + 2 > target {
                break;
            }
            let choice = push(
                &mut nodes,
                &mut children,
                rng,
                Some(at),
                NodeKind::Choice,
                0,
            );
            let scene = push(
                &mut nodes,
                &mut children,
                rng,
                Some(choice),
                NodeKind::Scene,
                0,
            );
            frontier.push(scene);
        }
    }
    for leaf in frontier {
        if nodes.len() >= target + 2 {
            break;
        }
        push(
            &mut nodes,
            &mut children,
            rng,
            Some(leaf),
            NodeKind::Ending,
            0,
        );
    }
    nodes
}

/// Writes `spec.stories` generated stories; returns what was written.
pub async fn seed(store: &Store, spec: DemoSpec) -> Result<DemoReport, ApiError> {
    const STORIES_PER_TX: usize = 500;
    let mut rng = Rng(spec.seed);
    // A fixed clock start keeps the data identical between runs: 2026-01-01T00:00:00Z.
    let base_ms: u64 = 1_767_225_600_000;
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
            let mut story_stmt = tx
                .prepare(
                    "demo.story_insert",
                    "INSERT INTO stories (id, title, summary, status, tags, node_count, word_count,
                                          created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .await?;
            let mut tag_stmt = tx
                .prepare(
                    "demo.tag_insert",
                    "INSERT INTO story_tags (tag, story_id) VALUES (?1, ?2)",
                )
                .await?;
            let mut node_stmt = tx
                .prepare("demo.node_insert", super::nodes::INSERT_NODE)
                .await?;
            for i in done..done + chunk {
                let created_ms = base_ms + (i as u64) * 60_000;
                let created_us = created_ms as i64 * 1000;
                let updated_us = created_us + (rng.below(30 * 24 * 3600) as i64) * 1_000_000;
                let id = rng.id(created_ms);
                let size = spec.nodes_per_story / 2 + rng.below(spec.nodes_per_story.max(1) + 1);
                let nodes = tree(&mut rng, size, created_ms);
                let words: u32 = nodes.iter().map(|n| n.words).sum();
                let mut tags: Vec<&str> = vec![rng.pick(TAGS)];
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
                story_stmt
                    .execute(params![
                        id.as_str(),
                        story_title(&mut rng),
                        paragraph(&mut rng, 2),
                        status.as_str(),
                        serde_json::to_string(&tags).expect("strings serialise"),
                        nodes.len() as i64,
                        words,
                        created_us,
                        updated_us
                    ])
                    .await?;
                for tag in &tags {
                    tag_stmt.execute(params![*tag, id.as_str()]).await?;
                }
                for n in &nodes {
                    node_stmt
                        .execute(params![
                            n.id.as_str(),
                            id.as_str(),
                            n.parent.map(|p| nodes[p].id.clone()),
                            n.position,
                            n.kind.as_str(),
                            n.title.as_str(),
                            n.content.as_str(),
                            n.label.clone(),
                            n.words,
                            created_us
                        ])
                        .await?;
                }
                report.stories += 1;
                report.nodes += nodes.len();
            }
        }
        tx.commit().await?;
        done += chunk;
    }
    Ok(report)
}

/// Gives the `n` most recently updated stories a generated cover each, as pending uploads
/// (see [`super::media`]); how many. The picture of a story depends on its id only.
pub async fn seed_covers(store: &Store, n: usize) -> Result<usize, ApiError> {
    use super::media::{Upload, art, content_hash, insert_original};
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
