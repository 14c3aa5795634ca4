//! The admin API under `/api` (filled in by its own modules).

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
