//! Who is asking and what they may do as themselves: the caller of a request ([`caller`]:
//! a signed-in writer, an anonymous session or an operator), writers' accounts
//! ([`accounts`], handles and the admin role), their passwords ([`password`], argon2id) and passkeys ([`passkeys`], WebAuthn),
//! their signed-in sessions ([`sessions`], in the store and the cache), what the account
//! endpoints do ([`account`]) and the account page's markup ([`account_page`]), the cookies behind it all ([`cookie`]) and the operator's
//! admin token ([`admin`]).

pub mod account;
pub mod account_page;
pub mod accounts;
pub mod admin;
pub mod caller;
pub mod cookie;
pub mod passkeys;
pub mod password;
pub mod sessions;

pub use admin::Admin;
pub use caller::{Sees, Session, Viewer};
pub use cookie::{COOKIE, Owner};
pub use sessions::SignedIn;
