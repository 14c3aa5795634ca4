//! The web console: static files compiled into the binary (no build step, no CDN), served at
//! `/` and `/console/*`. The pages talk to the admin API with the session cookie
//! (`session.rs`). Set `SWITCHYARD_CONSOLE_DIR` to a checkout's `crates/gateway/console`
//! to serve the files from disk while working on them.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::state::AppState;

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/console/", $path)) as &[u8])),*]
    };
}

/// Every file of `console/` (a test checks none is missing).
static ASSETS: &[(&str, &[u8])] = assets![
    "index.html",
    "style.css",
    "lib.js",
    "app.js",
    "chart.js",
    "pages/dashboard.js",
    "pages/channels.js",
    "pages/keys.js",
    "pages/users.js",
    "pages/prices.js",
    "pages/logs.js",
    "pages/tasks.js",
    "pages/playground.js",
    "pages/docs.js",
];

/// What the console may load: only itself, plus result media (videos and images live on
/// providers' hosts) and data/blob URLs.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob: http: https:; \
    media-src 'self' blob: http: https:; style-src 'self' 'unsafe-inline'; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/console/{*path}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers)
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some((body, etag)) = lookup(path) else {
        return (StatusCode::NOT_FOUND, "no such console file").into_response();
    };
    let mut resp = if headers
        .get(IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        body.into_response()
    };
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    // Revalidate every time: cheap (304) and a new binary's files are never stale.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(ETAG, v);
    }
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    resp
}

/// The file and its ETag, from disk in development, else from the binary.
fn lookup(path: &str) -> Option<(Vec<u8>, String)> {
    if let Some(dir) = std::env::var_os("SWITCHYARD_CONSOLE_DIR") {
        if path.split('/').any(|seg| seg == ".." || seg.is_empty()) {
            return None;
        }
        let body = std::fs::read(std::path::Path::new(&dir).join(path)).ok()?;
        let etag = etag_of(&body);
        return Some((body, etag));
    }
    static ETAGS: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    let etags = ETAGS.get_or_init(|| ASSETS.iter().map(|(p, b)| (*p, etag_of(b))).collect());
    let (p, body) = ASSETS.iter().find(|(p, _)| *p == path)?;
    Some((body.to_vec(), etags[p].clone()))
}

fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", &hex::encode(Sha256::digest(body))[..16])
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::ASSETS;

    #[test]
    fn every_console_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
        let mut on_disk = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    on_disk.push(
                        p.strip_prefix(&root)
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        for f in &on_disk {
            assert!(
                ASSETS.iter().any(|(p, _)| p == f),
                "console/{f} is not listed in console.rs ASSETS"
            );
        }
        assert_eq!(
            on_disk.len(),
            ASSETS.len(),
            "ASSETS lists a file that is not on disk"
        );
    }
}
