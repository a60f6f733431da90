//! Refusing cross-origin browser writes, as Go's `http.CrossOriginProtection` does: a
//! request with an unsafe method (POST, PUT, PATCH, DELETE) is refused when the browser says
//! it comes from another site (`Sec-Fetch-Site: cross-site` or `same-site`), or, from
//! browsers that do not send that header, when its `Origin` is not the request's own host
//! or a configured one. Requests with neither header come from non-browser clients (curl,
//! scripts), which carry no one's cookies by accident, and pass.
//!
//! Written here rather than taken from a crate: the rule is these twenty lines, and the
//! crates found (`tower-http` has none; CSRF-token crates need a token in every form and
//! server function call) do something else.

use axum::http::{HeaderMap, Method, header};

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// `Sec-Fetch-Site` named another site.
    FetchSite(String),
    /// `Origin` named another origin.
    Origin(String),
}

impl Refused {
    /// A sentence for the client.
    pub fn message(&self) -> String {
        match self {
            Self::FetchSite(site) => format!(
                "cross-site write refused: the browser sent Sec-Fetch-Site: {site}; write from this site's own pages"
            ),
            Self::Origin(origin) => format!(
                "cross-origin write refused: Origin {origin} is not this server's; write from this site's own pages"
            ),
        }
    }
}

fn unsafe_method(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Whether `origin` (as sent) is one of `allowed` (lowercase, without a trailing slash).
fn listed(origin: &str, allowed: &[String]) -> bool {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    allowed.contains(&origin)
}

/// Checks one request; `allowed` are origins besides the request's own host that may
/// write (lowercase `scheme://host[:port]`).
pub fn check(method: &Method, headers: &HeaderMap, allowed: &[String]) -> Result<(), Refused> {
    if !unsafe_method(method) {
        return Ok(());
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return match site {
            "same-origin" | "none" => Ok(()),
            _ if origin.is_some_and(|o| listed(o, allowed)) => Ok(()),
            other => Err(Refused::FetchSite(other.chars().take(32).collect())),
        };
    }
    let Some(origin) = origin else {
        return Ok(());
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let own = origin
        .split_once("://")
        .is_some_and(|(_, rest)| host.is_some_and(|h| rest.eq_ignore_ascii_case(h)));
    if own || listed(origin, allowed) {
        Ok(())
    } else {
        Err(Refused::Origin(origin.chars().take(100).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("ascii"));
        }
        h
    }

    #[test]
    fn browsers_from_other_sites_are_refused_and_other_clients_pass() {
        let allowed = vec!["https://writers.example".to_owned()];
        let post = Method::POST;
        let host = ("host", "aion.test:8080");
        assert!(check(&post, &headers(&[host]), &allowed).is_ok(), "curl");
        assert!(
            check(
                &Method::GET,
                &headers(&[host, ("sec-fetch-site", "cross-site")]),
                &allowed
            )
            .is_ok()
        );
        assert!(
            check(
                &post,
                &headers(&[host, ("sec-fetch-site", "same-origin")]),
                &allowed
            )
            .is_ok()
        );
        assert_eq!(
            check(
                &post,
                &headers(&[host, ("sec-fetch-site", "cross-site")]),
                &allowed
            ),
            Err(Refused::FetchSite("cross-site".into()))
        );
        assert!(
            check(
                &Method::DELETE,
                &headers(&[host, ("sec-fetch-site", "same-site")]),
                &allowed
            )
            .is_err()
        );
        assert!(
            check(
                &post,
                &headers(&[host, ("origin", "http://aion.test:8080")]),
                &allowed
            )
            .is_ok()
        );
        assert!(
            check(
                &post,
                &headers(&[host, ("origin", "http://evil.test")]),
                &allowed
            )
            .is_err()
        );
        assert!(
            check(
                &post,
                &headers(&[host, ("origin", "http://aion.test:9090")]),
                &allowed
            )
            .is_err()
        );
        assert!(
            check(
                &post,
                &headers(&[host, ("origin", "https://writers.example")]),
                &allowed
            )
            .is_ok()
        );
        assert!(
            check(
                &post,
                &headers(&[
                    host,
                    ("origin", "https://writers.example"),
                    ("sec-fetch-site", "cross-site")
                ]),
                &allowed
            )
            .is_ok()
        );
        assert!(check(&post, &headers(&[host, ("origin", "null")]), &allowed).is_err());
    }
}
