//! `/api/logs`: the usage log (one row per relayed request), filtered and paginated, and
//! totals over the same filters. Everyone may read; a non-admin only ever sees their own rows.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use switchyard_store::{LogFilter, LogPage, UsageSummary};

use super::{q_int, q_str, query};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// The query parameters both routes take, as they arrive (empty values count as absent).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogQuery {
    user_id: Option<String>,
    key_id: Option<String>,
    model: Option<String>,
    channel_id: Option<String>,
    status: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// (name, JSON type, description) of each query parameter, for the OpenAPI document.
pub(crate) const PARAMS: &[(&str, &str, &str)] = &[
    (
        "user_id",
        "string",
        "Only this user's requests (forced to the caller's own for non-admins).",
    ),
    ("key_id", "string", "Only requests made with this key."),
    ("model", "string", "Only this model (exact name)."),
    (
        "channel_id",
        "string",
        "Only requests served by this channel.",
    ),
    (
        "status",
        "string",
        "`ok` (2xx), `error` (anything else) or an exact HTTP status such as 429.",
    ),
    (
        "since",
        "integer",
        "From this time, ms since the epoch (inclusive).",
    ),
    (
        "until",
        "integer",
        "Before this time, ms since the epoch (exclusive).",
    ),
    (
        "limit",
        "integer",
        "Rows per page, 1–1000 (default 50). Ignored by the summary.",
    ),
    ("offset", "integer", "Rows to skip. Ignored by the summary."),
];

fn filter(p: &Principal, q: LogQuery) -> Result<LogFilter, ApiError> {
    let status = q_str(q.status);
    if let Some(s) = &status {
        if s != "ok" && s != "error" && s.parse::<u16>().is_err() {
            return Err(ApiError::bad_request(format!(
                "'status' must be ok, error or an HTTP status code, not {s:?}."
            ))
            .with_param("status"));
        }
    }
    let user_id = if p.user.is_admin() {
        q_str(q.user_id)
    } else {
        Some(p.user.id.clone())
    };
    Ok(LogFilter {
        user_id,
        key_id: q_str(q.key_id),
        model: q_str(q.model),
        channel_id: q_str(q.channel_id),
        status,
        since: q_int("since", q.since.as_deref())?,
        until: q_int("until", q.until.as_deref())?,
        limit: q_int("limit", q.limit.as_deref())?,
        offset: q_int("offset", q.offset.as_deref())?,
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    p: Principal,
    q: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Json<LogPage>, ApiError> {
    let f = filter(&p, query(q)?)?;
    Ok(Json(state.store.logs(&f).await?))
}

pub(crate) async fn summary(
    State(state): State<AppState>,
    p: Principal,
    q: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Json<UsageSummary>, ApiError> {
    let f = filter(&p, query(q)?)?;
    Ok(Json(state.store.usage_summary(&f).await?))
}
