//! `/api/keys`: API keys. Users manage their own; admins manage everyone's, except that only
//! root may touch the keys of another admin or root (a key for root would be root's power).
//! The secret is returned once, by the create call; afterwards only its hint is shown.

use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_store::{now_ms, ApiKey, KeyPatch, NewKey};

use super::{
    is_privileged, non_empty, parse, q_str, query, read_json, reload, Field, Id, Need, Ty,
};
use crate::auth::Caller;
use crate::catalog::parse_net;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) const NEW_KEY: &[Field] = &[
    Field(
        "user_id",
        Ty::Str,
        Need::Optional,
        "Owner (default: the caller). Only admins may name another user.",
    ),
    Field("name", Ty::Str, Need::Optional, "A label (default `default`)."),
    Field(
        "quota_nano",
        Ty::Int,
        Need::Optional,
        "Spending cap for this key in nano-dollars; absent = unlimited (the balance still applies).",
    ),
    Field(
        "expires_at",
        Ty::Int,
        Need::Optional,
        "Expiry, milliseconds since the epoch; absent = never.",
    ),
    Field(
        "models",
        Ty::Strs,
        Need::Optional,
        "Models this key may use (`prefix*` patterns allowed); empty = all.",
    ),
    Field(
        "ip_allow",
        Ty::Strs,
        Need::Optional,
        "Client addresses or CIDR networks allowed; empty = any.",
    ),
];

pub(crate) const KEY_PATCH: &[Field] = &[
    Field("name", Ty::Str, Need::Optional, "A label."),
    Field(
        "quota_nano",
        Ty::Int,
        Need::Nullable,
        "Sets the remaining quota in nano-dollars; null makes the key unlimited.",
    ),
    Field(
        "expires_at",
        Ty::Int,
        Need::Nullable,
        "Expiry in ms since the epoch; null = never.",
    ),
    Field(
        "models",
        Ty::Strs,
        Need::Optional,
        "Replaces the model list; empty = all.",
    ),
    Field(
        "ip_allow",
        Ty::Strs,
        Need::Optional,
        "Replaces the address list; empty = any.",
    ),
    Field(
        "enabled",
        Ty::Bool,
        Need::Optional,
        "false disables the key.",
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyQuery {
    user_id: Option<String>,
}

/// Admins see every key (or one user's with `?user_id=`); anyone else sees their own.
pub(crate) async fn list(
    State(state): State<AppState>,
    p: Caller,
    q: Result<Query<KeyQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let wanted = q_str(query(q)?.user_id);
    let user_id = if p.user.is_admin() {
        wanted
    } else {
        Some(p.user.id.clone())
    };
    state.budgets.return_all().await?;
    let keys = state.store.keys(user_id.as_deref()).await?;
    let data: Vec<Value> = keys.iter().map(ApiKey::to_view).collect();
    Ok(Json(json!({"data": data})))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut new: NewKey = parse(read_json(&state, body)?, NEW_KEY)?;
    let owner = match q_str(new.user_id.take()) {
        None => p.user.id.clone(),
        Some(u) if u == p.user.id => u,
        Some(u) if p.user.is_admin() => u,
        Some(_) => {
            return Err(ApiError::forbidden(
                "You may only create keys for yourself.",
            ))
        }
    };
    guard_owner(&state, &p, &owner).await?;
    if let Some(n) = &new.name {
        new.name = Some(non_empty("name", n)?);
    }
    check_limits(&new.models, &new.ip_allow, new.expires_at)?;
    if new.quota_nano.is_some_and(|q| q < 0) {
        return Err(
            ApiError::bad_request("'quota_nano' must not be negative.").with_param("quota_nano")
        );
    }
    let (key, secret) = state.store.create_key(&owner, &new).await?;
    reload(&state).await;
    let mut v = key.to_view();
    v["key"] = json!(secret);
    Ok((StatusCode::CREATED, Json(v)))
}

pub(crate) async fn get_one(
    State(state): State<AppState>,
    p: Caller,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(visible_key(&state, &p, &id).await?.to_view()))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    p: Caller,
    Id(id): Id,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let mut patch: KeyPatch = parse(read_json(&state, body)?, KEY_PATCH)?;
    let key = visible_key(&state, &p, &id).await?;
    guard_owner(&state, &p, &key.user_id).await?;
    if let Some(n) = &patch.name {
        patch.name = Some(non_empty("name", n)?);
    }
    check_limits(
        patch.models.as_deref().unwrap_or_default(),
        patch.ip_allow.as_deref().unwrap_or_default(),
        patch.expires_at.flatten(),
    )?;
    if patch.quota_nano.flatten().is_some_and(|q| q < 0) {
        return Err(
            ApiError::bad_request("'quota_nano' must not be negative.").with_param("quota_nano")
        );
    }
    let key = state.store.update_key(&id, &patch).await?;
    reload(&state).await;
    Ok(Json(key.to_view()))
}

/// DELETE disables rather than erases: the usage log keeps pointing at the key.
pub(crate) async fn disable(
    State(state): State<AppState>,
    p: Caller,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    let key = visible_key(&state, &p, &id).await?;
    guard_owner(&state, &p, &key.user_id).await?;
    let patch = KeyPatch {
        enabled: Some(false),
        ..Default::default()
    };
    let key = state.store.update_key(&id, &patch).await?;
    reload(&state).await;
    Ok(Json(key.to_view()))
}

/// The key, if the caller owns it or is an admin. Someone else's key is "not found", so ids
/// cannot be probed.
async fn visible_key(state: &AppState, p: &Caller, id: &str) -> Result<ApiKey, ApiError> {
    // A limited key's quota may sit in this process's budgets: make it exact first.
    state.budgets.return_all().await?;
    match state.store.key(id).await? {
        Some(k) if k.user_id == p.user.id || p.user.is_admin() => Ok(k),
        _ => Err(ApiError::not_found("key")),
    }
}

/// Only root may create or change keys of another admin or root; the owner must exist.
async fn guard_owner(state: &AppState, p: &Caller, owner_id: &str) -> Result<(), ApiError> {
    if owner_id == p.user.id {
        return Ok(());
    }
    let owner = state
        .store
        .user(owner_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user").with_param("user_id"))?;
    if is_privileged(&owner.role) && p.user.role != "root" {
        return Err(ApiError::forbidden(
            "Only root may manage the keys of another admin or root.",
        ));
    }
    Ok(())
}

fn check_limits(
    models: &[String],
    ip_allow: &[String],
    expires_at: Option<i64>,
) -> Result<(), ApiError> {
    if models.iter().any(|m| m.trim().is_empty()) {
        return Err(
            ApiError::bad_request("'models' must not contain empty names.").with_param("models"),
        );
    }
    if let Some(bad) = ip_allow.iter().find(|s| parse_net(s).is_none()) {
        return Err(ApiError::bad_request(format!(
            "'ip_allow' entry {bad:?} is not an IP address or CIDR network (e.g. 10.0.0.0/8)."
        ))
        .with_param("ip_allow"));
    }
    if let Some(t) = expires_at {
        if t <= now_ms() {
            return Err(ApiError::bad_request(
                "'expires_at' is in the past; it is in milliseconds since the epoch.",
            )
            .with_param("expires_at"));
        }
    }
    Ok(())
}
