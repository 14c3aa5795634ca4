//! `/api/prices`: what each model costs, in integer nano-dollars (per 1M tokens, or per call).
//! Anyone with a key may read them; only admins set them. A model name ending in `*` prices
//! every model with that prefix (the longest matching pattern wins).

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};
use switchyard_store::Price;

use super::{parse, read_json, reload, Field, Id, Need, Ty};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) const PRICE_WRITE: &[Field] = &[
    Field(
        "model",
        Ty::Str,
        Need::Optional,
        "If given, must equal the model in the path.",
    ),
    Field(
        "input_nano_per_mtok",
        Ty::Int,
        Need::Optional,
        "Nano-dollars per 1M input tokens ($0.15/1M = 150000000). Default 0.",
    ),
    Field(
        "output_nano_per_mtok",
        Ty::Int,
        Need::Optional,
        "Nano-dollars per 1M output tokens. Default 0.",
    ),
    Field(
        "cached_nano_per_mtok",
        Ty::Int,
        Need::Nullable,
        "Nano-dollars per 1M cached input tokens; absent or null bills them as input.",
    ),
    Field(
        "per_call_nano",
        Ty::Int,
        Need::Optional,
        "Nano-dollars per call (images, transcriptions…). Default 0.",
    ),
    Field(
        "per_second_nano",
        Ty::Int,
        Need::Optional,
        "Nano-dollars per second of requested output (video tasks). Default 0.",
    ),
    Field(
        "free",
        Ty::Bool,
        Need::Optional,
        "Serve without charge. Default false.",
    ),
];

/// A price as stored, plus the same numbers in USD for people to read (display only).
pub(crate) fn with_usd(p: &Price) -> Value {
    let usd = |nano: i64| nano as f64 / 1e9;
    let mut v = json!(p);
    v["usd"] = json!({
        "input_per_mtok": usd(p.input_per_mtok),
        "output_per_mtok": usd(p.output_per_mtok),
        "cached_per_mtok": p.cached_per_mtok.map(usd),
        "per_call": usd(p.per_call),
        "per_second": usd(p.per_second),
    });
    v
}

pub(crate) async fn list(
    State(state): State<AppState>,
    _p: Caller,
) -> Result<Json<Value>, ApiError> {
    let data: Vec<Value> = state.store.prices().await?.iter().map(with_usd).collect();
    Ok(Json(json!({"data": data})))
}

pub(crate) async fn get_one(
    State(state): State<AppState>,
    _p: Caller,
    Id(model): Id,
) -> Result<Json<Value>, ApiError> {
    let p = state
        .store
        .prices()
        .await?
        .into_iter()
        .find(|p| p.model == model)
        .ok_or_else(|| ApiError::not_found("price"))?;
    Ok(Json(with_usd(&p)))
}

/// Set a model's price, replacing any earlier one (absent amounts are zero).
pub(crate) async fn put(
    State(state): State<AppState>,
    p: Caller,
    Id(model): Id,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    p.require_admin()?;
    check_model(&model)?;
    let mut v = read_json(&state, body)?;
    match v.get("model") {
        None | Some(Value::Null) => {}
        Some(m) if m.as_str() == Some(model.as_str()) => {}
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "'model' in the body must equal the model in the path ({model:?})."
            ))
            .with_param("model"))
        }
    }
    v["model"] = json!(model);
    let price: Price = parse(v, PRICE_WRITE)?;
    let saved = state.store.upsert_price(&price).await?;
    reload(&state).await;
    Ok(Json(with_usd(&saved)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Caller,
    Id(model): Id,
) -> Result<Json<Value>, ApiError> {
    p.require_admin()?;
    state.store.delete_price(&model).await?;
    reload(&state).await;
    Ok(Json(json!({"model": model, "deleted": true})))
}

fn check_model(model: &str) -> Result<(), ApiError> {
    let bad = |m: &str| Err(ApiError::bad_request(m.to_string()).with_param("model"));
    if model.trim().is_empty() || model.trim() != model {
        return bad("The model name must not be empty or start or end with spaces.");
    }
    if model.trim_end_matches('*').contains('*') {
        return bad("'*' may only end a model name (a prefix pattern such as gpt-4o-*).");
    }
    Ok(())
}
