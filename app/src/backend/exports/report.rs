//! `report`: statistics of one story or of the whole library (counts, words, depth,
//! branching factor, most read) as a Markdown file.

use std::{collections::HashMap, fmt::Write};

use serde_json::{Value, json};
use server::{
    store::Store,
    tasks::{Handler, TaskContext, TaskError},
};

use super::{FileResult, load_story, slug, write_file};
use crate::backend::tasks::Env;
use crate::{
    backend::{time::now_micros, time::to_rfc3339},
    model::{NodeKind, StoryTree},
};

/// Payload: one story, or the library when `story_id` is absent.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ReportPayload {
    /// The story.
    #[serde(default)]
    pub story_id: Option<String>,
}

/// The handler.
pub struct Report(pub Env);

impl Handler for Report {
    const KIND: &'static str = crate::model::TaskKind::Report.as_str();
    type Payload = ReportPayload;

    async fn run(&self, p: ReportPayload, ctx: TaskContext) -> Result<Value, TaskError> {
        let (markdown, details, name) = match p.story_id {
            Some(id) => story_report(&self.0.store, &id, &ctx).await?,
            None => library_report(&self.0.store, &ctx).await?,
        };
        let file = format!("task-{}.md", ctx.id());
        let bytes = write_file(&self.0.files_dir, &file, markdown.as_bytes())?;
        ctx.progress(100, "report written");
        FileResult {
            file,
            bytes,
            content_type: "text/markdown; charset=utf-8".into(),
            filename: name,
            details,
        }
        .into_value()
    }
}

/// Depth (1 = top level) and child count of every node of a depth-first tree.
pub struct TreeShape {
    /// Deepest level.
    pub max_depth: u32,
    /// Mean number of children over nodes that have any.
    pub branching: f64,
    /// Nodes per kind.
    pub by_kind: Vec<(NodeKind, u64)>,
}

/// The shape of a tree.
pub fn shape(tree: &StoryTree) -> TreeShape {
    let mut depth: HashMap<&str, u32> = HashMap::with_capacity(tree.nodes.len());
    let mut children: HashMap<&str, u32> = HashMap::new();
    let mut max_depth = 0;
    for n in &tree.nodes {
        let d = n
            .parent_id
            .as_deref()
            .and_then(|p| depth.get(p))
            .map_or(1, |d| d + 1);
        depth.insert(&n.id, d);
        max_depth = max_depth.max(d);
        if let Some(p) = n.parent_id.as_deref() {
            *children.entry(p).or_default() += 1;
        }
    }
    let branching = if children.is_empty() {
        0.0
    } else {
        f64::from(children.values().sum::<u32>()) / children.len() as f64
    };
    let by_kind = NodeKind::ALL
        .into_iter()
        .map(|k| (k, tree.nodes.iter().filter(|n| n.kind == k).count() as u64))
        .collect();
    TreeShape {
        max_depth,
        branching,
        by_kind,
    }
}

async fn story_report(
    store: &Store,
    story_id: &str,
    ctx: &TaskContext,
) -> Result<(String, Value, String), TaskError> {
    let (story, tree) = load_story(store, story_id, ctx).await?;
    let conn = store.read().await?;
    let reads = conn
        .query_i64(
            "report.reads",
            "SELECT read_count FROM stories WHERE id = ?1",
            [story.id.as_str()],
        )
        .await?;
    drop(conn);
    ctx.progress(60, "measuring the tree");
    let s = shape(&tree);
    let mut md = String::new();
    let _ = writeln!(md, "# Report: {}\n", story.title);
    let _ = writeln!(md, "Generated {}.\n", to_rfc3339(now_micros()));
    let _ = writeln!(md, "| measure | value |\n|---|---:|");
    let _ = writeln!(md, "| status | {} |", story.status.as_str());
    let _ = writeln!(md, "| tags | {} |", story.tags.join(", "));
    let _ = writeln!(md, "| nodes | {} |", tree.nodes.len());
    let _ = writeln!(md, "| words | {} |", story.word_count);
    let _ = writeln!(md, "| deepest level | {} |", s.max_depth);
    let _ = writeln!(md, "| branching factor | {:.2} |", s.branching);
    let _ = writeln!(md, "| reads | {reads} |");
    let _ = writeln!(md, "\n## Nodes by kind\n\n| kind | nodes |\n|---|---:|");
    for (k, n) in &s.by_kind {
        let _ = writeln!(md, "| {} | {n} |", k.as_str());
    }
    let details = json!({
        "scope": "story",
        "story_id": story.id,
        "nodes": tree.nodes.len(),
        "words": story.word_count,
        "max_depth": s.max_depth,
        "branching": s.branching,
        "reads": reads,
    });
    Ok((md, details, format!("{}-report.md", slug(&story.title))))
}

async fn library_report(
    store: &Store,
    ctx: &TaskContext,
) -> Result<(String, Value, String), server::store::StoreError> {
    let f = library_figures(store, ctx).await?;
    let stories: i64 = f.by_status.iter().map(|s| s.1).sum();
    let nodes: i64 = f.by_status.iter().map(|s| s.2).sum();
    let words: i64 = f.by_status.iter().map(|s| s.3).sum();
    let details = json!({
        "scope": "library",
        "stories": stories,
        "nodes": nodes,
        "words": words,
        "max_depth": f.max_depth,
        "branching": f.branching,
        "most_read": f.most_read.iter().map(|(t, r, _)| json!({"title": t, "reads": r})).collect::<Vec<_>>(),
    });
    Ok((
        library_markdown(&f, stories, nodes, words),
        details,
        "library-report.md".into(),
    ))
}

/// What the library report says, as read from the store.
struct LibraryFigures {
    /// Status, stories, nodes, words.
    by_status: Vec<(String, i64, i64, i64)>,
    /// Node kind, nodes.
    by_kind: Vec<(String, i64)>,
    branching: f64,
    max_depth: i64,
    mean_depth: f64,
    /// Title, reads, nodes.
    most_read: Vec<(String, i64, i64)>,
}

async fn library_figures(
    store: &Store,
    ctx: &TaskContext,
) -> Result<LibraryFigures, server::store::StoreError> {
    let conn = store.read().await?;
    ctx.progress(10, "counting stories");
    let by_status = conn
        .query(
            "report.by_status",
            "SELECT status, count(*), coalesce(sum(node_count), 0), coalesce(sum(word_count), 0)
             FROM stories GROUP BY status ORDER BY status",
            (),
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<i64>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<i64>(3)?,
                ))
            },
        )
        .await?;
    ctx.progress(30, "counting nodes");
    let by_kind = conn
        .query(
            "report.by_kind",
            "SELECT kind, count(*) FROM nodes GROUP BY kind ORDER BY kind",
            (),
            |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
        )
        .await?;
    let branching = conn
        .query_opt(
            "report.branching",
            "SELECT coalesce(count(*) * 1.0 / nullif(count(DISTINCT parent_id), 0), 0.0)
             FROM nodes WHERE parent_id IS NOT NULL",
            (),
            |r| r.get::<f64>(0),
        )
        .await?
        .unwrap_or(0.0);
    ctx.progress(50, "measuring depth");
    let (max_depth, mean_depth) = conn
        .query_opt(
            "report.depth",
            "WITH RECURSIVE d(id, depth) AS (
                SELECT id, 1 FROM nodes WHERE parent_id IS NULL
                UNION ALL
                SELECT n.id, d.depth + 1 FROM nodes n JOIN d ON n.parent_id = d.id
             )
             SELECT coalesce(max(depth), 0), coalesce(avg(depth), 0.0) FROM d",
            (),
            |r| Ok((r.get::<i64>(0)?, r.get::<f64>(1)?)),
        )
        .await?
        .unwrap_or((0, 0.0));
    ctx.progress(80, "finding the most read");
    let most_read = conn
        .query(
            "report.most_read",
            // Titles of public stories only: a report may reach anyone.
            "SELECT title, read_count, node_count FROM stories WHERE visibility = 'public'
             ORDER BY read_count DESC, updated_at DESC LIMIT 10",
            (),
            |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?)),
        )
        .await?;
    Ok(LibraryFigures {
        by_status,
        by_kind,
        branching,
        max_depth,
        mean_depth,
        most_read,
    })
}

fn library_markdown(f: &LibraryFigures, stories: i64, nodes: i64, words: i64) -> String {
    let (max_depth, mean_depth, branching) = (f.max_depth, f.mean_depth, f.branching);
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Library report\n\nGenerated {}.\n",
        to_rfc3339(now_micros())
    );
    let _ = writeln!(md, "| measure | value |\n|---|---:|");
    let _ = writeln!(
        md,
        "| stories | {stories} |\n| nodes | {nodes} |\n| words | {words} |"
    );
    let _ = writeln!(
        md,
        "| deepest level | {max_depth} |\n| mean depth | {mean_depth:.2} |"
    );
    let _ = writeln!(md, "| branching factor | {branching:.2} |");
    let _ = writeln!(
        md,
        "\n## Stories by status\n\n| status | stories | nodes | words |\n|---|---:|---:|---:|"
    );
    for (s, n, nodes, words) in &f.by_status {
        let _ = writeln!(md, "| {s} | {n} | {nodes} | {words} |");
    }
    let _ = writeln!(md, "\n## Nodes by kind\n\n| kind | nodes |\n|---|---:|");
    for (k, n) in &f.by_kind {
        let _ = writeln!(md, "| {k} | {n} |");
    }
    let _ = writeln!(
        md,
        "\n## Most read\n\n| story | reads | nodes |\n|---|---:|---:|"
    );
    for (title, reads, n) in &f.most_read {
        let _ = writeln!(md, "| {} | {reads} | {n} |", title.replace('|', "\\|"));
    }
    md
}
