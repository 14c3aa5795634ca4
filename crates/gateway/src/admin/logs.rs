//! `/api/logs`: the usage log (one row per relayed request), filtered and paginated, and
//! totals over the same filters. Everyone may read; a non-admin only ever sees their own rows.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_store::{now_ms, LogFilter, LogPage, UsageBucket, UsageGroup, UsageSummary};

use super::{q_int, q_str, query};
use crate::auth::Caller;
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
    bucket_secs: Option<String>,
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
    (
        "bucket_secs",
        "integer",
        "Stats only: the width of a time bucket (default: the range over about 48 buckets).",
    ),
];

fn filter(p: &Caller, q: LogQuery) -> Result<LogFilter, ApiError> {
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
    p: Caller,
    q: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Json<LogPage>, ApiError> {
    let f = filter(&p, query(q)?)?;
    Ok(Json(state.store.logs(&f).await?))
}

pub(crate) async fn summary(
    State(state): State<AppState>,
    p: Caller,
    q: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Json<UsageSummary>, ApiError> {
    let f = filter(&p, query(q)?)?;
    Ok(Json(state.store.usage_summary(&f).await?))
}

/// The groups the dashboard shows, at most this many each.
const TOP: i64 = 10;
/// Without `bucket_secs`, the range is cut into about this many buckets.
const BUCKETS: i64 = 48;

/// The dashboard's figures over the filtered log: a time series and the top models,
/// channels, keys and (admins) users by spend, with names. Default range: the last 24 hours.
pub(crate) async fn stats(
    State(state): State<AppState>,
    p: Caller,
    q: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    let bucket_secs = q.bucket_secs.clone();
    let mut f = filter(&p, q)?;
    let until = f.until.unwrap_or_else(now_ms);
    let since = f.since.unwrap_or(until - 24 * 3600 * 1000);
    if since >= until {
        return Err(ApiError::bad_request("'since' must be before 'until'.").with_param("since"));
    }
    (f.since, f.until) = (Some(since), Some(until));
    let bucket_ms = match q_int("bucket_secs", bucket_secs.as_deref())? {
        Some(s) if s < 1 => {
            return Err(ApiError::bad_request("'bucket_secs' must be at least 1.")
                .with_param("bucket_secs"))
        }
        Some(s) => s * 1000,
        None => nice_bucket((until - since) / BUCKETS),
    };
    if (until - since) / bucket_ms > 2000 {
        return Err(ApiError::bad_request(
            "That is more than 2000 buckets: widen 'bucket_secs' or narrow the range.",
        )
        .with_param("bucket_secs"));
    }
    let store = &state.store;
    let series = store
        .usage_grouped(&f, UsageGroup::Time(bucket_ms), 2001)
        .await?;
    let names = Names::load(&state, p.user.is_admin()).await?;
    let mut out = json!({
        "since": since,
        "until": until,
        "bucket_secs": bucket_ms / 1000,
        // Every row of the range is in exactly one bucket: the totals are the series' sum,
        // not another scan of the log.
        "totals": {
            "requests": series.iter().map(|b| b.requests).sum::<i64>(),
            "errors": series.iter().map(|b| b.errors).sum::<i64>(),
            "tokens_in": series.iter().map(|b| b.tokens_in).sum::<i64>(),
            "tokens_out": series.iter().map(|b| b.tokens_out).sum::<i64>(),
            "cost_nano": series.iter().map(|b| b.cost).sum::<i64>(),
        },
        "series": series,
        "by_model": store.usage_grouped(&f, UsageGroup::Model, TOP).await?,
        "by_key": names.named(&names.keys, store.usage_grouped(&f, UsageGroup::Key, TOP).await?),
    });
    if p.user.is_admin() {
        out["by_channel"] = names.named(
            &names.channels,
            store.usage_grouped(&f, UsageGroup::Channel, TOP).await?,
        );
        out["by_user"] = names.named(
            &names.users,
            store.usage_grouped(&f, UsageGroup::User, TOP).await?,
        );
    }
    Ok(Json(out))
}

/// A bucket width people read easily: 1, 5 or 15 minutes, 1, 3, 6 or 12 hours, or days. No
/// 30 minutes: a day in hours is read from the hourly rollup instead of every log row.
fn nice_bucket(ms: i64) -> i64 {
    const MIN: i64 = 60_000;
    const STEPS: [i64; 8] = [
        MIN,
        5 * MIN,
        15 * MIN,
        60 * MIN,
        180 * MIN,
        360 * MIN,
        720 * MIN,
        1440 * MIN,
    ];
    STEPS
        .into_iter()
        .find(|s| *s >= ms)
        .unwrap_or_else(|| (ms + 1440 * MIN - 1) / (1440 * MIN) * 1440 * MIN)
}

/// Names for ids, so the dashboard does not need three more requests.
struct Names {
    keys: std::collections::HashMap<String, String>,
    channels: std::collections::HashMap<String, String>,
    users: std::collections::HashMap<String, String>,
}

impl Names {
    async fn load(state: &AppState, admin: bool) -> Result<Names, ApiError> {
        let cat = state.catalog.get();
        let keys = cat
            .keys
            .values()
            .map(|k| (k.id.clone(), k.name.clone()))
            .collect();
        let users = cat
            .users
            .values()
            .map(|u| (u.id.clone(), u.name.clone()))
            .collect();
        let channels = if admin {
            let all = state.store.channels().await?;
            all.into_iter().map(|c| (c.id, c.name)).collect()
        } else {
            Default::default()
        };
        Ok(Names {
            keys,
            channels,
            users,
        })
    }

    fn named(
        &self,
        names: &std::collections::HashMap<String, String>,
        rows: Vec<UsageBucket>,
    ) -> Value {
        rows.into_iter()
            .map(|b| {
                let mut v = json!(b);
                v["name"] = json!(names.get(&b.key).cloned().unwrap_or_else(|| b.key.clone()));
                v
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::nice_bucket;

    #[test]
    fn buckets_are_round() {
        assert_eq!(nice_bucket(1), 60_000);
        assert_eq!(nice_bucket(24 * 3600 * 1000 / 48), 60 * 60_000);
        assert_eq!(nice_bucket(7 * 24 * 3600 * 1000 / 48), 360 * 60_000);
        assert_eq!(nice_bucket(90 * 24 * 3600 * 1000 / 48), 2 * 1440 * 60_000);
    }
}
