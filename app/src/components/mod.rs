//! Reusable UI pieces with typed props.

mod admin_panel;
mod cover_editor;
mod cover_image;
mod export_panel;
mod field_error;
mod health_panel;
mod live;
mod memory_panel;
mod node_tree;
mod share_panel;
mod shell;
mod story_card;
mod story_list;
mod virtual_list;

pub use admin_panel::AdminPanel;
pub use cover_editor::CoverEditor;
pub use cover_image::CoverImage;
pub use export_panel::{ExportPanel, TaskRow};
pub use field_error::{FieldError, FormError, textarea_text};
pub use health_panel::HealthPanel;
pub use live::{Bell, TaskUpdate, use_live, use_live_provider};
pub use memory_panel::MemoryPanel;
pub use node_tree::{NodeTree, kind_label};
pub use share_panel::SharePanel;
pub use shell::Shell;
pub use story_card::StoryCard;
pub use story_list::StoryList;
pub use virtual_list::{Align, Jump, Scroll, VirtualList};
