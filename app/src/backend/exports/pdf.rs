//! `story.export_pdf`: a story as a gamebook PDF.
//!
//! A title page (title, summary, tags, counts, contents), then one chapter per top-level
//! node, each starting on a new page. Every other node is a numbered section (§n, in tree
//! order); a node's children follow it as numbered branches ("1. label → §n"), so the
//! printed story can be played like the reader. Text is set in one font that covers
//! Chinese and Latin (WenQuanYi Micro Hei by default), embedded and subset by krilla, and
//! wrapped with advance widths from skrifa: CJK may break between any two characters,
//! Latin only at spaces. Rendering is CPU work, so it runs on a blocking thread and reports
//! progress after each chapter; a cancel is noticed between chapters.

use std::{collections::HashMap, sync::Arc};

use krilla::{
    Document,
    color::rgb,
    destination::XyzDestination,
    geom::Point,
    metadata::Metadata,
    num::NormalizedF32,
    outline::{Outline, OutlineNode},
    page::PageSettings,
    paint::Fill,
    text::{Font, TextDirection},
};
use serde_json::{Value, json};
use server::tasks::{Cancelled, Handler, TaskContext, TaskError};
use skrifa::{
    FontRef, GlyphId, MetadataProvider,
    charmap::Charmap,
    instance::{LocationRef, Size},
    metrics::GlyphMetrics,
};

use super::{FileResult, StoryPayload, load_story, slug, write_file};
use crate::backend::tasks::Env;
use crate::{
    backend::{time::now_micros, time::to_rfc3339},
    model::{Node, NodeKind, Story, StoryTree},
};

const PAGE_W: f32 = 595.0; // A4 in points
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;

/// The handler.
pub struct ExportPdf(pub Env);

impl Handler for ExportPdf {
    const KIND: &'static str = crate::model::TaskKind::ExportPdf.as_str();
    type Payload = StoryPayload;

    async fn run(&self, p: StoryPayload, ctx: TaskContext) -> Result<Value, TaskError> {
        let (story, tree) = load_story(&self.0.store, &p.story_id, &ctx).await?;
        let font_path = self.0.pdf_font.clone();
        let font = tokio::fs::read(&font_path).await.map_err(|e| {
            TaskError::permanent(
                "PDF export is not available on this server: its font is missing. A JSON export works; the operator can install the font (see README, AION_PDF_FONT).",
            )
            .detail(format_args!("reading {}: {e}", font_path.display()))
        })?;
        let nodes = tree.nodes.len();
        let title = story.title.clone();
        let job = ctx.clone();
        let pdf = ctx
            .blocking("the PDF renderer", move |cancelled| {
                render(&story, &tree, font, &job, cancelled)
            })
            .await?;
        let file = format!("task-{}.pdf", ctx.id());
        let bytes = write_file(&self.0.files_dir, &file, &pdf.bytes)?;
        ctx.progress(100, format!("{} pages", pdf.pages));
        FileResult {
            file,
            bytes,
            content_type: "application/pdf".into(),
            filename: format!("{}.pdf", slug(&title)),
            details: json!({ "pages": pdf.pages, "chapters": pdf.chapters, "nodes": nodes }),
        }
        .into_value()
    }
}

/// A rendered document.
pub struct Rendered {
    /// The PDF.
    pub bytes: Vec<u8>,
    /// Pages in it.
    pub pages: usize,
    /// Chapters (top-level nodes).
    pub chapters: usize,
}

/// Advance widths from the font, for wrapping.
struct Measure<'a> {
    charmap: Charmap<'a>,
    metrics: GlyphMetrics<'a>,
    upem: f32,
}

impl<'a> Measure<'a> {
    fn new(data: &'a [u8]) -> Result<Self, TaskError> {
        let font = FontRef::from_index(data, 0)
            .map_err(|e| {
                TaskError::permanent(
                    "PDF export is not available on this server: its font cannot be used. A JSON export works.",
                )
                .detail(format_args!("parsing the PDF font: {e}"))
            })?;
        let upem = f32::from(
            font.metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        );
        Ok(Self {
            charmap: font.charmap(),
            metrics: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
            upem,
        })
    }

    fn width(&self, s: &str, size: f32) -> f32 {
        s.chars()
            .map(|c| {
                let gid = self.charmap.map(c).unwrap_or(GlyphId::NOTDEF);
                self.metrics.advance_width(gid).unwrap_or(0.0)
            })
            .sum::<f32>()
            * size
            / self.upem
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x2E80..=0x9FFF | 0xAC00..=0xD7AF |
        0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x2FA1F)
}

/// Greedy line breaking: CJK characters break anywhere, Latin words at spaces, and a word
/// wider than the line is split between characters.
fn wrap(m: &Measure, text: &str, size: f32, max: f32) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            if tokens.last().is_some_and(|t| t != " ") {
                tokens.push(" ".into());
            }
        } else if is_cjk(c) {
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            tokens.push(c.to_string());
        } else if !c.is_control() {
            word.push(c);
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut width = 0.0f32;
    for token in tokens {
        let pieces = if token != " " && m.width(&token, size) > max {
            token.chars().map(String::from).collect()
        } else {
            vec![token]
        };
        for piece in pieces {
            if piece == " " && line.is_empty() {
                continue;
            }
            let w = m.width(&piece, size);
            if piece != " " && !line.is_empty() && width + w > max {
                lines.push(line.trim_end().to_owned());
                line.clear();
                width = 0.0;
            }
            line.push_str(&piece);
            width += w;
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// One line of text placed on a page (`y` is the baseline; origin top-left, y down).
struct Line {
    text: String,
    size: f32,
    x: f32,
    y: f32,
    grey: u8,
}

/// Pages being filled.
struct Pages<'m> {
    measure: &'m Measure<'m>,
    pages: Vec<Vec<Line>>,
    y: f32,
}

impl<'m> Pages<'m> {
    fn new(measure: &'m Measure<'m>) -> Self {
        Self {
            measure,
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    fn gap(&mut self, points: f32) {
        self.y += points;
    }

    fn line(&mut self, text: String, size: f32, indent: f32, grey: u8) {
        let leading = size * 1.5;
        if self.y + leading > PAGE_H - MARGIN {
            self.new_page();
        }
        self.y += leading;
        let y = self.y;
        if let Some(page) = self.pages.last_mut() {
            page.push(Line {
                text,
                size,
                x: MARGIN + indent,
                y,
                grey,
            });
        }
    }

    fn paragraph(&mut self, text: &str, size: f32, indent: f32, grey: u8) {
        for para in text.split('\n').filter(|p| !p.trim().is_empty()) {
            for l in wrap(self.measure, para, size, TEXT_W - indent) {
                self.line(l, size, indent, grey);
            }
            self.gap(size * 0.4);
        }
    }
}

/// Draws finished pages into the document; stops between pages on cancel.
fn draw(
    doc: &mut Document,
    font: &Font,
    pages: Vec<Vec<Line>>,
    cancelled: &Cancelled,
) -> Result<(), TaskError> {
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| TaskError::permanent("invalid page size"))?;
    for lines in pages {
        cancelled.check()?;
        let mut page = doc.start_page_with(settings.clone());
        let mut surface = page.surface();
        for l in lines.iter().filter(|l| !l.text.is_empty()) {
            surface.set_fill(Some(Fill {
                paint: rgb::Color::new(l.grey, l.grey, l.grey).into(),
                opacity: NormalizedF32::ONE,
                rule: Default::default(),
            }));
            surface.draw_text(
                Point::from_xy(l.x, l.y),
                font.clone(),
                l.size,
                &l.text,
                false,
                TextDirection::Auto,
            );
        }
        surface.finish();
        page.finish();
    }
    Ok(())
}

/// Renders the story; reports progress per chapter. On cancel it stops at the next node
/// or page, so a cancelled export stops using its thread within a page's work (only the
/// document's final assembly, `finish`, runs to its end once started).
pub fn render(
    story: &Story,
    tree: &StoryTree,
    font_bytes: Vec<u8>,
    ctx: &TaskContext,
    cancelled: &Cancelled,
) -> Result<Rendered, TaskError> {
    let bytes = Arc::new(font_bytes);
    let font = Font::new(bytes.clone().into(), 0)
        .ok_or_else(|| TaskError::permanent("the PDF font cannot be loaded"))?;
    let measure = Measure::new(bytes.as_slice())?;

    // Children in order, and a section number for every node below the top level.
    let mut children: HashMap<&str, Vec<&Node>> = HashMap::new();
    let mut top: Vec<&Node> = Vec::new();
    for n in &tree.nodes {
        match n.parent_id.as_deref() {
            Some(p) => children.entry(p).or_default().push(n),
            None => top.push(n),
        }
    }
    let mut section: HashMap<&str, usize> = HashMap::new();
    for n in tree.nodes.iter().filter(|n| n.parent_id.is_some()) {
        let next = section.len() + 1;
        section.insert(&n.id, next);
    }

    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(story.title.clone())
            .creator("AION Story Engine".to_owned())
            .language("zh-CN".to_owned()),
    );
    let mut outline = Outline::new();
    let mut page_count = 0usize;

    // Title page.
    let pages = title_page(&measure, story, tree, &top);
    page_count += pages.pages.len();
    draw(&mut doc, &font, pages.pages, cancelled)?;

    let chapters = top.len();
    for (i, chapter) in top.iter().enumerate() {
        cancelled.check()?;
        let mut pages = Pages::new(&measure);
        outline.push_child(OutlineNode::new(
            chapter.title.clone(),
            XyzDestination::new(page_count, Point::from_xy(0.0, MARGIN)),
        ));
        chapter_pages(
            &mut pages, &measure, chapter, &children, &section, cancelled,
        )?;
        page_count += pages.pages.len();
        draw(&mut doc, &font, pages.pages, cancelled)?;
        let done = 5 + (90 * (i + 1) / chapters.max(1)) as u8;
        ctx.progress(
            done,
            format!("chapter {} of {chapters}: {}", i + 1, chapter.title),
        );
    }
    doc.set_outline(outline);
    let bytes = doc.finish().map_err(|e| {
        TaskError::permanent("the PDF could not be produced from this story")
            .detail(format_args!("krilla: {e:?}"))
    })?;
    Ok(Rendered {
        bytes,
        pages: page_count,
        chapters,
    })
}

/// The title page: title, summary, tags, counts and the contents.
fn title_page<'m>(
    measure: &'m Measure<'m>,
    story: &Story,
    tree: &StoryTree,
    top: &[&Node],
) -> Pages<'m> {
    let mut pages = Pages::new(measure);
    pages.gap(180.0);
    for l in wrap(measure, &story.title, 28.0, TEXT_W) {
        pages.line(l, 28.0, 0.0, 0);
    }
    pages.gap(16.0);
    if !story.summary.is_empty() {
        pages.paragraph(&story.summary, 12.0, 0.0, 60);
    }
    if !story.tags.is_empty() {
        pages.line(format!("Tags: {}", story.tags.join(", ")), 10.0, 0.0, 100);
    }
    pages.line(
        format!(
            "{} nodes · {} words · exported {}",
            tree.nodes.len(),
            story.word_count,
            &to_rfc3339(now_micros())[..10]
        ),
        10.0,
        0.0,
        100,
    );
    if !top.is_empty() {
        pages.gap(24.0);
        pages.line("Contents".into(), 14.0, 0.0, 0);
        for (i, ch) in top.iter().enumerate() {
            pages.line(format!("{}. {}", i + 1, ch.title), 11.0, 12.0, 40);
        }
    }
    pages
}

/// A chapter: its heading and text, then its subtree depth-first as numbered sections.
fn chapter_pages(
    pages: &mut Pages,
    measure: &Measure,
    chapter: &Node,
    children: &HashMap<&str, Vec<&Node>>,
    section: &HashMap<&str, usize>,
    cancelled: &Cancelled,
) -> Result<(), TaskError> {
    for l in wrap(measure, &chapter.title, 20.0, TEXT_W) {
        pages.line(l, 20.0, 0.0, 0);
    }
    pages.gap(8.0);
    pages.paragraph(&chapter.content, 11.0, 0.0, 30);
    branches(pages, children, section, &chapter.id);
    // The chapter's subtree, depth-first.
    let mut stack: Vec<&Node> = children
        .get(chapter.id.as_str())
        .map(|c| c.iter().rev().copied().collect())
        .unwrap_or_default();
    while let Some(n) = stack.pop() {
        cancelled.check()?;
        let number = section.get(n.id.as_str()).copied().unwrap_or(0);
        pages.gap(10.0);
        let heading = match n.kind {
            NodeKind::Ending => format!("§{number}  {} (ending)", n.title),
            _ => format!("§{number}  {}", n.title),
        };
        for l in wrap(measure, &heading, 13.0, TEXT_W) {
            pages.line(l, 13.0, 0.0, 0);
        }
        pages.paragraph(&n.content, 11.0, 0.0, 30);
        branches(pages, children, section, &n.id);
        if let Some(kids) = children.get(n.id.as_str()) {
            stack.extend(kids.iter().rev());
        }
    }
    Ok(())
}

/// A node's children as numbered branches: "1. label → §n".
fn branches(
    pages: &mut Pages,
    children: &HashMap<&str, Vec<&Node>>,
    section: &HashMap<&str, usize>,
    id: &str,
) {
    let Some(kids) = children.get(id) else { return };
    pages.gap(4.0);
    for (i, k) in kids.iter().enumerate() {
        let label = k.choice_label.as_deref().unwrap_or(&k.title);
        let target = section.get(k.id.as_str()).copied().unwrap_or(0);
        let text = format!("{}. {label} → §{target}", i + 1);
        for l in wrap(pages.measure, &text, 11.0, TEXT_W - 16.0) {
            pages.line(l, 11.0, 16.0, 0);
        }
    }
}
