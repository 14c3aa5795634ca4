//! `POST /v1/video/generations` and `GET /v1/video/generations/{id}`: one request shape for
//! every video model, answered as `{code, message, data{task_id, status, progress, url…}}`.

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{secs, visible_task};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::relay::body::{bytes_or_error, json_object};
use crate::state::AppState;
use crate::task::submit::{submit, Submission};
use crate::task::{TaskView, VideoRequest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/video/generations", post(create))
        .route("/v1/video/generations/{id}", get(read))
}

#[derive(Deserialize)]
struct Create {
    model: String,
    #[serde(default)]
    prompt: String,
    #[serde(default, alias = "image_url")]
    image: Option<String>,
    #[serde(default, alias = "image_end_url")]
    image_end: Option<String>,
    #[serde(default)]
    duration: Option<u32>,
    #[serde(default)]
    aspect_ratio: Option<String>,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default, rename = "loop")]
    loop_video: bool,
    #[serde(default)]
    negative_prompt: Option<String>,
    #[serde(default)]
    seed: Option<i64>,
    #[serde(default, alias = "callback_url")]
    notify_hook: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = bytes_or_error(body, state.settings.max_body_bytes)?;
    let c: Create = serde_json::from_value(json_object(&body)?)
        .map_err(|e| ApiError::bad_request(format!("Invalid request: {e}")))?;
    let request = VideoRequest {
        prompt: c.prompt,
        image: c.image,
        image_end: c.image_end,
        duration: c.duration,
        aspect_ratio: c.aspect_ratio,
        resolution: c.resolution,
        loop_video: c.loop_video,
        negative_prompt: c.negative_prompt,
        seed: c.seed,
    };
    let task = submit(
        &state,
        Submission {
            principal,
            model: c.model,
            front: "unified",
            request,
            notify_hook: c.notify_hook,
        },
    )
    .await?;
    Ok(Json(render(&state, &TaskView::new(&task))))
}

async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let task = visible_task(&state, &principal.user, &id).await?;
    Ok(Json(render(&state, &TaskView::new(&task))))
}

pub fn render(_state: &AppState, v: &TaskView) -> Value {
    let t = v.task;
    let r = v.result.clone().unwrap_or_default();
    json!({
        "code": "success",
        "message": "",
        "data": {
            "task_id": t.id,
            "model": t.model,
            "status": t.state,
            "progress": t.progress,
            "url": (!r.video_url.is_empty()).then_some(&r.video_url),
            "thumbnail_url": r.thumbnail_url,
            "last_frame_url": r.last_frame_url,
            "width": r.width,
            "height": r.height,
            "duration": r.duration.or(v.request.duration.map(f64::from)),
            "prompt": v.request.prompt,
            "error": t.error,
            "cost_nano": if t.is_active() { t.cost_held } else { t.cost_charged },
            "created_at": secs(t.created_at),
            "updated_at": secs(t.updated_at),
            "finished_at": t.finished_at.map(secs),
        }
    })
}
