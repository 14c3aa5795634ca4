//! What the gateway sent: the latest requests' headers and bodies, so tests can
//! check that a field reached the upstream in its native shape (a reference
//! image as Runway's `promptImage`, a signed JWT on Kling, …).

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Map, Value};

/// Requests kept; enough for any test, bounded for long demo runs.
const MAX_ENTRIES: usize = 1024;
/// Body bytes kept across all entries; older bodies are dropped first, since
/// one 60 MB audio upload must not pin memory for the rest of the run.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

struct Entry {
    path: String,
    headers: HeaderMap,
    body: Option<Stored>,
}

pub enum Stored {
    /// Parsed lazily: most bodies are never asked for.
    Raw(Bytes),
    /// A multipart form, already rendered as JSON (files as summaries).
    Form(Value),
}

impl Stored {
    fn size(&self) -> usize {
        match self {
            Stored::Raw(bytes) => bytes.len(),
            Stored::Form(_) => 0,
        }
    }

    fn json(&self) -> Option<Value> {
        match self {
            Stored::Raw(bytes) => serde_json::from_slice(bytes).ok(),
            Stored::Form(value) => Some(value.clone()),
        }
    }
}

#[derive(Default)]
pub struct Journal {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: VecDeque<Entry>,
    body_bytes: usize,
}

impl Journal {
    /// Note one request; the body is kept only when it is non-empty.
    pub fn record(&self, path: &str, headers: &HeaderMap, body: Option<Stored>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.body_bytes += body.as_ref().map_or(0, Stored::size);
        inner.entries.push_back(Entry {
            path: path.to_owned(),
            headers: headers.clone(),
            body,
        });
        if inner.entries.len() > MAX_ENTRIES {
            if let Some(old) = inner.entries.pop_front() {
                inner.body_bytes -= old.body.as_ref().map_or(0, Stored::size);
            }
        }
        inner.trim_bodies();
    }

    /// The most recent JSON (or multipart) body on a path under `prefix`.
    pub fn last_body(&self, prefix: &str) -> Option<Value> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let entries = inner.entries.iter().rev();
        entries
            .filter(|e| e.path.starts_with(prefix))
            .find_map(|e| e.body.as_ref().and_then(Stored::json))
    }

    /// `header` of the most recent request on a path under `prefix`.
    pub fn last_header(&self, prefix: &str, header: &str) -> Option<String> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let entry = inner
            .entries
            .iter()
            .rev()
            .find(|e| e.path.starts_with(prefix))?;
        let value = entry.headers.get(header)?.to_str().ok()?;
        Some(value.to_owned())
    }
}

impl Inner {
    fn trim_bodies(&mut self) {
        for entry in self.entries.iter_mut() {
            if self.body_bytes <= MAX_BODY_BYTES {
                break;
            }
            if let Some(body) = entry.body.take() {
                self.body_bytes -= body.size();
            }
        }
    }
}

/// Buffer a request's body so it can be both journaled and handled. Returns
/// the request rebuilt around the same bytes, and what to keep of it.
pub async fn capture(req: Request, limit: usize) -> Result<(Request, Option<Stored>), Response> {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, limit).await else {
        // What axum's own body extractors answer over the limit.
        let too_large = (StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded");
        return Err(too_large.into_response());
    };
    let stored = match content_type(&parts.headers) {
        _ if bytes.is_empty() => None,
        Some(ct) if ct.starts_with("multipart/form-data") => {
            form_summary(ct, bytes.clone()).await.map(Stored::Form)
        }
        _ => Some(Stored::Raw(bytes.clone())),
    };
    Ok((Request::from_parts(parts, Body::from(bytes)), stored))
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::CONTENT_TYPE)?.to_str().ok()
}

/// Re-read a buffered multipart body as JSON.
async fn form_summary(content_type: &str, bytes: Bytes) -> Option<Value> {
    let req = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes))
        .ok()?;
    let form = Multipart::from_request(req, &()).await.ok()?;
    form_to_json(form).await.ok()
}

/// A multipart form as a JSON object: text fields as strings, files as
/// `{filename, content_type, size}` so tests can see an upload arrived.
pub async fn form_to_json(mut form: Multipart) -> Result<Value, String> {
    let mut fields = Map::new();
    while let Some(field) = form.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or("").to_owned();
        let value = match field.file_name().map(str::to_owned) {
            Some(filename) => {
                let kind = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(|e| e.body_text())?;
                json!({"filename": filename, "content_type": kind, "size": bytes.len()})
            }
            None => Value::String(field.text().await.map_err(|e| e.body_text())?),
        };
        fields.insert(name, value);
    }
    Ok(Value::Object(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Option<Stored> {
        Some(Stored::Raw(Bytes::from(s.to_owned())))
    }

    #[test]
    fn newest_matching_json_body_wins() {
        let j = Journal::default();
        let h = HeaderMap::new();
        j.record("/v1/tasks", &h, raw(r#"{"n":1}"#));
        j.record("/v1/tasks/x", &h, raw(r#"{"n":2}"#));
        j.record("/v1/tasks/y", &h, None);
        j.record("/v1/other", &h, raw(r#"{"n":3}"#));
        j.record("/v1/tasks/z", &h, raw("not json"));
        assert_eq!(j.last_body("/v1/tasks"), Some(json!({"n": 2})));
        assert_eq!(j.last_body("/v1/"), Some(json!({"n": 3})));
        assert_eq!(j.last_body("/nope"), None);
    }

    #[test]
    fn last_header_is_from_the_newest_request() {
        let j = Journal::default();
        let mut h = HeaderMap::new();
        h.insert("x-runway-version", "2024-11-06".parse().unwrap());
        j.record("/v1/tasks/a", &h, None);
        assert_eq!(
            j.last_header("/v1/tasks", "X-Runway-Version").as_deref(),
            Some("2024-11-06")
        );
        j.record("/v1/tasks/b", &HeaderMap::new(), None);
        assert_eq!(j.last_header("/v1/tasks", "x-runway-version"), None);
    }

    #[test]
    fn bodies_are_dropped_oldest_first_over_budget() {
        let j = Journal::default();
        let h = HeaderMap::new();
        let big = Bytes::from(vec![b' '; MAX_BODY_BYTES / 2 + 1]);
        j.record("/a", &h, Some(Stored::Raw(big.clone())));
        j.record("/b", &h, Some(Stored::Raw(big)));
        let inner = j.inner.lock().unwrap();
        assert!(inner.entries[0].body.is_none());
        assert!(inner.entries[1].body.is_some());
        assert!(inner.body_bytes <= MAX_BODY_BYTES);
    }
}
