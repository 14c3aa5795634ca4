//! The task front doors, each answering in its own wire format: the unified
//! `/v1/video/generations`, OpenAI's `/v1/videos`, Luma's, Runway's and Kling's. Chat
//! completions are the sixth (task::chat).

mod kling;
mod luma;
mod openai;
mod runway;
mod unified;

use axum::Router;
use serde_json::Value;
use switchyard_store::Task;

use super::TaskView;
use crate::auth::Principal;
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
pub async fn visible_task(state: &AppState, p: &Principal, id: &str) -> Result<Task, ApiError> {
    match state.store.task(id).await? {
        Some(t) if t.user_id == p.user.id || p.user.is_admin() => Ok(t),
        _ => Err(ApiError::not_found("task")),
    }
}

/// Seconds since the epoch, from the store's milliseconds.
pub fn secs(ms: i64) -> i64 {
    ms / 1000
}
