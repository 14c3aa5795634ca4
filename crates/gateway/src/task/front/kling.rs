//! Kling's API as a front door: `POST /kling/v1/videos/{text2video|image2video}` and
//! `GET /kling/v1/videos/{text2video|image2video}/{task_id}`, answered as
//! `{code: 0, message: "SUCCEED", request_id, data{task_id, task_status…}}` and failing with
//! Kling's non-zero codes. `model_name` may be any video model the gateway serves; Kling's
//! own names (`kling-v2-master`…) run on `kling-video`.

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{image_arg, reshape, visible_task};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::relay::body::{bytes_or_error, json_object, RequestId};
use crate::state::AppState;
use crate::task::submit::{is_task_model, submit, Submission};
use crate::task::{TaskState, TaskView, VideoRequest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kling/v1/videos/text2video", post(text2video))
        .route("/kling/v1/videos/image2video", post(image2video))
        .route("/kling/v1/videos/{family}/{task_id}", get(read))
}

/// The gateway model Kling's own model names run on.
const KLING_MODEL: &str = "kling-video";

/// Kling's body; `cfg_scale`, `sound`, `camera_control`, masks, `watermark_info` and
/// `external_task_id` are accepted and not used (no neutral request field carries them;
/// tasks are looked up by the gateway's `task_id`).
#[derive(Deserialize)]
struct Create {
    #[serde(default, alias = "model")]
    model_name: Option<String>,
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    negative_prompt: Option<String>,
    #[serde(default)]
    aspect_ratio: Option<String>,
    /// A string, `"5"` or `"10"`, as Kling has it.
    #[serde(default)]
    duration: Option<Value>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    image_tail: Option<String>,
    #[serde(default, alias = "notify_hook")]
    callback_url: Option<String>,
}

fn given(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// Kling's code for an error with this status: 1000 authentication, 1102 no balance, 1103
/// no access, 1201 bad parameter (1200 bad request), 1203 no such resource, 1302 rate
/// limited, 5000/5001/5002 server error, unavailable, timeout.
fn code_of(e: &ApiError) -> i64 {
    match e.status {
        StatusCode::UNAUTHORIZED => 1000,
        StatusCode::PAYMENT_REQUIRED => 1102,
        StatusCode::TOO_MANY_REQUESTS if e.code == Some("insufficient_quota") => 1102,
        StatusCode::TOO_MANY_REQUESTS => 1302,
        StatusCode::FORBIDDEN => 1103,
        StatusCode::NOT_FOUND => 1203,
        StatusCode::SERVICE_UNAVAILABLE => 5001,
        StatusCode::GATEWAY_TIMEOUT => 5002,
        s if s.is_server_error() => 5000,
        _ if e.param.is_some() => 1201,
        _ => 1200,
    }
}

/// An `ApiError` as Kling words it.
fn error(e: ApiError, rid: &RequestId) -> Response {
    let body = json!({"code": code_of(&e), "message": e.message, "request_id": rid.0});
    reshape(e, body)
}

async fn text2video(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match create(&state, principal, body, false).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(e, &rid),
    }
}

async fn image2video(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match create(&state, principal, body, true).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(e, &rid),
    }
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
    let duration = match c.duration {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim().parse::<u32>().map_err(|_| {
            ApiError::bad_request(format!("duration must be \"5\" or \"10\", not {s:?}"))
                .with_param("duration")
        })?),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "duration must be a string, \"5\" or \"10\", not {other}"
            ))
            .with_param("duration"))
        }
    };
    let resolution = match given(c.mode).as_deref() {
        None => None,
        Some("std") => Some("720p".to_string()),
        Some("pro") => Some("1080p".to_string()),
        Some(m) => {
            return Err(ApiError::bad_request(format!(
                "mode must be \"std\" or \"pro\", not {m:?}"
            ))
            .with_param("mode"))
        }
    };
    let (image, image_end) = if with_image {
        let image = given(c.image).ok_or_else(|| {
            ApiError::bad_request("image is required: a URL or base64").with_param("image")
        })?;
        (Some(image_arg(image)), given(c.image_tail).map(image_arg))
    } else {
        (None, None)
    };
    let request = VideoRequest {
        prompt: c.prompt.unwrap_or_default(),
        image,
        image_end,
        duration,
        aspect_ratio: given(c.aspect_ratio),
        resolution,
        negative_prompt: given(c.negative_prompt),
        ..Default::default()
    };
    let model = match given(c.model_name) {
        Some(m) if is_task_model(&state.catalog.get_full(), &m) => m,
        _ => KLING_MODEL.into(),
    };
    let task = submit(
        state,
        Submission {
            principal,
            model,
            front: "kling",
            request,
            notify_hook: given(c.callback_url),
        },
    )
    .await?;
    Ok(render(state, &TaskView::new(&task)))
}

/// Either path family finds the task: Kling's clients poll the one they created on, and the
/// task id alone names it here.
async fn read(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    principal: Result<Principal, ApiError>,
    Path((family, id)): Path<(String, String)>,
) -> Response {
    let task = async {
        let principal = principal?;
        if family != "text2video" && family != "image2video" {
            return Err(ApiError::not_found("route"));
        }
        visible_task(&state, &principal.user, &id).await
    };
    match task.await {
        Ok(t) => Json(render(&state, &TaskView::new(&t))).into_response(),
        Err(e) => error(e, &rid),
    }
}

/// A task as Kling's query answer has it (and as its callbacks carry it). `request_id` is
/// the task's id, so the GET and the webhook carry the same object.
pub fn render(_state: &AppState, v: &TaskView) -> Value {
    let t = v.task;
    let status = match v.state {
        TaskState::Submitting | TaskState::Queued => "submitted",
        TaskState::Running => "processing",
        TaskState::Succeeded => "succeed",
        TaskState::Failed | TaskState::Cancelled => "failed",
    };
    let videos: Vec<Value> = v
        .result
        .iter()
        .filter(|r| v.state == TaskState::Succeeded && !r.video_url.is_empty())
        .map(|r| {
            let secs = r.duration.or(v.request.duration.map(f64::from));
            json!({
                "id": t.id,
                "url": r.video_url,
                "duration": secs.map(|s| format!("{}", s.round() as i64)),
            })
        })
        .collect();
    let msg = match v.state {
        TaskState::Failed | TaskState::Cancelled => t.error.clone().unwrap_or_default(),
        _ => String::new(),
    };
    json!({
        "code": 0,
        "message": "SUCCEED",
        "request_id": t.id,
        "data": {
            "task_id": t.id,
            "task_status": status,
            "task_status_msg": msg,
            "created_at": t.created_at,
            "updated_at": t.updated_at,
            "task_result": {"videos": videos},
        }
    })
}
