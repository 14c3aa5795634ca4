//! OpenAI Videos API (Sora 2, `/v1/videos`): video objects queued →
//! in_progress (progress 0–100) → completed/failed, content downloads, list
//! and delete, with OpenAI's auth and error envelope.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};

use super::{either, poll_faults, prepare, Kind, NewTask, Phase, Prepared, Task};
use crate::journal::form_to_json;
use crate::openai::{self, bad_request};
use crate::{assets, Sim};

const DEFAULT_MODEL: &str = "sora-2";
const SECONDS: &[&str] = &["4", "8", "12"];
const SIZES: &[&str] = &["720x1280", "1280x720", "1024x1792", "1792x1024"];
/// How long downloads stay available after completion.
const EXPIRES_AFTER_S: u64 = 3600;
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/v1/videos", get(list).post(create))
        .route("/v1/videos/{id}", get(fetch).delete(delete))
        .route("/v1/videos/{id}/content", get(content))
        .route_layer(middleware::from_fn(openai::require_key))
}

/// Status faults render as on the other OpenAI routes.
fn render(status: StatusCode, message: &str) -> Response {
    match status {
        StatusCode::BAD_REQUEST => bad_request(message, None),
        other => openai::fault_error(other.as_u16()),
    }
}

fn invalid_value(param: &str, value: &Value, allowed: &[&str]) -> Response {
    let allowed: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    // A number where a string is expected shows bare, which is the hint.
    let value = match value {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    };
    let message = format!(
        "Invalid value: {value}. Supported values are: {}.",
        allowed.join(", ")
    );
    let status = StatusCode::BAD_REQUEST;
    let kind = "invalid_request_error";
    openai::error(status, &message, kind, Some(param), Some("invalid_value"))
}

fn not_found(id: &str) -> Response {
    let message = format!("Video with id '{id}' not found.");
    let kind = "invalid_request_error";
    openai::error(StatusCode::NOT_FOUND, &message, kind, None, None)
}

async fn create(State(sim): State<Sim>, headers: HeaderMap, req: Request) -> Response {
    either(submit(&sim, &headers, req).await)
}

async fn submit(sim: &Sim, headers: &HeaderMap, req: Request) -> Result<Response, Response> {
    let body = read_body(req).await?;
    let raw_model = body.get("model").and_then(Value::as_str).unwrap_or("");
    let raw_model = raw_model.to_owned();
    let req = prepare(sim, headers, body, &raw_model, render).await?;
    let (prompt, seconds, size) = validate(&req)?;
    let tasks = sim.tasks();
    let id = format!("video_{}", tasks.hex(32));
    let mut new = NewTask::new(id, Kind::Sora, &req, prompt);
    if new.model.is_empty() {
        new.model = DEFAULT_MODEL.to_owned();
    }
    new.request = json!({"seconds": seconds, "size": size});
    let task = tasks.submit(new);
    Ok(Json(video(&task)).into_response())
}

/// JSON, or a multipart form (how `input_reference` is uploaded) read as
/// an object of its fields.
async fn read_body(req: Request) -> Result<Value, Response> {
    let content_type = req.headers().get(header::CONTENT_TYPE);
    let content_type = content_type.and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        let broken = |_| bad_request("Malformed multipart body", None);
        let form = Multipart::from_request(req, &()).await.map_err(broken)?;
        return form_to_json(form).await.map_err(|e| bad_request(&e, None));
    }
    let bytes = Bytes::from_request(req, &()).await;
    let bytes = bytes.map_err(|_| bad_request("Could not read the request body", None))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(bad_request(
            "We could not parse the JSON body of your request.",
            None,
        )),
    }
}

/// Prompt, seconds and size; `seconds` is a string, as upstream.
fn validate(req: &Prepared) -> Result<(&str, &str, &str), Response> {
    let prompt = req.str("prompt").filter(|p| !p.is_empty());
    let prompt = prompt.ok_or_else(|| {
        let message = "Missing required parameter: 'prompt'.";
        let kind = "invalid_request_error";
        let code = Some("missing_required_parameter");
        openai::error(StatusCode::BAD_REQUEST, message, kind, Some("prompt"), code)
    })?;
    let seconds = one_of(req, "seconds", SECONDS)?;
    let size = one_of(req, "size", SIZES)?;
    Ok((prompt, seconds, size))
}

/// The value of `key` if it is one of `allowed`, else the first allowed.
fn one_of<'a>(req: &'a Prepared, key: &str, allowed: &[&'a str]) -> Result<&'a str, Response> {
    match req.body.get(key) {
        None | Some(Value::Null) => Ok(allowed[0]),
        Some(Value::String(v)) if allowed.contains(&v.as_str()) => Ok(v.as_str()),
        Some(other) => Err(invalid_value(key, other, allowed)),
    }
}

/// The video object, exactly as the Videos API returns it.
fn video(task: &Task) -> Value {
    let finished_s = task.finished_ms() / 1000;
    let (status, progress, completed_at, expires_at, error) = match task.phase() {
        Phase::Queued => ("queued", 0, None, None, None),
        Phase::Running(done) => ("in_progress", (done * 100.0) as u64, None, None, None),
        Phase::Succeeded => {
            let expires = finished_s + EXPIRES_AFTER_S;
            ("completed", 100, Some(finished_s), Some(expires), None)
        }
        Phase::Failed | Phase::Cancelled => {
            let error = json!({"code": "video_generation_failed", "message": task.failure});
            ("failed", 0, Some(finished_s), None, Some(error))
        }
    };
    json!({
        "id": task.id,
        "object": "video",
        "model": task.model,
        "status": status,
        "progress": progress,
        "created_at": task.created_ms / 1000,
        "completed_at": completed_at,
        "expires_at": expires_at,
        "prompt": task.prompt,
        "seconds": task.request["seconds"],
        "size": task.request["size"],
        "remixed_from_video_id": null,
        "error": error,
    })
}

async fn fetch(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(resp) = poll_faults(&sim, &headers, render).await {
        return resp;
    }
    match sim.tasks().get(Kind::Sora, &id) {
        Some(task) => Json(video(&task)).into_response(),
        None => not_found(&id),
    }
}

async fn delete(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(resp) = poll_faults(&sim, &headers, render).await {
        return resp;
    }
    if !sim.tasks().delete(Kind::Sora, &id) {
        return not_found(&id);
    }
    Json(json!({"id": id, "object": "video.deleted", "deleted": true})).into_response()
}

/// `GET /v1/videos/{id}/content?variant=video|thumbnail|spritesheet`: the
/// bytes themselves, with byte ranges, once the video has completed.
async fn content(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(resp) = poll_faults(&sim, &headers, render).await {
        return resp;
    }
    let (bytes, kind) = match query.get("variant").map(String::as_str) {
        None | Some("video") => (assets::VIDEO_MP4, "video/mp4"),
        // The sim has one still; a spritesheet is a JPEG too.
        Some("thumbnail" | "spritesheet") => (assets::THUMBNAIL_JPG, "image/jpeg"),
        Some(other) => {
            let allowed = ["video", "thumbnail", "spritesheet"];
            return invalid_value("variant", &json!(other), &allowed);
        }
    };
    match sim.tasks().get(Kind::Sora, &id) {
        Some(task) if task.phase() == Phase::Succeeded => assets::serve(&headers, bytes, kind),
        Some(_) => {
            let message = format!("Video '{id}' is not completed; its content is not available.");
            openai::error(
                StatusCode::NOT_FOUND,
                &message,
                "invalid_request_error",
                None,
                None,
            )
        }
        None => not_found(&id),
    }
}

/// `GET /v1/videos?limit&after&order`: a cursor page, newest first by default.
async fn list(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    either(page(&sim, &headers, &query).await)
}

async fn page(
    sim: &Sim,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Response, Response> {
    poll_faults(sim, headers, render).await?;
    let limit = match query.get("limit").map(|l| l.parse::<usize>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => return Err(bad_request("limit must be from 1 to 100", Some("limit"))),
    };
    let mut all = sim.tasks().list(Kind::Sora);
    match query.get("order").map(String::as_str) {
        None | Some("desc") => all.reverse(),
        Some("asc") => {}
        Some(other) => return Err(invalid_value("order", &json!(other), &["asc", "desc"])),
    }
    // An unknown cursor gives an empty page rather than starting over.
    let start = match query.get("after") {
        None => 0,
        Some(after) => all
            .iter()
            .position(|t| &t.id == after)
            .map_or(all.len(), |i| i + 1),
    };
    let rest = &all[start.min(all.len())..];
    let data: Vec<Value> = rest.iter().take(limit).map(video).collect();
    let first_id = data.first().map(|v| v["id"].clone());
    let last_id = data.last().map(|v| v["id"].clone());
    Ok(Json(json!({
        "object": "list",
        "data": data,
        "first_id": first_id,
        "last_id": last_id,
        "has_more": rest.len() > limit,
    }))
    .into_response())
}
