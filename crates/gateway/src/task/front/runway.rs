//! Runway's API as a front door: `POST /runwayml/v1/image_to_video` and `/text_to_video`
//! answer `{id}`; `GET /runwayml/v1/tasks/{id}` is Runway's task object; `DELETE` cancels
//! (and refunds) with 204. Errors are Runway's `{"error": "..."}`. Runway's model names
//! (`gen4_turbo`…) run on `runway-video`; any video model the gateway serves may be named.

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{iso8601, reshape, visible_task};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::relay::body::{bytes_or_error, json_object};
use crate::state::AppState;
use crate::task::provider::ratio_pixels;
use crate::task::submit::{cancel, is_task_model, submit, Submission};
use crate::task::{TaskState, TaskView, VideoRequest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/runwayml/v1/image_to_video", post(image_to_video))
        .route("/runwayml/v1/text_to_video", post(text_to_video))
        .route("/runwayml/v1/tasks/{id}", get(read).delete(remove))
}

/// The gateway model Runway's own model names run on.
const RUNWAY_MODEL: &str = "runway-video";
/// Runway's model names, current and past.
const RUNWAY_NAMES: &[&str] = &[
    "gen4_turbo",
    "gen4.5",
    "gen4_aleph",
    "gen3a_turbo",
    "veo3",
    "veo3.1",
    "veo3.1_fast",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Create {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    prompt_image: Option<PromptImage>,
    #[serde(default)]
    prompt_text: Option<String>,
    #[serde(default)]
    negative_prompt: Option<String>,
    #[serde(default)]
    ratio: Option<String>,
    #[serde(default)]
    duration: Option<u32>,
    #[serde(default)]
    seed: Option<i64>,
    /// An extension (Runway has no callbacks): where to POST the task object on each change.
    #[serde(default, alias = "notify_hook", alias = "callback_url")]
    notify_hook: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PromptImage {
    One(String),
    Frames(Vec<Frame>),
}

#[derive(Deserialize)]
struct Frame {
    uri: String,
    #[serde(default)]
    position: Option<String>,
}

/// An `ApiError` as Runway words it.
fn error(e: ApiError) -> Response {
    let body = json!({"error": e.message});
    reshape(e, body)
}

fn answer(r: Result<Value, ApiError>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(e),
    }
}

async fn image_to_video(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    answer(create(&state, principal, body, true).await)
}

async fn text_to_video(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    answer(create(&state, principal, body, false).await)
}

async fn create(
    state: &AppState,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
    with_image: bool,
) -> Result<Value, ApiError> {
    let principal = principal?;
    let body = bytes_or_error(body, state.settings.max_body_bytes)?;
    let c: Create = serde_json::from_value(json_object(&body)?)
        .map_err(|e| ApiError::bad_request(format!("Invalid request: {e}")))?;
    let (image, image_end) = if with_image {
        frames(c.prompt_image)?
    } else {
        (None, None)
    };
    let aspect_ratio = c.ratio.as_deref().map(aspect_of).transpose()?;
    let request = VideoRequest {
        prompt: c.prompt_text.unwrap_or_default(),
        image,
        image_end,
        duration: c.duration,
        aspect_ratio,
        negative_prompt: c.negative_prompt.filter(|n| !n.is_empty()),
        seed: c.seed,
        ..Default::default()
    };
    let task = submit(
        state,
        Submission {
            principal,
            model: model(state, c.model),
            front: "runway",
            request,
            notify_hook: c.notify_hook.filter(|h| !h.is_empty()),
        },
    )
    .await?;
    Ok(json!({"id": task.id}))
}

/// A gateway video model by its own name; Runway's names (and none) run on `runway-video`.
fn model(state: &AppState, name: Option<String>) -> String {
    match name {
        Some(m) if is_task_model(&state.catalog.get_full(), &m) => m,
        Some(m) if !RUNWAY_NAMES.contains(&m.as_str()) => m, // unknown: submit says so
        _ => RUNWAY_MODEL.into(),
    }
}

/// `promptImage`: one image (the first frame), or frames placed `first` and `last`.
fn frames(p: Option<PromptImage>) -> Result<(Option<String>, Option<String>), ApiError> {
    let missing = || {
        ApiError::bad_request(
            "promptImage is required: an HTTPS URL, a data URI, or [{uri, position}]",
        )
        .with_param("promptImage")
    };
    match p {
        None => Err(missing()),
        Some(PromptImage::One(uri)) if uri.is_empty() => Err(missing()),
        Some(PromptImage::One(uri)) => Ok((Some(uri), None)),
        Some(PromptImage::Frames(list)) => {
            let (mut first, mut last) = (None, None);
            for f in list {
                match f.position.as_deref().unwrap_or("first") {
                    "first" => first = Some(f.uri),
                    "last" => last = Some(f.uri),
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "promptImage position must be \"first\" or \"last\", not {other:?}"
                        ))
                        .with_param("promptImage"))
                    }
                }
            }
            if first.is_none() && last.is_none() {
                return Err(missing());
            }
            Ok((first, last))
        }
    }
}

/// `1280:720` → `16:9`: Runway's pixel ratios back to the aspect ratio they stand for.
fn aspect_of(ratio: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "ratio must be width:height in pixels, like 1280:720, not {ratio:?}"
        ))
        .with_param("ratio")
    };
    let (w, h) = ratio.split_once(':').ok_or_else(bad)?;
    let (w, h): (u32, u32) = (
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    );
    if w == 0 || h == 0 {
        return Err(bad());
    }
    for a in ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"] {
        if ratio_pixels(a) == Some((w, h)) {
            return Ok(a.into());
        }
    }
    let gcd = |mut a: u32, mut b: u32| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let g = gcd(w, h);
    Ok(format!("{}:{}", w / g, h / g))
}

async fn read(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let task = match principal {
        Ok(p) => visible_task(&state, &p.user, &id).await,
        Err(e) => Err(e),
    };
    answer(task.map(|t| render(&state, &TaskView::new(&t))))
}

/// Cancels a running task (its hold goes back); a finished one is left as it is.
async fn remove(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let done = async {
        let task = visible_task(&state, &principal?.user, &id).await?;
        cancel(&state, &task).await
    };
    match done.await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(e),
    }
}

/// A task object as Runway's `GET /v1/tasks/{id}` has it.
pub fn render(_state: &AppState, v: &TaskView) -> Value {
    let t = v.task;
    let status = match v.state {
        TaskState::Submitting | TaskState::Queued => "PENDING",
        TaskState::Running => "RUNNING",
        TaskState::Succeeded => "SUCCEEDED",
        TaskState::Failed => "FAILED",
        TaskState::Cancelled => "CANCELLED",
    };
    let mut o = json!({"id": t.id, "createdAt": iso8601(t.created_at), "status": status});
    match v.state {
        TaskState::Running => o["progress"] = json!((t.progress as f64 / 100.0).clamp(0.0, 1.0)),
        TaskState::Succeeded => {
            let url = v.result.as_ref().map(|r| r.video_url.clone());
            o["output"] = json!(url
                .into_iter()
                .filter(|u| !u.is_empty())
                .collect::<Vec<_>>());
        }
        TaskState::Failed => {
            // Runway's own code when Runway failed it, else a generic one.
            let raw = t.raw_json();
            let code = raw
                .get("failureCode")
                .and_then(Value::as_str)
                .unwrap_or("INTERNAL");
            o["failure"] = json!(t.error.as_deref().unwrap_or("The task failed."));
            o["failureCode"] = json!(code);
        }
        _ => {}
    }
    o
}

#[cfg(test)]
mod tests {
    use super::aspect_of;

    #[test]
    fn runway_ratios_map_to_aspect_ratios() {
        assert_eq!(aspect_of("1280:720").unwrap(), "16:9");
        assert_eq!(aspect_of("1104:832").unwrap(), "4:3");
        assert_eq!(aspect_of("1584:672").unwrap(), "21:9");
        assert_eq!(aspect_of("1080:1920").unwrap(), "9:16");
        assert!(aspect_of("wide").is_err());
        assert!(aspect_of("0:720").is_err());
    }
}
