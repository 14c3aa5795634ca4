//! The kling front door (routes and rendering in kling's own format): to be filled in.

use axum::Router;
use serde_json::Value;

use crate::state::AppState;
use crate::task::TaskView;

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub fn render(state: &AppState, v: &TaskView) -> Value {
    super::unified::render(state, v)
}
