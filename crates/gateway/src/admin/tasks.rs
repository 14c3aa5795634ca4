//! `/api/tasks`: asynchronous tasks (video) with their cost, provider details and webhook
//! delivery log. Everyone may read; a non-admin only ever sees their own tasks.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_store::{Task, TaskFilter};

use super::{q_int, q_str, query};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::task::front::{render, visible_task};
use crate::task::submit::cancel as cancel_task;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskQuery {
    user_id: Option<String>,
    state: Option<String>,
    model: Option<String>,
    kind: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

pub(crate) const PARAMS: &[(&str, &str, &str)] = &[
    (
        "user_id",
        "string",
        "Only this user's tasks (forced to the caller's own for non-admins).",
    ),
    (
        "state",
        "string",
        "submitting, queued, running, succeeded, failed or cancelled.",
    ),
    ("model", "string", "Only this model."),
    ("kind", "string", "Only this kind (video)."),
    ("limit", "integer", "Tasks per page, 1–100 (default 20)."),
    ("offset", "integer", "Tasks to skip."),
];

/// A task for the console and scripts: the caller-facing view plus what operators need.
fn view(state: &AppState, t: &Task, admin: bool) -> Value {
    let mut v = json!({
        "id": t.id,
        "user_id": t.user_id,
        "key_id": t.key_id,
        "kind": t.kind,
        "model": t.model,
        "front": t.front,
        "state": t.state,
        "progress": t.progress,
        "request": t.request_json(),
        "result": t.result_json(),
        "error": t.error,
        "cost_held_nano": t.cost_held,
        "cost_charged_nano": t.cost_charged,
        "notify_hook": t.notify_hook,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "finished_at": t.finished_at,
        "answer": render(state, t),
    });
    if admin {
        v["channel_id"] = json!(t.channel_id);
        v["provider"] = json!(t.provider);
        v["upstream_id"] = json!(t.upstream_id);
        v["upstream_raw"] = t.raw_json();
        v["poll_failures"] = json!(t.poll_failures);
    }
    v
}

pub(crate) async fn list(
    State(state): State<AppState>,
    p: Caller,
    q: Result<Query<TaskQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    let admin = p.user.is_admin();
    let f = TaskFilter {
        user_id: if admin {
            q_str(q.user_id)
        } else {
            Some(p.user.id.clone())
        },
        state: q_str(q.state),
        model: q_str(q.model),
        kind: q_str(q.kind),
        limit: q_int("limit", q.limit.as_deref())?,
        offset: q_int("offset", q.offset.as_deref())?,
        after: None,
    };
    let tasks = state.store.tasks(&f).await?;
    let total = state.store.task_count(&f).await?;
    let data: Vec<Value> = tasks.iter().map(|t| view(&state, t, admin)).collect();
    Ok(Json(json!({"data": data, "total": total})))
}

pub(crate) async fn get_one(
    State(state): State<AppState>,
    p: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let t = visible_task(&state, &p.user, &id).await?;
    let mut v = view(&state, &t, p.user.is_admin());
    v["deliveries"] = json!(state.store.deliveries(&t.id).await?);
    Ok(Json(v))
}

pub(crate) async fn cancel(
    State(state): State<AppState>,
    p: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let t = visible_task(&state, &p.user, &id).await?;
    let t = cancel_task(&state, &t).await?;
    Ok(Json(view(&state, &t, p.user.is_admin())))
}

/// The secret that signs this user's webhooks (`X-Switchyard-Signature`).
pub(crate) async fn webhook_secret(
    State(state): State<AppState>,
    p: Caller,
) -> Result<Json<Value>, ApiError> {
    let secret = state.store.webhook_secret(&p.user.id).await?;
    Ok(Json(json!({
        "secret": secret,
        "header": "X-Switchyard-Signature",
        "scheme": "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" keyed with the secret>",
    })))
}
