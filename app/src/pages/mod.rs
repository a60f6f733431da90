//! One module per page; pages stay thin and delegate to components, hooks and server functions.

mod account;
mod dashboard;
mod editor;
mod home;
mod node_editor;
mod not_found;
mod performance;
mod reader;
mod stories;
mod tasks;

pub use account::Account;
pub use dashboard::Dashboard;
pub use editor::Editor;
pub use home::Home;
pub use not_found::NotFound;
pub use performance::Performance;
pub use reader::{Reader, ReaderNode};
pub use stories::Stories;
pub use tasks::Tasks;
