//! GraphiQL on `GET /graphql`, self-contained: the page, the script that starts it and
//! GraphiQL's and React's browser files (`api/assets/graphiql/`, whose `README.txt` names each
//! file's package, version, source and hash) are compiled into the binary and served from
//! `/graphiql/<file>`, so GraphiQL needs no network beyond this server and its content security
//! policy allows only `'self'`.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// GraphiQL's page: stylesheets and scripts from `/graphiql/`, no inline script or style.
const PAGE: &str = include_str!("../assets/graphiql/graphiql.html");

/// The content security policy of GraphiQL's page: scripts, stylesheets and requests (POST and
/// the subscriptions' websocket) only to this server; fonts and a few images are `data:` URLs in
/// GraphiQL's stylesheet. Styles need no `'unsafe-inline'`: GraphiQL styles elements through
/// the DOM (not subject to the policy) and its one `<style>` element, a scroll lock while a
/// dialog is open, is refused without harm to the dialog.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                              font-src data:; img-src 'self' data:; connect-src 'self'; \
                              frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// How long a browser may keep a file whose name carries its version: it never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// How a browser may keep the ledger's own files, whose names carry no version: ask each time.
const REVALIDATE: &str = "no-cache";

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// A file served under `/graphiql/`.
pub(crate) struct Asset {
    pub(crate) name: &'static str,
    pub(crate) content_type: &'static str,
    cache: &'static str,
    body: &'static [u8],
}

/// Every file GraphiQL's page loads, by the name it is served under.
pub(crate) const ASSETS: &[Asset] = &[
    Asset {
        name: "react-18.3.1.production.min.js",
        content_type: JAVASCRIPT,
        cache: IMMUTABLE,
        body: include_bytes!("../assets/graphiql/react-18.3.1.production.min.js"),
    },
    Asset {
        name: "react-dom-18.3.1.production.min.js",
        content_type: JAVASCRIPT,
        cache: IMMUTABLE,
        body: include_bytes!("../assets/graphiql/react-dom-18.3.1.production.min.js"),
    },
    Asset {
        name: "graphiql-4.1.2.min.js",
        content_type: JAVASCRIPT,
        cache: IMMUTABLE,
        body: include_bytes!("../assets/graphiql/graphiql-4.1.2.min.js"),
    },
    Asset {
        name: "graphiql-4.1.2.min.css",
        content_type: CSS,
        cache: IMMUTABLE,
        body: include_bytes!("../assets/graphiql/graphiql-4.1.2.min.css"),
    },
    Asset {
        name: "graphiql-start.js",
        content_type: JAVASCRIPT,
        cache: REVALIDATE,
        body: include_bytes!("../assets/graphiql/graphiql-start.js"),
    },
    Asset {
        name: "graphiql-page.css",
        content_type: CSS,
        cache: REVALIDATE,
        body: include_bytes!("../assets/graphiql/graphiql-page.css"),
    },
];

/// GraphiQL's page under its content security policy.
pub(crate) fn page() -> Response {
    let mut response = Html(PAGE).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    response
}

/// `GET /graphiql/{file}`: one of [`ASSETS`], or 404.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.name == file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, asset.cache),
            ],
            asset.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `src`/`href` values of `attribute` in the page.
    fn references<'a>(attribute: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        PAGE.split(attribute).skip(1).map(|rest| {
            let end = rest.find('"').expect("a closing quote");
            &rest[..end]
        })
    }

    /// The page loads everything from `/graphiql/` files that are served, and has nothing inline
    /// that a policy of `'self'` would refuse: if it did, GraphiQL would not start.
    #[test]
    fn the_page_loads_only_served_files_and_has_nothing_inline() {
        let scripts: Vec<&str> = references("<script src=\"").collect();
        assert_eq!(
            PAGE.matches("<script").count(),
            scripts.len(),
            "every script has a src (no inline script)"
        );
        assert!(!PAGE.contains("<style"), "no inline stylesheet");
        assert!(!PAGE.contains(" style="), "no style attribute");
        assert!(!PAGE.contains(" on"), "no event handler attribute");
        let stylesheets: Vec<&str> = references("rel=\"stylesheet\" href=\"").collect();
        assert_eq!(scripts.len(), 4, "{scripts:?}");
        assert_eq!(stylesheets.len(), 2, "{stylesheets:?}");
        for url in scripts.iter().chain(&stylesheets) {
            let name = url
                .strip_prefix("/graphiql/")
                .unwrap_or_else(|| panic!("{url} is not one of this server's files"));
            let asset = ASSETS
                .iter()
                .find(|a| a.name == name)
                .unwrap_or_else(|| panic!("{url} is not served"));
            let expected = if scripts.contains(url) {
                JAVASCRIPT
            } else {
                CSS
            };
            assert_eq!(asset.content_type, expected, "{url}");
        }
        // React first, then GraphiQL (which needs it), then the script that starts it.
        assert!(scripts[3].ends_with("graphiql-start.js"), "{scripts:?}");
    }

    #[test]
    fn the_policy_allows_only_this_server() {
        let directive = |name: &str| {
            CSP.split(';')
                .map(str::trim)
                .find(|d| d.split_whitespace().next() == Some(name))
                .unwrap_or_else(|| panic!("no {name} in {CSP}"))
        };
        assert_eq!(directive("script-src"), "script-src 'self'");
        assert_eq!(directive("style-src"), "style-src 'self'");
        assert_eq!(directive("connect-src"), "connect-src 'self'");
        assert_eq!(directive("default-src"), "default-src 'none'");
        assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'");
        assert!(!CSP.contains("http"), "{CSP}");
        assert!(!CSP.contains("unsafe"), "{CSP}");
    }

    /// The start script points GraphiQL at this server's `/graphql`, for queries and for
    /// subscriptions.
    #[test]
    fn the_start_script_uses_graphql_for_queries_and_subscriptions() {
        let start = ASSETS
            .iter()
            .find(|a| a.name == "graphiql-start.js")
            .expect("the start script");
        let text = std::str::from_utf8(start.body).expect("UTF-8");
        assert!(text.contains("GraphiQL.createFetcher"));
        assert_eq!(text.matches("new URL(\"/graphql\"").count(), 2, "{text}");
        assert!(text.contains("subscriptionUrl"));
    }
}
