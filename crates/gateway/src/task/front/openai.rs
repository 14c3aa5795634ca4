//! OpenAI's Videos API as a front door: `POST /v1/videos`, `GET /v1/videos[/{id}]`,
//! `DELETE /v1/videos/{id}`, and `GET /v1/videos/{id}/content`, which streams the finished
//! video (from the provider with the channel's key where that is needed, else by redirect).

use axum::body::Body;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_store::TaskFilter;

use super::{secs, visible_task};
use crate::auth::{authenticate, presented_key, Principal};
use crate::catalog::ChannelEntry;
use crate::error::ApiError;
use crate::relay::body::{bytes_or_error, json_object};
use crate::state::AppState;
use crate::task::provider::{Provider, Target};
use crate::task::submit::{cancel, submit, Submission};
use crate::task::{TaskState, TaskView, VideoRequest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/videos", get(list).post(create))
        .route("/v1/videos/{id}", get(read).delete(remove))
        .route("/v1/videos/{id}/content", get(content))
}

#[derive(Deserialize)]
struct Create {
    #[serde(default = "default_model")]
    model: String,
    #[serde(default)]
    prompt: String,
    #[serde(default)]
    seconds: Option<String>,
    #[serde(default)]
    size: Option<String>,
    /// Extensions beyond OpenAI's shape, so this door reaches image-to-video channels too.
    #[serde(default)]
    image_url: Option<String>,
    #[serde(default)]
    image_end_url: Option<String>,
    #[serde(default, alias = "callback_url")]
    notify_hook: Option<String>,
}

fn default_model() -> String {
    "sora-2".into()
}

/// `1280x720` → (16:9, 720p), and back.
const SIZES: &[(&str, &str, &str)] = &[
    ("720x1280", "9:16", "720p"),
    ("1280x720", "16:9", "720p"),
    ("1024x1792", "9:16", "1080p"),
    ("1792x1024", "16:9", "1080p"),
];

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = bytes_or_error(body, state.settings.max_body_bytes)?;
    let c: Create = serde_json::from_value(json_object(&body)?)
        .map_err(|e| ApiError::bad_request(format!("Invalid request: {e}")))?;
    let duration = match &c.seconds {
        None => None,
        Some(s) => Some(s.parse::<u32>().map_err(|_| {
            ApiError::bad_request(format!(
                "seconds must be a number as a string, like \"4\", not {s:?}"
            ))
            .with_param("seconds")
        })?),
    };
    let (aspect_ratio, resolution) = match &c.size {
        None => (None, None),
        Some(size) => {
            let (_, a, r) = SIZES.iter().find(|(s, _, _)| s == size).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "size must be one of 720x1280, 1280x720, 1024x1792, 1792x1024, not {size}"
                ))
                .with_param("size")
            })?;
            (Some(a.to_string()), Some(r.to_string()))
        }
    };
    let request = VideoRequest {
        prompt: c.prompt,
        image: c.image_url,
        image_end: c.image_end_url,
        duration,
        aspect_ratio,
        resolution,
        ..Default::default()
    };
    let task = submit(
        &state,
        Submission {
            principal,
            model: c.model,
            front: "openai",
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

#[derive(Deserialize)]
struct ListQuery {
    after: Option<String>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let filter = TaskFilter {
        user_id: Some(principal.user.id.clone()),
        kind: Some("video".into()),
        limit: Some(limit + 1),
        after: q.after,
        ..Default::default()
    };
    let mut tasks = state.store.tasks(&filter).await?;
    let has_more = tasks.len() as i64 > limit;
    tasks.truncate(limit as usize);
    let data: Vec<Value> = tasks
        .iter()
        .map(|t| render(&state, &TaskView::new(t)))
        .collect();
    Ok(Json(json!({
        "object": "list",
        "data": data,
        "first_id": tasks.first().map(|t| &t.id),
        "last_id": tasks.last().map(|t| &t.id),
        "has_more": has_more,
    })))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let task = visible_task(&state, &principal.user, &id).await?;
    cancel(&state, &task).await?;
    Ok(Json(
        json!({"id": id, "object": "video.deleted", "deleted": true}),
    ))
}

#[derive(Deserialize)]
struct ContentQuery {
    variant: Option<String>,
    token: Option<String>,
}

/// The finished video. A signed `token` (in the links the gateway hands out) stands in for
/// the key, so the link plays in a browser.
async fn content(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ContentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let signed = q
        .token
        .as_deref()
        .is_some_and(|t| state.master.verify(&id, t));
    let task = if signed {
        state
            .store
            .task(&id)
            .await?
            .ok_or_else(|| ApiError::not_found("video"))?
    } else {
        let mut req = axum::http::Request::new(());
        *req.headers_mut() = headers;
        let (parts, _) = req.into_parts();
        let p = authenticate(&state, presented_key(&parts), None)?;
        visible_task(&state, &p.user, &id).await?
    };
    if task.state != "succeeded" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_request_error",
            Some("video_not_ready"),
            format!("The video is not ready: the task is {}.", task.state),
        ));
    }
    let variant = q.variant.unwrap_or_else(|| "video".into());
    let provider = task.provider.as_deref().and_then(Provider::from_kind);
    let row = match &task.channel_id {
        Some(c) => state.store.channel(c).await?,
        None => None,
    };
    if let (Some(p), Some(row), Some(upstream_id)) = (provider, row, &task.upstream_id) {
        let ch = ChannelEntry::from_row(&row, &state.master);
        let target = Target {
            upstream: &state.upstream,
            channel: &ch,
            model: ch.upstream_model(&task.model),
        };
        if let Some(req) = p.content_request(&target, upstream_id, &task.raw_json(), &variant) {
            let resp = state
                .upstream
                .execute(req)
                .await
                .map_err(|f| ApiError::upstream(StatusCode::BAD_GATEWAY, f.message))?;
            let ct = resp.headers().get(header::CONTENT_TYPE).cloned();
            let mut r = Response::new(Body::from_stream(resp.bytes_stream()));
            if let Some(ct) = ct {
                r.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            return Ok(r);
        }
    }
    let r = TaskView::new(&task).result.unwrap_or_default();
    let url = if variant == "thumbnail" {
        r.thumbnail_url.unwrap_or_default()
    } else {
        r.video_url
    };
    if url.is_empty() || url.contains("/content?") {
        return Err(ApiError::not_found("video content"));
    }
    Ok(Redirect::temporary(&url).into_response())
}

pub fn render(_state: &AppState, v: &TaskView) -> Value {
    let t = v.task;
    let status = match v.state {
        TaskState::Submitting | TaskState::Queued => "queued",
        TaskState::Running => "in_progress",
        TaskState::Succeeded => "completed",
        TaskState::Failed | TaskState::Cancelled => "failed",
    };
    let size = SIZES
        .iter()
        .find(|(_, a, r)| {
            Some(*a) == v.request.aspect_ratio.as_deref().or(Some("9:16"))
                && Some(*r) == v.request.resolution.as_deref().or(Some("720p"))
        })
        .map(|(s, _, _)| *s);
    let error = t.error.as_ref().filter(|_| status == "failed").map(|m| json!({"code": if v.state == TaskState::Cancelled { "cancelled" } else { "generation_failed" }, "message": m}));
    json!({
        "id": t.id,
        "object": "video",
        "model": t.model,
        "status": status,
        "progress": t.progress,
        "created_at": secs(t.created_at),
        "completed_at": t.finished_at.filter(|_| status == "completed").map(secs),
        "expires_at": null,
        "prompt": v.request.prompt,
        "seconds": v.request.duration.map(|d| d.to_string()),
        "size": size,
        "remixed_from_video_id": null,
        "error": error,
    })
}
