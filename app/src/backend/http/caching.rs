//! Which GET responses the response cache keeps, under which key, policy and tags: the
//! JSON reads and the server-rendered pages.
//!
//! | request | kept | key | invalidated by | Cache-Control |
//! |---|---|---|---|---|
//! | `GET /api/stories?…` | yes | as sent | `stories:list` | `no-cache` + ETag |
//! | `GET /api/stories/{id}` | yes (no query) | canonical id | `story:{id}` | `no-cache` + ETag |
//! | `GET /api/stories/{id}/tree?cursor&limit&offset`, `…/outline?limit&offset`, `…/view?node` | yes | canonical id, known parameters sorted, cursor and node canonical, numbers of up to 8 digits | `story:{id}` | `no-cache` + ETag |
//! | `GET /` | yes (no data on it) | `/` | time (5 min) | `no-cache` + ETag |
//! | `GET /stories?q&status&sort&at` | yes | known parameters, sorted, empty ones dropped | `stories:list` | `no-cache` + ETag |
//! | `GET /stories/{id}`, `…/nodes/{node}`, `…/edit` | yes | canonical ids | `story:{id}` | `no-cache` + ETag |
//! | `GET /tasks`, `/performance`, `/performance-dashboard`, `/account` | never: the session's own tasks and live queue counts; the live figures of each layer; the dashboard's first reading; the caller's account | | | `no-store` |
//! | admin, metrics, health, vitals | never | | | `no-store` |
//! | anything else (404 pages, writes, assets) | no | | | as the handler says |
//!
//! Pages kept hold nothing of the viewer: only what visitors are shown is kept (see
//! [`is_personal`]), and the signed-in bits of the navigation come from `GET /api/me`
//! after hydration, so one copy serves every client. A
//! story's pages carry the story's tag and the list pages the list tag, the same tags as
//! the JSON reads: a write invalidates both before its response is sent. Every cached
//! answer is revalidated by the browser (`no-cache` with a strong ETag, 304 when it still
//! matches); nothing HTML is ever `immutable`.
//!
//! A story id may arrive in any letter case and percent-encoded (the router decodes both);
//! it is parsed into its one canonical form before it names a cache entry, a tag or a read,
//! so every spelling of a story shares one entry that a write invalidates. Which answers
//! count as story reads is `library::reads`'s decision, joined to this one only in
//! [`response_cache`].

use std::sync::Arc;

use axum::{
    extract::Request,
    http::{HeaderMap, Method, Uri, header},
};
use server::{
    cache::{Capacity, TieredCache},
    http::response_cache::{CacheDecision, CachedResponse, ResponseCache},
};

use crate::backend::{
    cache::{LIST_TAG, Policy, story_tag},
    identity::{
        admin::AdminSessions,
        cookie::{account_cookie_name, cookie_in, owner_in},
    },
    library::reads::{ReadCounter, canonical_id, story_read},
};

/// Longest query string of a cached list page or node read (longer ones are answered, never
/// kept).
const MAX_LIST_QUERY: usize = 512;

/// The list page's query parameters, in key order (`Route::Stories`'s; a test in
/// `routes.rs` fails when the two drift apart).
pub const LIST_PARAMS: [&str; 5] = ["at", "q", "scope", "sort", "status"];

/// What the response cache does with a request (see the module table); `pages` off
/// renders every page (`AION_PAGE_CACHE=0`, for comparisons).
pub fn decide(method: &Method, uri: &Uri, pages: bool) -> CacheDecision<Policy> {
    let path = uri.path();
    if path.starts_with("/api/admin")
        || path.starts_with("/api/metrics")
        || path == "/api/health"
        || path == "/api/vitals"
    {
        return CacheDecision::NoStore;
    }
    if method != Method::GET {
        return CacheDecision::Pass;
    }
    if path.starts_with("/api/") {
        return api(method, uri);
    }
    match page(uri) {
        CacheDecision::Store { .. } if !pages => CacheDecision::Pass,
        decision => decision,
    }
}

fn api(method: &Method, uri: &Uri) -> CacheDecision<Policy> {
    let path = uri.path();
    if path == "/api/stories" {
        return store(
            ResponseCache::<Policy>::key(method, uri),
            Policy::ApiResponse,
            vec![LIST_TAG.to_owned()],
        );
    }
    let Some(rest) = path.strip_prefix("/api/stories/") else {
        return CacheDecision::Pass;
    };
    let mut parts = rest.split('/');
    // Only well-formed ids: anything else is a 400 or 404 that is not worth keeping.
    let Some(id) = parts.next().and_then(canonical_id) else {
        return CacheDecision::Pass;
    };
    let query = uri.query();
    let what = match (parts.next(), parts.next(), parts.next(), query) {
        (None, ..) if query.is_none() => String::new(),
        (Some(kind @ ("tree" | "outline" | "view")), None, ..) => {
            let names: &[&str] = match kind {
                "tree" => &NODE_PAGE_PARAMS,
                "outline" => &NODE_PAGE_PARAMS[1..3],
                _ => &NODE_PAGE_PARAMS[3..],
            };
            match node_page_key(query.unwrap_or(""), names) {
                Some(q) if q.is_empty() => format!("/{kind}"),
                Some(q) => format!("/{kind}?{q}"),
                None => return CacheDecision::Pass,
            }
        }
        _ => return CacheDecision::Pass,
    };
    store(
        format!("GET /api/stories/{}{what}", id.as_str()),
        Policy::ApiResponse,
        vec![story_tag(id.as_str())],
    )
}

fn page(uri: &Uri) -> CacheDecision<Policy> {
    match uri.path() {
        "/tasks" | "/performance" | "/performance-dashboard" | "/account" => {
            return CacheDecision::NoStore;
        }
        path @ "/" => {
            return match uri.query() {
                None => store(format!("page {path}"), Policy::Page, Vec::new()),
                Some(_) => CacheDecision::Pass,
            };
        }
        "/stories" => {
            return match list_key(uri.query().unwrap_or("")) {
                Some(query) => store(
                    format!("page /stories?{query}"),
                    Policy::Page,
                    vec![LIST_TAG.to_owned()],
                ),
                None => CacheDecision::Pass,
            };
        }
        _ => {}
    }
    let Some(rest) = uri.path().strip_prefix("/stories/") else {
        return CacheDecision::Pass;
    };
    if uri.query().is_some() {
        return CacheDecision::Pass;
    }
    let mut parts = rest.split('/');
    let Some(id) = parts.next().and_then(canonical_id) else {
        return CacheDecision::Pass;
    };
    let page = match (parts.next(), parts.next(), parts.next()) {
        (None, ..) => String::new(),
        (Some("edit"), None, _) => "/edit".to_owned(),
        (Some("nodes"), Some(node), None) => match canonical_id(node) {
            Some(node) => format!("/nodes/{}", node.as_str()),
            None => return CacheDecision::Pass,
        },
        _ => return CacheDecision::Pass,
    };
    store(
        format!("page /stories/{}{page}", id.as_str()),
        Policy::Page,
        vec![story_tag(id.as_str())],
    )
}

fn store(key: String, policy: Policy, tags: Vec<String>) -> CacheDecision<Policy> {
    CacheDecision::Store {
        key,
        policy,
        tags,
        on_success: None,
    }
}

/// The values of a query's parameters `names`, in their order; `None` for a parameter not
/// in `names`, one given twice, or a query longer than [`MAX_LIST_QUERY`]. Values are kept
/// as sent, never decoded, so two spellings the router might read differently never share
/// an entry.
fn query_values<'a>(query: &'a str, names: &[&str]) -> Option<Vec<Option<&'a str>>> {
    if query.len() > MAX_LIST_QUERY {
        return None;
    }
    let mut values = vec![None; names.len()];
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = names.iter().position(|p| *p == name)?;
        if values[slot].is_some() {
            return None;
        }
        values[slot] = Some(value);
    }
    Some(values)
}

/// `name=value` pairs in `names`' order, empty values left out.
fn joined(names: &[&str], values: Vec<Option<String>>) -> String {
    let kept: Vec<String> = names
        .iter()
        .zip(values)
        .filter_map(|(name, value)| {
            value
                .filter(|v| !v.is_empty())
                .map(|v| format!("{name}={v}"))
        })
        .collect();
    kept.join("&")
}

/// The list page's query in one spelling: its known parameters sorted by name, empty ones
/// left out (the page reads a missing parameter as empty). `None` (rendered, not kept)
/// when [`query_values`] refuses it.
fn list_key(query: &str) -> Option<String> {
    let values = query_values(query, &LIST_PARAMS)?;
    Some(joined(
        &LIST_PARAMS,
        values.into_iter().map(|v| v.map(str::to_owned)).collect(),
    ))
}

/// The parameters of the reads of a story's nodes by name: `/tree` takes the first three,
/// `/outline` `limit` and `offset`, `/view` `node`.
const NODE_PAGE_PARAMS: [&str; 4] = ["cursor", "limit", "offset", "node"];

/// A node read's query in one spelling: sorted, empty ones left out, the cursor and the
/// node in their canonical form, `limit` and `offset` as up to 8 ASCII digits. Anything else (a
/// malformed value, an unknown parameter) is answered but never kept: nothing is cached
/// under a key the client spelled.
fn node_page_key(query: &str, names: &[&str]) -> Option<String> {
    let values = query_values(query, names)?;
    let mut canonical = Vec::with_capacity(names.len());
    for (name, value) in names.iter().zip(values) {
        canonical.push(match (*name, value.filter(|v| !v.is_empty())) {
            (_, None) => None,
            ("cursor" | "node", Some(c)) => Some(canonical_id(c)?.as_str().to_owned()),
            (_, Some(n)) if n.len() <= 8 && n.bytes().all(|b| b.is_ascii_digit()) => {
                Some(n.to_owned())
            }
            _ => return None,
        });
    }
    Some(joined(names, canonical))
}

/// Whether a request is personal: it comes from a signed-in writer or an operator, so
/// what it renders may hold what only they may see. For personal requests, JSON reads are
/// cached as for anyone (a handler marks an answer about a private story `private,
/// no-store`, which the cache never keeps, and its whole body is there before it is kept);
/// pages are answered from the cache (what it holds is the same for everyone) but never
/// fill it, because a page streams out before all of its data is known; lists, which
/// include the caller's own stories, are rendered for them.
pub fn is_personal(headers: &HeaderMap, admin: &AdminSessions) -> bool {
    let has_cookie = |name: &str| cookie_in(headers, name).is_some();
    has_cookie(account_cookie_name(true))
        || has_cookie(account_cookie_name(false))
        || headers.contains_key(header::AUTHORIZATION)
        || owner_in(headers).is_some_and(|o| admin.contains(o.as_str()))
}

/// What a personal request may do with `decision` (see [`is_personal`]).
fn personal(decision: CacheDecision<Policy>, uri: &Uri) -> CacheDecision<Policy> {
    let public_list = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "scope=public"));
    match decision {
        CacheDecision::Store { .. } if uri.path() == "/stories" => CacheDecision::Pass,
        CacheDecision::Store { .. } if uri.path() == "/api/stories" && !public_list => {
            CacheDecision::NoStore
        }
        store @ CacheDecision::Store { .. } if uri.path().starts_with("/api/") => store,
        CacheDecision::Store { key, .. } => CacheDecision::Serve {
            key,
            on_success: None,
        },
        other => other,
    }
}

/// The response cache: up to 64 MiB of bodies in L2, 8 MiB hot in L1. A body's weight is
/// its plain size; its compressed copies (made on demand, one per encoding) add at most
/// about half of that again on text.
/// Every answer a client gets is also offered to `reads`, which counts story reads (see
/// `library::reads::story_read`): the decision what to keep knows nothing of counting.
pub fn response_cache(
    reads: Arc<ReadCounter>,
    pages: bool,
    admin: Arc<AdminSessions>,
) -> ResponseCache<Policy> {
    let cache = TieredCache::builder()
        .l1_capacity(Capacity::Bytes(8 << 20))
        .l2_capacity(Capacity::Bytes(64 << 20))
        .weigher(|key: &String, value: &CachedResponse| key.len() as u32 + value.weight())
        .build();
    ResponseCache::new(cache, 4 << 20, move |req: &Request| {
        let (m, u) = (req.method(), req.uri());
        let mut decision = decide(m, u, pages);
        if is_personal(req.headers(), &admin) {
            decision = personal(decision, u);
        }
        match story_read(m, u) {
            Some(id) => decision.then_on_success(reads.on_success(id)),
            None => decision,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(uri: &str) -> Option<String> {
        match decide(&Method::GET, &uri.parse().expect("uri"), true) {
            CacheDecision::Store { key, .. } => Some(key),
            _ => None,
        }
    }

    #[test]
    fn every_spelling_of_a_story_page_shares_one_key() {
        let id = "0190a6b2-7c1e-7aaa-8bbb-0123456789ab";
        let upper = id.to_uppercase();
        let want = format!("page /stories/{id}");
        assert_eq!(key_of(&format!("/stories/{id}")), Some(want.clone()));
        assert_eq!(key_of(&format!("/stories/{upper}")), Some(want));
        assert_eq!(
            key_of(&format!("/stories/{upper}/edit")),
            Some(format!("page /stories/{id}/edit"))
        );
        assert_eq!(
            key_of(&format!("/stories/{id}/nodes/{upper}")),
            Some(format!("page /stories/{id}/nodes/{id}"))
        );
        assert_eq!(key_of("/stories/not-an-id"), None);
        assert_eq!(key_of(&format!("/stories/{id}/other")), None);
        assert_eq!(key_of(&format!("/stories/{id}?x=1")), None);
    }

    #[test]
    fn node_reads_are_keyed_by_canonical_ids_and_their_known_parameters_only() {
        let id = "0190a6b2-7c1e-7aaa-8bbb-0123456789ab";
        let upper = id.to_uppercase();
        let api = |s: &str| Some(format!("GET /api/stories/{id}{s}"));
        assert_eq!(key_of(&format!("/api/stories/{upper}")), api(""));
        assert_eq!(key_of(&format!("/api/stories/{id}?x=1")), None);
        assert_eq!(key_of(&format!("/api/stories/{upper}/view")), api("/view"));
        assert_eq!(
            key_of(&format!("/api/stories/{id}/view?node={upper}")),
            api(&format!("/view?node={id}"))
        );
        assert_eq!(key_of(&format!("/api/stories/{id}/view?node=nope")), None);
        assert_eq!(key_of(&format!("/api/stories/{id}/view?x=1")), None);
        assert_eq!(key_of(&format!("/api/stories/{id}/view/{id}")), None);
        // Pages of the tree: one key per page whatever the order or spelling, and the
        // whole tree's key is never a page's (a page was once answered from it).
        assert_eq!(key_of(&format!("/api/stories/{id}/tree")), api("/tree"));
        assert_eq!(
            key_of(&format!("/api/stories/{id}/tree?limit=")),
            api("/tree")
        );
        let page = api(&format!("/tree?cursor={id}&limit=2"));
        assert_eq!(
            key_of(&format!("/api/stories/{id}/tree?limit=2&cursor={upper}")),
            page
        );
        assert_eq!(
            key_of(&format!("/api/stories/{id}/tree?cursor={id}&limit=2")),
            page
        );
        assert_ne!(
            key_of(&format!("/api/stories/{id}/tree?limit=1")),
            key_of(&format!("/api/stories/{id}/tree?limit=2"))
        );
        for odd in [
            "limit=x",
            "limit=-1",
            "limit=123456789",
            "cursor=nope",
            "utm=1",
            "limit=1&limit=2",
        ] {
            assert_eq!(
                key_of(&format!("/api/stories/{id}/tree?{odd}")),
                None,
                "{odd}"
            );
        }
        assert_eq!(
            key_of(&format!("/api/stories/{id}/outline?offset=500&limit=500")),
            api("/outline?limit=500&offset=500")
        );
        assert_eq!(
            key_of(&format!("/api/stories/{id}/outline?cursor={id}")),
            None
        );
        assert_eq!(key_of(&format!("/api/stories/{id}/other")), None);
    }

    #[test]
    fn list_pages_are_keyed_by_their_known_parameters_only() {
        assert_eq!(key_of("/stories"), Some("page /stories?".into()));
        assert_eq!(key_of("/stories?q="), Some("page /stories?".into()));
        assert_eq!(
            key_of("/stories?status=draft&q=fox"),
            key_of("/stories?q=fox&status=draft")
        );
        assert_ne!(key_of("/stories?q=a+b"), key_of("/stories?q=a%20b"));
        assert_eq!(key_of("/stories?utm=1"), None);
        assert_eq!(key_of("/stories?q=a&q=b"), None);
        assert_eq!(key_of(&format!("/stories?q={}", "x".repeat(600))), None);
    }

    #[test]
    fn private_and_live_pages_are_never_kept() {
        let tasks = decide(&Method::GET, &"/tasks".parse().expect("uri"), true);
        assert!(matches!(tasks, CacheDecision::NoStore));
        let figures = decide(&Method::GET, &"/performance".parse().expect("uri"), true);
        assert!(matches!(figures, CacheDecision::NoStore));
        assert_eq!(key_of("/"), Some("page /".into()));
        assert_eq!(key_of("/?x=1"), None);
        assert_eq!(key_of("/nowhere"), None);
    }
}
