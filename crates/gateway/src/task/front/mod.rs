//! The task front doors, each answering in its own wire format: the unified
//! `/v1/video/generations`, OpenAI's `/v1/videos`, Luma's, Runway's and Kling's. Chat
//! completions are the sixth (task::chat).

mod kling;
mod luma;
mod openai;
mod runway;
mod unified;

use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::Value;
use switchyard_store::Task;

use super::TaskView;
use crate::catalog::UserEntry;
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(unified::routes())
        .merge(openai::routes())
        .merge(luma::routes())
        .merge(runway::routes())
        .merge(kling::routes())
}

/// A task in the format of the front door that created it (reads and webhooks).
pub fn render(state: &AppState, task: &Task) -> Value {
    let view = TaskView::new(task);
    match task.front.as_str() {
        "openai" => openai::render(state, &view),
        "luma" => luma::render(state, &view),
        "runway" => runway::render(state, &view),
        "kling" => kling::render(state, &view),
        _ => unified::render(state, &view),
    }
}

/// A task the caller may see: their own, or any for an admin. Others' tasks do not exist.
pub async fn visible_task(state: &AppState, user: &UserEntry, id: &str) -> Result<Task, ApiError> {
    match state.store.task(id).await? {
        Some(t) if t.user_id == user.id || user.is_admin() => Ok(t),
        _ => Err(ApiError::not_found("task")),
    }
}

/// Seconds since the epoch, from the store's milliseconds.
pub fn secs(ms: i64) -> i64 {
    ms / 1000
}

/// An `ApiError` answered in a front door's own error shape: the status (and headers such as
/// `retry-after`) stay the gateway's, only the body changes.
pub fn reshape(e: ApiError, body: Value) -> Response {
    let mut r = e.into_response();
    let shaped = (r.status(), Json(body)).into_response();
    let headers = std::mem::take(r.headers_mut());
    let (mut parts, body) = shaped.into_parts();
    for (name, value) in headers.iter() {
        if name != axum::http::header::CONTENT_LENGTH && name != axum::http::header::CONTENT_TYPE {
            parts.headers.insert(name.clone(), value.clone());
        }
    }
    Response::from_parts(parts, body)
}

/// ISO 8601 in UTC with milliseconds and `Z` (`2024-12-22T13:38:40.139Z`), from the store's
/// epoch milliseconds; the civil-date arithmetic is Howard Hinnant's `civil_from_days`.
pub fn iso8601(ms: i64) -> String {
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// An image as the providers take it: URLs and `data:` URIs as given, and raw base64 (which
/// Luma's relay format and Kling accept) as a `data:` URI of the type its first bytes show.
pub fn image_arg(image: String) -> String {
    let s = image.trim();
    if s.starts_with("http://") || s.starts_with("https://") || s.starts_with("data:") {
        return s.to_string();
    }
    let mime = if s.starts_with("iVBOR") {
        "image/png"
    } else if s.starts_with("UklGR") {
        "image/webp"
    } else if s.starts_with("R0lGOD") {
        "image/gif"
    } else {
        "image/jpeg"
    };
    format!("data:{mime};base64,{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_utc_with_millis() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_734_874_720_139), "2024-12-22T13:38:40.139Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
    }

    #[test]
    fn raw_base64_images_become_data_uris() {
        assert_eq!(image_arg("https://a/b.png".into()), "https://a/b.png");
        assert_eq!(
            image_arg("data:image/png;base64,AA".into()),
            "data:image/png;base64,AA"
        );
        assert_eq!(
            image_arg("iVBORw0K".into()),
            "data:image/png;base64,iVBORw0K"
        );
        assert_eq!(
            image_arg("/9j/4AAQ".into()),
            "data:image/jpeg;base64,/9j/4AAQ"
        );
    }
}
