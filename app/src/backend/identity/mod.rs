//! Who is asking: the caller of a request ([`caller`]: an anonymous session today, where
//! accounts will go), the session cookie behind it ([`cookie`]) and the operator's admin
//! role ([`admin`]: the token, and browser sessions unlocked with it).

pub mod admin;
pub mod caller;
pub mod cookie;

pub use admin::Admin;
pub use caller::{Session, Viewer};
pub use cookie::{COOKIE, Owner};
