//! `/api/me` and `/api/users`: accounts, their balances and the ledger of every manual
//! balance change. Only root hands out admin rights, and the last root cannot be locked out.

use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_store::{NewUser, User, UserPatch};

use super::{
    is_privileged, non_empty, page, parse, q_int, query, read_json, reload, valid_role, Field, Id,
    Need, Ty,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::session::hash_password;
use crate::state::AppState;

pub(crate) const NEW_USER: &[Field] = &[
    Field("name", Ty::Str, Need::Required, "Unique login name."),
    Field(
        "role",
        Ty::Str,
        Need::Optional,
        "`user` (default), `admin` or `root`; only root may create admins and roots.",
    ),
    Field(
        "group",
        Ty::Str,
        Need::Optional,
        "Routing group (default `default`): the user is served by channels of this group.",
    ),
    Field(
        "balance_nano",
        Ty::Int,
        Need::Optional,
        "Starting balance in nano-dollars (recorded in the ledger).",
    ),
    Field(
        "password",
        Ty::Str,
        Need::Optional,
        "Console sign-in password, at least 8 characters.",
    ),
];

pub(crate) const USER_PATCH: &[Field] = &[
    Field("name", Ty::Str, Need::Optional, "New unique name."),
    Field(
        "role",
        Ty::Str,
        Need::Optional,
        "`user`, `admin` or `root`; only root may promote, or change an admin or root.",
    ),
    Field("group", Ty::Str, Need::Optional, "Routing group."),
    Field(
        "enabled",
        Ty::Bool,
        Need::Optional,
        "false locks the account: all its keys stop working.",
    ),
    Field(
        "password",
        Ty::Str,
        Need::Nullable,
        "New console password (ends the user's sessions); null removes it.",
    ),
];

pub(crate) const OWN_PASSWORD: &[Field] = &[
    Field(
        "current_password",
        Ty::Str,
        Need::Optional,
        "Required when a password is already set.",
    ),
    Field(
        "new_password",
        Ty::Str,
        Need::Required,
        "At least 8 characters. Ends every session of the account, this one included.",
    ),
];

pub(crate) const BALANCE: &[Field] = &[
    Field(
        "amount_nano",
        Ty::Int,
        Need::Required,
        "Nano-dollars to add; negative deducts (refused beyond the balance).",
    ),
    Field(
        "reason",
        Ty::Str,
        Need::Required,
        "Why, kept in the ledger.",
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    limit: Option<String>,
    offset: Option<String>,
}

/// The caller's own account, what is currently held for requests in flight, and the key used.
pub(crate) async fn me(State(state): State<AppState>, p: Caller) -> Result<Json<Value>, ApiError> {
    let user = find(&state, &p.user.id).await?;
    let mut v = json!(user);
    v["held_nano"] = json!(state.store.held(&user.id).await?);
    if let Some(key_id) = &p.key_id {
        if let Some(key) = state.store.key(key_id).await? {
            v["key"] = key.to_view();
        }
    }
    Ok(Json(v))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    p: Caller,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    p.require_admin()?;
    let q = query(q)?;
    let (limit, offset) = page(q.limit.as_deref(), q.offset.as_deref())?;
    state.budgets.return_all().await?;
    let data = state.store.users(limit, offset).await?;
    Ok(Json(
        json!({"data": data, "limit": limit, "offset": offset}),
    ))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    p.require_admin()?;
    let v = read_json(&state, body)?;
    let password = v
        .get("password")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut new: NewUser = parse(v, NEW_USER)?;
    let phc = password.as_deref().map(hash_password).transpose()?;
    let role = new.role.as_deref().unwrap_or("user");
    if !valid_role(role) {
        return Err(bad_role(role));
    }
    if is_privileged(role) && p.user.role != "root" {
        return Err(ApiError::forbidden(
            "Only root may create admin or root users.",
        ));
    }
    new.name = non_empty("name", &new.name)?;
    if let Some(g) = &new.group {
        new.group = Some(non_empty("group", g)?);
    }
    if new.balance_nano < 0 {
        return Err(
            ApiError::bad_request("'balance_nano' must not be negative.")
                .with_param("balance_nano"),
        );
    }
    let user = state.store.create_user(&new).await?;
    if let Some(phc) = &phc {
        state.store.set_password(&user.id, Some(phc)).await?;
    }
    reload(&state).await;
    Ok((StatusCode::CREATED, Json(user)))
}

pub(crate) async fn get_one(
    State(state): State<AppState>,
    p: Caller,
    Id(id): Id,
) -> Result<Json<User>, ApiError> {
    p.require_admin()?;
    Ok(Json(find(&state, &id).await?))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    p: Caller,
    Id(id): Id,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<User>, ApiError> {
    p.require_admin()?;
    let v = read_json(&state, body)?;
    // Absent: unchanged; null: removed; a string: the new password.
    let password = v.get("password").map(|p| p.as_str().map(str::to_string));
    let mut patch: UserPatch = parse(v, USER_PATCH)?;
    let phc = match &password {
        Some(Some(pw)) => Some(Some(hash_password(pw)?)),
        Some(None) => Some(None),
        None => None,
    };
    let cur = find(&state, &id).await?;
    if let Some(n) = &patch.name {
        patch.name = Some(non_empty("name", n)?);
    }
    if let Some(g) = &patch.group {
        patch.group = Some(non_empty("group", g)?);
    }
    let caller_is_root = p.user.role == "root";
    let new_role = patch.role.clone().unwrap_or_else(|| cur.role.clone());
    if !valid_role(&new_role) {
        return Err(bad_role(&new_role));
    }
    let role_changes = new_role != cur.role;
    let disables = patch.enabled == Some(false) && cur.enabled != 0;
    let enables = patch.enabled == Some(true) && cur.enabled == 0;
    if !caller_is_root {
        if role_changes && is_privileged(&new_role) {
            return Err(ApiError::forbidden(
                "Only root may promote a user to admin or root.",
            ));
        }
        if is_privileged(&cur.role) && (role_changes || disables || enables || phc.is_some()) {
            return Err(ApiError::forbidden(
                "Only root may change the role, password or lock of an admin or root account.",
            ));
        }
    }
    if cur.role == "root" && cur.enabled != 0 && (role_changes || disables) {
        let other_roots = state
            .store
            .users(i64::MAX, 0)
            .await?
            .into_iter()
            .filter(|u| u.role == "root" && u.enabled != 0 && u.id != cur.id)
            .count();
        if other_roots == 0 {
            return Err(ApiError::bad_request(
                "This is the last enabled root: it cannot be disabled or demoted. Make another user root first.",
            ));
        }
    }
    let user = state.store.update_user(&id, &patch).await?;
    if let Some(phc) = &phc {
        state.store.set_password(&id, phc.as_deref()).await?;
    }
    reload(&state).await;
    Ok(Json(user))
}

#[derive(Deserialize)]
pub(crate) struct OwnPassword {
    current_password: Option<String>,
    new_password: String,
}

/// Change one's own console password. When one is set, the current one must be given too,
/// so a borrowed session or key cannot take the account over.
pub(crate) async fn change_own_password(
    State(state): State<AppState>,
    p: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let req: OwnPassword = parse(read_json(&state, body)?, OWN_PASSWORD)?;
    if let Some(old) = state.store.password_hash(&p.user.id).await? {
        let given = req.current_password.as_deref().unwrap_or("");
        if !crate::session::password_matches(given, &old) {
            return Err(ApiError::forbidden("The current password is wrong.")
                .with_param("current_password"));
        }
    }
    let phc = hash_password(&req.new_password).map_err(|e| e.with_param("new_password"))?;
    state.store.set_password(&p.user.id, Some(&phc)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(crate) struct Adjust {
    amount_nano: i64,
    reason: String,
}

pub(crate) async fn adjust_balance(
    State(state): State<AppState>,
    p: Caller,
    Id(id): Id,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<User>, ApiError> {
    p.require_admin()?;
    let a: Adjust = parse(read_json(&state, body)?, BALANCE)?;
    if a.amount_nano == 0 {
        return Err(
            ApiError::bad_request("'amount_nano' must not be zero.").with_param("amount_nano")
        );
    }
    let reason = non_empty("reason", &a.reason)?;
    // A deduction may need money this process has leased.
    state.budgets.return_user(&id).await?;
    let user = state
        .store
        .adjust_balance(&id, a.amount_nano, &reason, Some(&p.user.id))
        .await
        .map_err(|e| match ApiError::from(e) {
            e if e.status == StatusCode::BAD_REQUEST => e.with_param("amount_nano"),
            e => e,
        })?;
    reload(&state).await;
    Ok(Json(user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LedgerQuery {
    limit: Option<String>,
}

pub(crate) async fn ledger(
    State(state): State<AppState>,
    p: Caller,
    Id(id): Id,
    q: Result<Query<LedgerQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    p.require_admin()?;
    let q = query(q)?;
    let limit = q_int("limit", q.limit.as_deref())?
        .unwrap_or(100)
        .clamp(1, 1000);
    find(&state, &id).await?;
    let data = state.store.ledger(&id, limit).await?;
    Ok(Json(json!({"data": data})))
}

async fn find(state: &AppState, id: &str) -> Result<User, ApiError> {
    // Money this process leased for the user counts as theirs: flush and give it back first,
    // so balance, used and held are exact.
    state.budgets.return_user(id).await?;
    state
        .store
        .user(id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))
}

fn bad_role(role: &str) -> ApiError {
    ApiError::bad_request(format!("'role' must be root, admin or user, not {role:?}."))
        .with_param("role")
}
