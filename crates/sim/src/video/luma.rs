//! Luma Dream Machine, official API (`/dream-machine/v1`): Generation
//! objects, states queued → dreaming → completed/failed, errors `{detail}`.

use std::collections::HashMap;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};

use super::{check_key, either, iso8601, parse_json, poll_faults, prepare, Kind, NewTask, Phase};
use super::{Prepared, Task};
use crate::Sim;

const DEFAULT_MODEL: &str = "ray-2";
const ASPECT_RATIOS: &[&str] = &["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"];
const RESOLUTIONS: &[&str] = &["540p", "720p", "1080p", "4k"];
const DURATIONS: &[&str] = &["5s", "9s"];
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;

pub fn routes() -> Router<Sim> {
    let base = "/dream-machine/v1/generations";
    Router::new()
        .route(base, post(create).get(list))
        // The current spec and SDK create on `/generations/video`.
        .route(&format!("{base}/video"), post(create))
        .route(&format!("{base}/{{id}}"), get(fetch).delete(delete))
        .route_layer(middleware::from_fn(auth))
}

/// Luma's error body.
pub fn error(status: StatusCode, detail: &str) -> Response {
    (status, Json(json!({ "detail": detail }))).into_response()
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
    let raw_model = body.get("model").and_then(Value::as_str).unwrap_or("");
    let raw_model = raw_model.to_owned();
    let req = prepare(sim, headers, body, &raw_model, error).await?;
    let prompt = validate(&req)?;
    let tasks = sim.tasks();
    let mut new = NewTask::new(tasks.uuid(), Kind::Luma, &req, prompt);
    if new.model.is_empty() {
        new.model = DEFAULT_MODEL.to_owned();
    }
    new.request = echo(&req.body);
    let task = tasks.submit(new);
    Ok((StatusCode::CREATED, Json(generation(&task))).into_response())
}

/// The prompt, after checking the fields Luma would reject.
fn validate(req: &Prepared) -> Result<&str, Response> {
    let keyframes = req.body.get("keyframes");
    let prompt = match req.body.get("prompt") {
        Some(Value::String(p)) => p.as_str(),
        None | Some(Value::Null) if keyframes.is_some() => "",
        _ => return Err(bad_request("prompt: a string is required")),
    };
    one_of(req, "aspect_ratio", ASPECT_RATIOS)?;
    one_of(req, "resolution", RESOLUTIONS)?;
    one_of(req, "duration", DURATIONS)?;
    if req.body.get("loop").is_some_and(|l| !l.is_boolean()) {
        return Err(bad_request("loop: must be a boolean"));
    }
    if let Some(frames) = keyframes {
        check_keyframes(frames)?;
    }
    Ok(prompt)
}

fn one_of(req: &Prepared, key: &str, allowed: &[&str]) -> Result<(), Response> {
    match req.body.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(v)) if allowed.contains(&v.as_str()) => Ok(()),
        Some(_) => Err(bad_request(&format!(
            "{key}: must be one of {}",
            allowed.join(", ")
        ))),
    }
}

/// `frame0`/`frame1`, each an image URL or a previous generation.
fn check_keyframes(frames: &Value) -> Result<(), Response> {
    let frames = frames
        .as_object()
        .ok_or_else(|| bad_request("keyframes: must be an object"))?;
    for (name, frame) in frames {
        if name != "frame0" && name != "frame1" {
            return Err(bad_request(&format!("keyframes: unknown key {name}")));
        }
        let ok = match frame.get("type").and_then(Value::as_str) {
            Some("image") => frame.get("url").is_some_and(Value::is_string),
            Some("generation") => frame.get("id").is_some_and(Value::is_string),
            _ => false,
        };
        if !ok {
            let detail = format!(
                "keyframes.{name}: expected {{type: \"image\", url}} or {{type: \"generation\", id}}"
            );
            return Err(bad_request(&detail));
        }
    }
    Ok(())
}

/// The request as Luma echoes it back, with its defaults filled in.
fn echo(body: &Value) -> Value {
    let mut request = body.clone();
    if request.get("generation_type").is_none() {
        request["generation_type"] = json!("video");
    }
    request
}

/// The Generation object; `assets` stays null until the video exists.
fn generation(task: &Task) -> Value {
    let (state, failure, assets) = match task.phase() {
        Phase::Queued => ("queued", None, Value::Null),
        Phase::Running(_) => ("dreaming", None, Value::Null),
        Phase::Failed | Phase::Cancelled => ("failed", task.failure.as_deref(), Value::Null),
        Phase::Succeeded => {
            let assets = json!({
                "video": task.file_url("video.mp4"),
                "image": task.file_url("thumbnail.jpg"),
                "progress_video": null,
            });
            ("completed", None, assets)
        }
    };
    json!({
        "id": task.id,
        "generation_type": "video",
        "state": state,
        "failure_reason": failure,
        "created_at": iso8601(task.created_ms, 3),
        "assets": assets,
        "model": task.model,
        "request": task.request,
    })
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Generation not found")
}

async fn fetch(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(resp) = poll_faults(&sim, &headers, error).await {
        return resp;
    }
    match sim.tasks().get(Kind::Luma, &id) {
        Some(task) => Json(generation(&task)).into_response(),
        None => not_found(),
    }
}

async fn delete(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(resp) = poll_faults(&sim, &headers, error).await {
        return resp;
    }
    if sim.tasks().delete(Kind::Luma, &id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found()
    }
}

/// `GET /generations?limit&offset`: newest first.
async fn list(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(resp) = poll_faults(&sim, &headers, error).await {
        return resp;
    }
    let number = |key: &str, default: usize| match query.get(key) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| bad_request(&format!("{key}: must be a non-negative integer"))),
    };
    let (limit, offset) = match (number("limit", DEFAULT_LIMIT), number("offset", 0)) {
        (Ok(limit), Ok(offset)) => (limit.clamp(1, MAX_LIMIT), offset),
        (Err(resp), _) | (_, Err(resp)) => return resp,
    };
    let all = sim.tasks().list(Kind::Luma);
    let page: Vec<Value> = all
        .iter()
        .rev()
        .skip(offset)
        .take(limit)
        .map(generation)
        .collect();
    let has_more = offset + page.len() < all.len();
    Json(json!({
        "has_more": has_more,
        "count": page.len(),
        "limit": limit,
        "offset": offset,
        "generations": page,
    }))
    .into_response()
}
