//! Google Veo through the Gemini API: `POST
//! /v1beta/models/{model}:predictLongRunning` starts a long-running
//! operation, `GET /v1beta/models/{model}/operations/{id}` polls it until
//! `done`, with a response or an error. Auth is `x-goog-api-key`; errors are
//! Google's `{error: {code, message, status}}`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};

use super::{either, parse_json, poll_faults, prepare, Kind, NewTask, Phase, Prepared, Task};
use crate::Sim;

const METHOD: &str = "predictLongRunning";
const RESPONSE_TYPE: &str =
    "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse";
const METADATA_TYPE: &str =
    "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningMetadata";
/// google.rpc.Code INTERNAL, for a generation that failed.
const RPC_INTERNAL: u16 = 13;
const ASPECT_RATIOS: &[&str] = &["16:9", "9:16"];
const DURATIONS: std::ops::RangeInclusive<u64> = 4..=8;

pub fn routes() -> Router<Sim> {
    // `{model}:predictLongRunning` is not a whole path segment, so one
    // wildcard takes both shapes and `dispatch` splits them.
    Router::new().route("/v1beta/models/{*rest}", get(poll).post(create))
}

/// Google's error envelope; the status name follows the HTTP code.
pub fn error(status: StatusCode, message: &str) -> Response {
    let name = match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    };
    let body = json!({"error": {"code": status.as_u16(), "message": message, "status": name}});
    (status, Json(body)).into_response()
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

fn not_found(path: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("Requested entity was not found: {path}"),
    )
}

/// The key comes in `x-goog-api-key` or, as Google also allows, `?key=`.
/// Missing is 403 and the sim's invalid key is 400, as Google answers.
fn check_key(headers: &HeaderMap, query: &HashMap<String, String>) -> Result<(), Response> {
    let header = headers.get("x-goog-api-key").and_then(|v| v.to_str().ok());
    let key = header.or(query.get("key").map(String::as_str));
    match key.map(str::trim).filter(|k| !k.is_empty()) {
        None => Err(error(
            StatusCode::FORBIDDEN,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        )),
        Some(crate::openai::INVALID_KEY) => {
            Err(bad_request("API key not valid. Please pass a valid API key."))
        }
        Some(_) => Ok(()),
    }
}

async fn create(
    State(sim): State<Sim>,
    Path(rest): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    either(submit(&sim, &rest, &query, &headers, &body).await)
}

async fn submit(
    sim: &Sim,
    rest: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Response> {
    check_key(headers, query)?;
    // rsplit: a model spec like `veo@task_ms=1:2` has colons of its own.
    let raw_model = match rest.rsplit_once(':') {
        Some((model, METHOD)) if !model.is_empty() && !model.contains('/') => model,
        _ => return Err(not_found(&format!("models/{rest}"))),
    };
    let body = parse_json(body, error)?;
    let req = prepare(sim, headers, body, raw_model, error).await?;
    let prompt = validate(&req)?;
    let tasks = sim.tasks();
    let task = tasks.submit(NewTask::new(tasks.hex(12), Kind::Veo, &req, prompt));
    Ok(Json(json!({ "name": operation_name(&task) })).into_response())
}

/// The first instance's prompt, after checking the body's shape.
fn validate(req: &Prepared) -> Result<&str, Response> {
    let instance = req
        .body
        .get("instances")
        .and_then(Value::as_array)
        .and_then(|i| i.first())
        .ok_or_else(|| bad_request("instances: at least one instance is required"))?;
    let prompt = instance.get("prompt").and_then(Value::as_str);
    let prompt = prompt.ok_or_else(|| bad_request("instances[0].prompt: a string is required"))?;
    for key in ["image", "lastFrame"] {
        check_image(instance.get(key), key)?;
    }
    let Some(params) = req.body.get("parameters") else {
        return Ok(prompt);
    };
    let aspect = params.get("aspectRatio");
    if aspect.is_some_and(|a| !a.as_str().is_some_and(|a| ASPECT_RATIOS.contains(&a))) {
        return Err(bad_request("parameters.aspectRatio: must be 16:9 or 9:16"));
    }
    let duration = params.get("durationSeconds");
    if duration.is_some_and(|d| !d.as_u64().is_some_and(|d| DURATIONS.contains(&d))) {
        return Err(bad_request(
            "parameters.durationSeconds: must be an integer from 4 to 8",
        ));
    }
    Ok(prompt)
}

/// Images are inline: `{bytesBase64Encoded, mimeType}`.
fn check_image(image: Option<&Value>, key: &str) -> Result<(), Response> {
    let Some(image) = image else {
        return Ok(());
    };
    let has = |field| image.get(field).is_some_and(Value::is_string);
    if has("bytesBase64Encoded") && has("mimeType") {
        return Ok(());
    }
    Err(bad_request(&format!(
        "instances[0].{key}: expected {{bytesBase64Encoded, mimeType}}"
    )))
}

fn operation_name(task: &Task) -> String {
    format!("models/{}/operations/{}", task.model, task.id)
}

async fn poll(
    State(sim): State<Sim>,
    Path(rest): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(resp) = check_key(&headers, &query) {
        return resp;
    }
    if let Err(resp) = poll_faults(&sim, &headers, error).await {
        return resp;
    }
    let Some((model, id)) = rest.split_once("/operations/") else {
        return not_found(&format!("models/{rest}"));
    };
    match sim.tasks().get(Kind::Veo, id) {
        Some(task) if task.model == model => Json(operation(&task)).into_response(),
        _ => not_found(&format!("models/{rest}")),
    }
}

/// The Operation: not done yet, done with the video, or done with an error.
fn operation(task: &Task) -> Value {
    let name = operation_name(task);
    match task.phase() {
        Phase::Queued | Phase::Running(_) => {
            json!({"name": name, "done": false, "metadata": {"@type": METADATA_TYPE}})
        }
        Phase::Succeeded => {
            let sample = json!({"video": {"uri": task.file_url("video.mp4")}});
            let response = json!({
                "@type": RESPONSE_TYPE,
                "generateVideoResponse": {"generatedSamples": [sample]},
            });
            json!({"name": name, "done": true, "response": response})
        }
        Phase::Failed | Phase::Cancelled => {
            let error = json!({"code": RPC_INTERNAL, "message": task.failure});
            json!({"name": name, "done": true, "error": error})
        }
    }
}
