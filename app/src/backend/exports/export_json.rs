//! The JSON export of a story (format `aion.story`, version 1; see API.md); its import is
//! [`super::import`].

use serde_json::{Value, json};
use server::tasks::{Handler, TaskContext, TaskError};

use serde::Serialize;

use super::{FileResult, StoryPayload, load_story, slug, write_file_with};
use crate::backend::tasks::Env;
use base64::{Engine, engine::general_purpose::STANDARD};

use crate::{
    backend::{media, time::now_micros, time::to_rfc3339},
    model::{
        EXPORT_FORMAT, EXPORT_VERSION, ExportedCover, ExportedNode, ExportedStory, Node, NodeKind,
        Story, StoryExport, StoryTree,
    },
};

/// The story part of an export (without its cover).
fn exported_story(story: &Story) -> ExportedStory {
    ExportedStory {
        id: story.id.clone(),
        title: story.title.clone(),
        summary: story.summary.clone(),
        status: story.status,
        tags: story.tags.clone(),
        created_at: story.created_at.clone(),
        updated_at: story.updated_at.clone(),
        cover: None,
    }
}

/// The export document of a story and its tree, as values (the file is written from the
/// tree without this copy: [`Streamed`]).
pub fn build_export(story: &Story, tree: &StoryTree) -> StoryExport {
    StoryExport {
        format: EXPORT_FORMAT.to_owned(),
        version: EXPORT_VERSION,
        exported_at: to_rfc3339(now_micros()),
        story: exported_story(story),
        nodes: tree
            .nodes
            .iter()
            .map(|n| ExportedNode {
                ref_: n.id.clone(),
                parent_ref: n.parent_id.clone(),
                position: n.position,
                kind: n.kind,
                title: n.title.clone(),
                content: n.content.clone(),
                choice_label: n.choice_label.clone(),
            })
            .collect(),
    }
}

/// The export document serialised straight from the tree, node by node, into the file:
/// the same JSON as [`build_export`]'s (a test compares them) without a second copy of
/// every text in memory, nor the whole document as one buffer.
#[derive(Serialize)]
struct Streamed<'a> {
    format: &'static str,
    version: u32,
    exported_at: String,
    story: &'a ExportedStory,
    nodes: StreamedNodes<'a>,
}

struct StreamedNodes<'a>(&'a [Node]);

impl Serialize for StreamedNodes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for n in self.0 {
            seq.serialize_element(&StreamedNode {
                ref_: &n.id,
                parent_ref: n.parent_id.as_deref(),
                position: n.position,
                kind: n.kind,
                title: &n.title,
                content: &n.content,
                choice_label: n.choice_label.as_deref(),
            })?;
        }
        seq.end()
    }
}

/// [`ExportedNode`] borrowed: the same fields in the same order.
#[derive(Serialize)]
struct StreamedNode<'a> {
    #[serde(rename = "ref")]
    ref_: &'a str,
    parent_ref: Option<&'a str>,
    position: u32,
    kind: NodeKind,
    title: &'a str,
    content: &'a str,
    choice_label: Option<&'a str>,
}

/// Writes the export of `story` and `tree` to `dir/name`; the size. Blocking.
fn write_export(
    dir: &std::path::Path,
    name: &str,
    story: &ExportedStory,
    tree: &StoryTree,
) -> Result<u64, TaskError> {
    let doc = Streamed {
        format: EXPORT_FORMAT,
        version: EXPORT_VERSION,
        exported_at: to_rfc3339(now_micros()),
        story,
        nodes: StreamedNodes(&tree.nodes),
    };
    write_file_with(dir, name, |w| {
        serde_json::to_writer_pretty(w, &doc).map_err(std::io::Error::other)
    })
}

/// `story.export_json`: writes the export document to a file, from a blocking thread.
pub struct ExportJson(pub Env);

impl Handler for ExportJson {
    const KIND: &'static str = crate::model::TaskKind::ExportJson.as_str();
    type Payload = StoryPayload;

    async fn run(&self, p: StoryPayload, ctx: TaskContext) -> Result<Value, TaskError> {
        let (story, tree) = load_story(&self.0.store, &p.story_id, &ctx).await?;
        ctx.progress(60, format!("writing {} nodes", tree.nodes.len()));
        let mut head = exported_story(&story);
        if let Some(cover) = &story.cover
            && let Some((content_type, data)) = media::original(&self.0.store, &cover.hash).await?
        {
            head.cover = Some(ExportedCover {
                content_type,
                data: STANDARD.encode(data),
            });
        }
        let file = format!("task-{}.json", ctx.id());
        let (dir, name) = (self.0.files_dir.clone(), file.clone());
        let nodes = tree.nodes.len();
        let size = ctx
            .blocking("writing the export", move |cancelled| {
                cancelled.check()?;
                write_export(&dir, &name, &head, &tree)
            })
            .await?;
        ctx.progress(100, format!("{nodes} nodes, {size} bytes"));
        FileResult {
            file,
            bytes: size,
            content_type: "application/json".into(),
            filename: format!("{}.aion.json", slug(&story.title)),
            details: json!({ "nodes": nodes, "story_id": story.id }),
        }
        .into_value()
    }
}

#[cfg(test)]
mod tests {
    //! The import format's round trip as a property: any document the import accepts comes
    //! back from the export unchanged (but for ids and times), against a real database.

    use proptest::prelude::*;

    use super::*;
    use crate::backend::{AppConfig, AppState, exports::import_story, identity::Viewer};
    use crate::model::{ApiError, NodeKind, StoryStatus, fields::Id};

    /// A tree of `n` nodes as parent indices (each parent earlier), kinds and texts, laid
    /// out depth-first with siblings in order: the order an export has.
    fn documents() -> impl Strategy<Value = StoryExport> {
        let text = "[a-zA-Z0-9龙的传说,.!? ]{0,40}";
        let title = "[a-zA-Z龙传][a-zA-Z0-9龙的传说 ]{0,30}[a-z说]";
        let node = (
            any::<prop::sample::Index>(),
            prop::sample::select(NodeKind::ALL.to_vec()),
            title,
            text,
            prop::option::of(title),
            any::<bool>(),
        );
        (
            title,
            text,
            prop::sample::select(StoryStatus::ALL.to_vec()),
            prop::collection::btree_set("[a-z龙]{1,8}", 0..5),
            prop::collection::vec(node, 0..40),
        )
            .prop_map(|(title, summary, status, tags, raw)| {
                // Parents: none, or an earlier node.
                let parents: Vec<Option<usize>> = raw
                    .iter()
                    .enumerate()
                    .map(|(i, (pick, _, _, _, _, top))| (i > 0 && !top).then(|| pick.index(i)))
                    .collect();
                let mut order = Vec::new();
                fn visit(at: Option<usize>, parents: &[Option<usize>], order: &mut Vec<usize>) {
                    for (i, p) in parents.iter().enumerate() {
                        if *p == at {
                            order.push(i);
                            visit(Some(i), parents, order);
                        }
                    }
                }
                visit(None, &parents, &mut order);
                let mut position = vec![0u32; raw.len()];
                let mut next: std::collections::HashMap<Option<usize>, u32> = Default::default();
                for &i in &order {
                    let slot = next.entry(parents[i]).or_default();
                    position[i] = *slot;
                    *slot += 1;
                }
                StoryExport {
                    format: EXPORT_FORMAT.into(),
                    version: EXPORT_VERSION,
                    exported_at: "2026-12-02T00:00:00.000000Z".into(),
                    story: ExportedStory {
                        id: "0190c2a4-8f1e-7c3b-9a2d-4e5f60718293".into(),
                        title,
                        summary: summary.trim().to_owned(),
                        status,
                        tags: tags.into_iter().collect(),
                        created_at: "2026-12-02T00:00:00.000000Z".into(),
                        updated_at: "2026-12-02T00:00:00.000000Z".into(),
                        cover: None,
                    },
                    nodes: order
                        .iter()
                        .map(|&i| {
                            let (_, kind, title, content, label, _) = &raw[i];
                            ExportedNode {
                                ref_: format!("n{i}"),
                                parent_ref: parents[i].map(|p| format!("n{p}")),
                                position: position[i],
                                kind: *kind,
                                title: title.clone(),
                                content: content.clone(),
                                choice_label: label.clone(),
                            }
                        })
                        .collect(),
                }
            })
    }

    /// The document without ids and times: parents as indices into the node list.
    fn shape(doc: &StoryExport) -> serde_json::Value {
        let index = |r: &Option<String>| {
            r.as_ref()
                .and_then(|r| doc.nodes.iter().position(|n| &n.ref_ == r))
        };
        json!({
            "story": [doc.story.title, doc.story.summary, doc.story.status, doc.story.tags],
            "nodes": doc.nodes.iter().map(|n| json!([
                index(&n.parent_ref), n.position, n.kind, n.title, n.content, n.choice_label
            ])).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn what_the_import_accepts_the_export_gives_back() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("aion.db");
        let config = AppConfig::from_lookup(|k| match k {
            "AION_DB_PATH" => db.to_str().map(str::to_owned),
            "AION_SEED_DEMO" => Some("0".into()),
            "AION_CACHE_WARM_STORIES" => Some("0".into()),
            _ => None,
        })
        .expect("config");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let state = runtime
            .block_on(AppState::start(config))
            .expect("the app starts");
        proptest!(ProptestConfig::with_cases(48), |(doc in documents())| {
            let back = runtime.block_on(async {
                let story = import_story(&state, &Viewer::Operator, &doc, "test").await?;
                let id = Id::parse("id", &story.id)?;
                let tree = crate::backend::library::nodes::tree(state.store(), &id).await?;
                Ok::<_, ApiError>((story, tree))
            });
            match back {
                Ok((story, tree)) => {
                    let back = build_export(&story, &tree);
                    prop_assert_eq!(shape(&back), shape(&doc));
                    // The file is written from the tree: the same document.
                    write_export(dir.path(), "x.json", &back.story, &tree).expect("written");
                    let text = std::fs::read(dir.path().join("x.json")).expect("read");
                    let mut file: StoryExport = serde_json::from_slice(&text).expect("parses");
                    file.exported_at.clone_from(&back.exported_at);
                    prop_assert_eq!(file, back);
                }
                Err(e) => prop_assert!(false, "a valid document was refused: {e:?}"),
            }
        });
        runtime.block_on(state.shutdown());
    }
}
