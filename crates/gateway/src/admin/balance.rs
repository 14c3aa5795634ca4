//! `POST /api/channels/{id}/balance`: ask a channel's provider how much credit is left, and
//! keep the answer so the channels page shows it. OpenAI-compatible upstreams (other relays,
//! mostly: the case where a balance matters day to day) answer the legacy billing view, as
//! this gateway does: the credit (`hard_limit_usd`) less the usage (`total_usage`, in cents).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use switchyard_store::now_ms;
use switchyard_wire::Format;

use super::Id;
use crate::auth::Caller;
use crate::catalog::ChannelEntry;
use crate::error::ApiError;
use crate::price::usd_to_nano;
use crate::state::AppState;
use crate::task::front::iso8601;
use crate::task::provider::Provider;
use crate::upstream::join_url;

/// The usage window asked for: the legacy view wants dates, and 100 days is what the
/// established relays ask for.
const WINDOW_DAYS: i64 = 100;
const DAY_MS: i64 = 86_400_000;

pub(crate) async fn refresh(
    State(state): State<AppState>,
    p: Caller,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    p.require_admin()?;
    let ch = super::channels::find(&state, &id).await?;
    let entry = ChannelEntry::from_row(&ch, &state.master);
    let nano = ask(&state, &entry).await?;
    state.store.set_channel_balance(&ch.id, nano).await?;
    Ok(Json(json!({
        "channel_id": ch.id,
        "balance_nano": nano,
        "balance_usd": nano as f64 / 1e9,
        "balance_at": now_ms(),
    })))
}

async fn ask(state: &AppState, ch: &ChannelEntry) -> Result<i64, ApiError> {
    let speaks_openai = ch.format() == Format::OpenAi
        && ch.kind != "azure"
        && Provider::from_kind(&ch.kind).is_none();
    if !speaks_openai {
        return Err(ApiError::bad_request(format!(
            "A {} channel has no balance to ask for: only OpenAI-compatible upstreams answer \
             /dashboard/billing.",
            ch.kind
        )));
    }
    let now = now_ms();
    let (start, end) = (
        &iso8601(now - WINDOW_DAYS * DAY_MS)[..10],
        &iso8601(now + DAY_MS)[..10],
    );
    let credit = get(state, ch, "/v1/dashboard/billing/subscription").await?;
    let usage = get(
        state,
        ch,
        &format!("/v1/dashboard/billing/usage?start_date={start}&end_date={end}"),
    )
    .await?;
    let (Some(limit), Some(cents)) = (
        credit.get("hard_limit_usd").and_then(Value::as_f64),
        usage.get("total_usage").and_then(Value::as_f64),
    ) else {
        return Err(unreadable("no hard_limit_usd or total_usage in its answer"));
    };
    // Negative when the account is overdrawn: say so rather than clamp.
    let left = limit - cents / 100.0;
    let nano = usd_to_nano(left.abs()).map_err(|e| unreadable(&e))?;
    Ok(if left < 0.0 { -nano } else { nano })
}

async fn get(state: &AppState, ch: &ChannelEntry, path: &str) -> Result<Value, ApiError> {
    let mut req = state.upstream.client().get(join_url(&ch.base_url, path));
    if let Some(k) = ch.pick_key() {
        req = req.bearer_auth(k.expose());
    }
    let resp = state
        .upstream
        .execute(req)
        .await
        .map_err(|f| unreadable(&f.message))?;
    resp.json()
        .await
        .map_err(|_| unreadable("its answer is not JSON"))
}

fn unreadable(why: &str) -> ApiError {
    ApiError::upstream(
        StatusCode::BAD_GATEWAY,
        format!("The provider did not tell its balance: {why}"),
    )
}
