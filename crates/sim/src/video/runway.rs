//! Runway (`/v1/image_to_video`, `/v1/text_to_video`, `/v1/tasks/{id}`):
//! creates answer only `{id}`; tasks go PENDING → RUNNING (progress 0–1) →
//! SUCCEEDED/FAILED, and DELETE cancels a running task. Every call needs a
//! bearer key and `X-Runway-Version`; errors are `{error}`.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};

use super::{check_key, either, iso8601, parse_json, poll_faults, prepare, Kind, NewTask, Phase};
use super::{Prepared, Removal, Task};
use crate::Sim;

/// API versions Runway has published; anything else is rejected as upstream.
const VERSIONS: &[&str] = &["2024-11-06", "2024-09-13"];
const MAX_PROMPT_UTF16: usize = 1000;
const DURATIONS: std::ops::RangeInclusive<i64> = 2..=10;
/// The code Runway gives a generation that broke without a clearer cause.
const FAILURE_CODE: &str = "INTERNAL.BAD_OUTPUT.CODE01";

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/v1/image_to_video", post(image_to_video))
        .route("/v1/text_to_video", post(text_to_video))
        .route("/v1/tasks/{id}", get(fetch).delete(cancel))
        .route_layer(middleware::from_fn(auth))
}

pub fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

async fn auth(req: Request, next: Next) -> Response {
    if let Err(resp) = check_key(req.headers(), error) {
        return resp;
    }
    let version = req.headers().get("x-runway-version");
    match version.and_then(|v| v.to_str().ok()) {
        Some(v) if VERSIONS.contains(&v) => next.run(req).await,
        Some(v) => bad_request(&format!(
            "Invalid API version {v:?}. Set X-Runway-Version to one of: {}.",
            VERSIONS.join(", ")
        )),
        None => bad_request(
            "The X-Runway-Version header is required. The current version is 2024-11-06.",
        ),
    }
}

#[derive(Clone, Copy)]
enum Mode {
    ImageToVideo,
    TextToVideo,
}

async fn image_to_video(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    either(submit(&sim, &headers, &body, Mode::ImageToVideo).await)
}

async fn text_to_video(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    either(submit(&sim, &headers, &body, Mode::TextToVideo).await)
}

async fn submit(
    sim: &Sim,
    headers: &HeaderMap,
    body: &[u8],
    mode: Mode,
) -> Result<Response, Response> {
    let body = parse_json(body, error)?;
    let raw_model = body.get("model").and_then(Value::as_str).unwrap_or("");
    let raw_model = raw_model.to_owned();
    let req = prepare(sim, headers, body, &raw_model, error).await?;
    let prompt = validate(&req, mode)?;
    let tasks = sim.tasks();
    let task = tasks.submit(NewTask::new(tasks.uuid(), Kind::Runway, &req, prompt));
    Ok(Json(json!({ "id": task.id })).into_response())
}

/// The prompt text, after the checks Runway makes on the body.
fn validate(req: &Prepared, mode: Mode) -> Result<&str, Response> {
    if req.model.is_empty() {
        return Err(bad_request("model: Required"));
    }
    if let Mode::ImageToVideo = mode {
        check_prompt_image(req.body.get("promptImage"))?;
    }
    let prompt = match (req.body.get("promptText"), mode) {
        (Some(Value::String(p)), _) => p.as_str(),
        (None, Mode::ImageToVideo) => "",
        (None, Mode::TextToVideo) => return Err(bad_request("promptText: Required")),
        (Some(_), _) => return Err(bad_request("promptText: Expected string")),
    };
    if prompt.encode_utf16().count() > MAX_PROMPT_UTF16 {
        let message =
            format!("promptText: String must contain at most {MAX_PROMPT_UTF16} character(s)");
        return Err(bad_request(&message));
    }
    check_duration(req.body.get("duration"))?;
    if req.body.get("ratio").is_some_and(|r| !r.is_string()) {
        return Err(bad_request("ratio: Expected string"));
    }
    Ok(prompt)
}

/// A URL or data URI, or a list of `{uri, position: "first" | "last"}`.
fn check_prompt_image(image: Option<&Value>) -> Result<(), Response> {
    let ok = match image {
        Some(Value::String(uri)) => !uri.is_empty(),
        Some(Value::Array(frames)) => {
            !frames.is_empty()
                && frames.len() <= 2
                && frames.iter().all(|f| {
                    let uri = f.get("uri").and_then(Value::as_str);
                    let position = f.get("position").and_then(Value::as_str);
                    uri.is_some_and(|u| !u.is_empty()) && matches!(position, Some("first" | "last"))
                })
        }
        _ => false,
    };
    if ok {
        return Ok(());
    }
    Err(bad_request(
        "promptImage: Expected a URL or data URI, or an array of {uri, position: \"first\" | \"last\"}",
    ))
}

fn check_duration(duration: Option<&Value>) -> Result<(), Response> {
    match duration {
        None => Ok(()),
        Some(d) if d.as_i64().is_some_and(|d| DURATIONS.contains(&d)) => Ok(()),
        Some(_) => Err(bad_request(&format!(
            "duration: Expected an integer from {} to {}",
            DURATIONS.start(),
            DURATIONS.end()
        ))),
    }
}

/// The task object: fields appear as the state gains them.
fn task_object(task: &Task) -> Value {
    let mut v = json!({
        "id": task.id,
        "createdAt": iso8601(task.created_ms, 3),
    });
    match task.phase() {
        Phase::Queued => v["status"] = json!("PENDING"),
        Phase::Running(done) => {
            v["status"] = json!("RUNNING");
            v["progress"] = json!((done * 100.0).floor() / 100.0);
        }
        Phase::Succeeded => {
            v["status"] = json!("SUCCEEDED");
            v["output"] = json!([task.file_url("video.mp4")]);
        }
        Phase::Failed => {
            v["status"] = json!("FAILED");
            v["failure"] = json!(task.failure);
            v["failureCode"] = json!(FAILURE_CODE);
        }
        Phase::Cancelled => v["status"] = json!("CANCELLED"),
    }
    v
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Task not found")
}

async fn fetch(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(resp) = poll_faults(&sim, &headers, error).await {
        return resp;
    }
    match sim.tasks().get(Kind::Runway, &id) {
        Some(task) => Json(task_object(&task)).into_response(),
        None => not_found(),
    }
}

/// Cancels a pending or running task (it stays readable as CANCELLED);
/// deletes one that has ended.
async fn cancel(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(resp) = poll_faults(&sim, &headers, error).await {
        return resp;
    }
    match sim.tasks().cancel_or_delete(Kind::Runway, &id) {
        Some(Removal::Cancelled | Removal::Deleted) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(),
    }
}
