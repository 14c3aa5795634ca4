//! The legacy relay "Luma format" (`/luma/generations`), served by relay
//! sites in front of Luma's web API: `user_prompt` in, states pending →
//! processing → completed/failed, and media objects that stay null until the
//! video exists.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};

use super::luma::error;
use super::{check_key, either, iso8601, parse_json, poll_faults, prepare, Kind, NewTask, Phase};
use super::{Prepared, Task};
use crate::assets::{VIDEO_HEIGHT, VIDEO_WIDTH};
use crate::Sim;

const DEFAULT_MODEL: &str = "ray-v2";
/// Every task belongs to the one simulated account.
const USER_ID: &str = "5e1b1a5e-0000-4000-8000-00000000c0de";

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/luma/generations", post(create))
        .route("/luma/generations/{id}", get(fetch))
        .route_layer(middleware::from_fn(auth))
}

fn bad_request(detail: &str) -> Response {
    error(StatusCode::BAD_REQUEST, detail)
}

async fn auth(req: Request, next: Next) -> Response {
    match check_key(req.headers(), error) {
        Ok(()) => next.run(req).await,
        Err(resp) => resp,
    }
}

async fn create(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    either(submit(&sim, &headers, &body).await)
}

async fn submit(sim: &Sim, headers: &HeaderMap, body: &[u8]) -> Result<Response, Response> {
    let body = parse_json(body, error)?;
    let raw_model = body.get("model_name").and_then(Value::as_str).unwrap_or("");
    let raw_model = raw_model.to_owned();
    let req = prepare(sim, headers, body, &raw_model, error).await?;
    let prompt = validate(&req)?;
    let tasks = sim.tasks();
    let mut new = NewTask::new(tasks.uuid(), Kind::LumaLegacy, &req, prompt);
    if new.model.is_empty() {
        new.model = DEFAULT_MODEL.to_owned();
    }
    let task = tasks.submit(new);
    Ok(Json(generation(&task)).into_response())
}

/// The prompt, after checking the fields' types.
fn validate(req: &Prepared) -> Result<&str, Response> {
    let prompt = req
        .str("user_prompt")
        .ok_or_else(|| bad_request("user_prompt: a string is required"))?;
    for key in ["expand_prompt", "loop"] {
        if req.body.get(key).is_some_and(|v| !v.is_boolean()) {
            return Err(bad_request(&format!("{key}: must be a boolean")));
        }
    }
    let strings = [
        "aspect_ratio",
        "image_url",
        "image_end_url",
        "notify_hook",
        "resolution",
    ];
    for key in strings {
        if req.body.get(key).is_some_and(|v| !v.is_string()) {
            return Err(bad_request(&format!("{key}: must be a string")));
        }
    }
    Ok(prompt)
}

fn media(url: String) -> Value {
    json!({"url": url, "width": VIDEO_WIDTH, "height": VIDEO_HEIGHT})
}

/// The legacy object; exactly these fields, as relays return them.
fn generation(task: &Task) -> Value {
    let state = match task.phase() {
        Phase::Queued => "pending",
        Phase::Running(_) => "processing",
        Phase::Succeeded => "completed",
        Phase::Failed | Phase::Cancelled => "failed",
    };
    let done = state == "completed";
    let video_url = task.file_url("video.mp4");
    let video = done.then(|| {
        json!({
            "url": video_url,
            "width": VIDEO_WIDTH,
            "height": VIDEO_HEIGHT,
            "thumbnail": task.file_url("thumbnail.jpg"),
            "download_url": video_url,
        })
    });
    json!({
        "id": task.id,
        "prompt": task.prompt,
        "state": state,
        "queue_state": null,
        "created_at": iso8601(task.created_ms, 6),
        "batch_id": "",
        "user_id": USER_ID,
        "liked": null,
        "estimate_wait_seconds": null,
        "video": video,
        "video_raw": done.then(|| media(video_url.clone())),
        "thumbnail": done.then(|| media(task.file_url("thumbnail.jpg"))),
        "last_frame": done.then(|| media(task.file_url("last_frame.jpg"))),
    })
}

async fn fetch(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(resp) = poll_faults(&sim, &headers, error).await {
        return resp;
    }
    match sim.tasks().get(Kind::LumaLegacy, &id) {
        Some(task) => Json(generation(&task)).into_response(),
        None => error(StatusCode::NOT_FOUND, "Generation not found"),
    }
}
