//! The legacy relay "Luma format" (the one in shared/seed): `POST /luma/generations` and
//! `GET /luma/generations/{id}`, answered with exactly the seed's generation fields and
//! errors as Luma's `{"detail": "..."}`. It reaches any video model: `model` (an extension)
//! picks one, else `luma-video`.

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{image_arg, iso8601, reshape, visible_task};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::relay::body::{bytes_or_error, json_object};
use crate::state::AppState;
use crate::task::submit::{submit, Submission};
use crate::task::{TaskState, TaskView, VideoRequest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/luma/generations", post(create))
        .route("/luma/generations/{id}", get(read))
}

/// The model a Luma-format request runs on when it names none.
const DEFAULT_MODEL: &str = "luma-video";

/// `expand_prompt` (a hint to Luma's own service) and `model_name` (`ray-v2`…; the channel's
/// model map picks the provider's model) are accepted and not used.
#[derive(Deserialize)]
struct Create {
    /// An extension: any video model the gateway serves.
    #[serde(default)]
    model: Option<String>,
    #[serde(default, alias = "prompt")]
    user_prompt: Option<String>,
    #[serde(default)]
    aspect_ratio: Option<String>,
    #[serde(default, rename = "loop")]
    loop_video: Option<bool>,
    #[serde(default)]
    image_url: Option<String>,
    #[serde(default)]
    image_end_url: Option<String>,
    #[serde(default, alias = "callback_url")]
    notify_hook: Option<String>,
    #[serde(default)]
    resolution: Option<String>,
    /// `5`, `"5"` or `"5s"`.
    #[serde(default)]
    duration: Option<Value>,
}

/// The seed's clients send every field, with `""` for the ones they do not use.
fn given(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

fn duration(v: Option<Value>) -> Result<Option<u32>, ApiError> {
    let bad = |v: &Value| {
        ApiError::bad_request(format!(
            "duration must be a number of seconds like 5 or \"5s\", not {v}"
        ))
        .with_param("duration")
    };
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            let n = s.trim().trim_end_matches('s').trim();
            n.parse().map(Some).map_err(|_| bad(&Value::String(s)))
        }
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| bad(&v)),
    }
}

/// An `ApiError` as Luma words it.
fn error(e: ApiError) -> Response {
    let body = json!({"detail": e.message});
    reshape(e, body)
}

async fn create(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match create_task(&state, principal, body).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(e),
    }
}

async fn create_task(
    state: &AppState,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    let principal = principal?;
    let body = bytes_or_error(body, state.settings.max_body_bytes)?;
    let c: Create = serde_json::from_value(json_object(&body)?)
        .map_err(|e| ApiError::bad_request(format!("Invalid request: {e}")))?;
    let request = VideoRequest {
        prompt: c.user_prompt.unwrap_or_default(),
        image: given(c.image_url).map(image_arg),
        image_end: given(c.image_end_url).map(image_arg),
        duration: duration(c.duration)?,
        aspect_ratio: given(c.aspect_ratio),
        resolution: given(c.resolution),
        loop_video: c.loop_video.unwrap_or(false),
        ..Default::default()
    };
    let task = submit(
        state,
        Submission {
            principal,
            model: given(c.model).unwrap_or_else(|| DEFAULT_MODEL.into()),
            front: "luma",
            request,
            notify_hook: given(c.notify_hook),
        },
    )
    .await?;
    Ok(render(state, &TaskView::new(&task)))
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
    match task {
        Ok(t) => Json(render(&state, &TaskView::new(&t))).into_response(),
        Err(e) => error(e),
    }
}

/// A generation in the legacy format: exactly the seed's fields.
pub fn render(_state: &AppState, v: &TaskView) -> Value {
    let t = v.task;
    let state = match v.state {
        TaskState::Submitting | TaskState::Queued => "pending",
        TaskState::Running => "processing",
        TaskState::Succeeded => "completed",
        TaskState::Failed | TaskState::Cancelled => "failed",
    };
    let done = v
        .result
        .as_ref()
        .filter(|r| v.state == TaskState::Succeeded && !r.video_url.is_empty());
    // The provider's size, else the nominal one of what was asked (Luma's clients expect one).
    let nominal = nominal_size(
        v.request.aspect_ratio.as_deref().unwrap_or("16:9"),
        v.request.resolution.as_deref().unwrap_or("720p"),
    );
    let (width, height) = match done {
        Some(r) if r.width.is_some() && r.height.is_some() => (r.width, r.height),
        _ => (nominal.map(|n| n.0), nominal.map(|n| n.1)),
    };
    let frame =
        |url: Option<&String>| url.map(|u| json!({"url": u, "width": width, "height": height}));
    json!({
        "id": t.id,
        "prompt": v.request.prompt,
        "state": state,
        "queue_state": null,
        "created_at": iso8601(t.created_at),
        "batch_id": "",
        "video": done.map(|r| json!({
            "url": r.video_url,
            "width": width,
            "height": height,
            "thumbnail": r.thumbnail_url,
            "download_url": r.video_url,
        })),
        "video_raw": done.map(|r| json!({"url": r.video_url, "width": width, "height": height})),
        "liked": null,
        "estimate_wait_seconds": null,
        "thumbnail": frame(done.and_then(|r| r.thumbnail_url.as_ref())),
        "last_frame": frame(done.and_then(|r| r.last_frame_url.as_ref())),
    })
}

/// Width and height of a video with this aspect ratio (`16:9`) and resolution (`720p`, the
/// short side; `4k` is 2160), to even pixels.
fn nominal_size(aspect: &str, resolution: &str) -> Option<(u32, u32)> {
    let (w, h) = aspect.split_once(':')?;
    let (w, h): (u32, u32) = (w.parse().ok()?, h.parse().ok()?);
    let short: u32 = match resolution {
        "4k" | "4K" => 2160,
        r => r.strip_suffix('p')?.parse().ok()?,
    };
    if w == 0 || h == 0 {
        return None;
    }
    let long = |a: u32, b: u32| (short * a / b).div_ceil(2) * 2;
    Some(if w >= h {
        (long(w, h), short)
    } else {
        (short, long(h, w))
    })
}

#[cfg(test)]
mod tests {
    use super::nominal_size;

    #[test]
    fn nominal_sizes() {
        assert_eq!(nominal_size("16:9", "720p"), Some((1280, 720)));
        assert_eq!(nominal_size("9:16", "1080p"), Some((1080, 1920)));
        assert_eq!(nominal_size("1:1", "540p"), Some((540, 540)));
        assert_eq!(nominal_size("21:9", "720p"), Some((1680, 720)));
        assert_eq!(nominal_size("16:9", "4k"), Some((3840, 2160)));
        assert_eq!(nominal_size("wide", "720p"), None);
    }
}
