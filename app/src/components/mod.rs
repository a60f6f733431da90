//! Reusable UI pieces with typed props.

mod health_panel;
mod shell;

pub use health_panel::HealthPanel;
pub use shell::Shell;
