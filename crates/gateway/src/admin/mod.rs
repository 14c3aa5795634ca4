//! The admin API under `/api`: users, keys, channels, prices and the usage log, as JSON,
//! authenticated by an API key exactly like `/v1`. One module per domain; this one holds the
//! route table and what every handler shares: reading a body against a field list (so a
//! mistake is a 400 that names the field), query strings, path ids and the catalog reload.

mod balance;
mod channels;
mod keys;
mod logs;
mod openapi;
mod prices;
mod tasks;
mod users;

use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::ApiError;
use crate::relay::body::{bytes_or_error, json_object};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(users::me))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::get_one).patch(users::update))
        .route("/users/{id}/balance", post(users::adjust_balance))
        .route("/users/{id}/ledger", get(users::ledger))
        .route("/keys", get(keys::list).post(keys::create))
        .route(
            "/keys/{id}",
            get(keys::get_one).patch(keys::update).delete(keys::disable),
        )
        .route("/channels", get(channels::list).post(channels::create))
        .route("/channels/test", post(channels::test_all))
        .route("/channels/kinds", get(channels::kinds))
        .route(
            "/channels/{id}",
            get(channels::get_one)
                .patch(channels::update)
                .delete(channels::delete),
        )
        .route("/channels/{id}/test", post(channels::test_one))
        .route("/channels/{id}/balance", post(balance::refresh))
        .route("/prices", get(prices::list))
        // Model names may contain `/` (and `*` for patterns), hence the catch-all.
        .route(
            "/prices/{*model}",
            get(prices::get_one).put(prices::put).delete(prices::delete),
        )
        .route("/logs", get(logs::list))
        .route("/logs/summary", get(logs::summary))
        .route("/logs/stats", get(logs::stats))
        .route("/tasks", get(tasks::list))
        .route("/tasks/{id}", get(tasks::get_one))
        .route("/tasks/{id}/cancel", post(tasks::cancel))
        .route("/me/webhook-secret", get(tasks::webhook_secret))
        .route("/me/password", post(users::change_own_password))
        .route("/openapi.json", get(openapi::document))
}

/// The JSON type a request field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Str,
    Int,
    Bool,
    /// An array of strings.
    Strs,
    /// An object of string → string.
    StrMap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    Required,
    /// May be absent; `null` counts as absent.
    Optional,
    /// May be absent, or `null` to clear the value (PATCH bodies).
    Nullable,
}

/// One field of a request body: checked by `parse` and described by the OpenAPI document,
/// so the two cannot drift apart.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field(pub &'static str, pub Ty, pub Need, pub &'static str);

impl Ty {
    fn matches(self, v: &Value) -> bool {
        match self {
            Ty::Str => v.is_string(),
            Ty::Int => v.as_i64().is_some(),
            Ty::Bool => v.is_boolean(),
            Ty::Strs => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            Ty::StrMap => v
                .as_object()
                .is_some_and(|o| o.values().all(Value::is_string)),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Ty::Str => "a string",
            Ty::Int => "an integer",
            Ty::Bool => "a boolean",
            Ty::Strs => "an array of strings",
            Ty::StrMap => "an object of strings",
        }
    }
}

/// Check a JSON object against its field list (unknown fields, missing fields, wrong types
/// are each a 400 naming the field), then deserialize it.
pub(crate) fn parse<T: DeserializeOwned>(mut v: Value, spec: &[Field]) -> Result<T, ApiError> {
    let obj = v
        .as_object_mut()
        .ok_or_else(|| ApiError::invalid_json("The request body must be a JSON object."))?;
    if let Some(unknown) = obj.keys().find(|k| !spec.iter().any(|f| f.0 == k.as_str())) {
        let known: Vec<&str> = spec.iter().map(|f| f.0).collect();
        return Err(ApiError::bad_request(format!(
            "Unknown field '{unknown}'; the fields are: {}.",
            known.join(", ")
        ))
        .with_param(unknown));
    }
    for Field(name, ty, need, _) in spec {
        match (obj.get(*name), need) {
            (None | Some(Value::Null), Need::Required) => {
                return Err(
                    ApiError::bad_request(format!("You must provide '{name}'.")).with_param(name)
                )
            }
            (Some(Value::Null), Need::Optional) => {
                obj.remove(*name);
            }
            (None | Some(Value::Null), _) => {}
            (Some(x), _) if !ty.matches(x) => {
                return Err(
                    ApiError::bad_request(format!("'{name}' must be {}.", ty.describe()))
                        .with_param(name),
                )
            }
            _ => {}
        }
    }
    serde_json::from_value(v)
        .map_err(|e| ApiError::bad_request(format!("Invalid request body: {e}")))
}

/// The body as a JSON object (400 on anything else, 413 over the size limit).
pub(crate) fn read_json(
    state: &AppState,
    body: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    json_object(&bytes_or_error(body, state.settings.max_body_bytes)?)
}

/// Like `read_json`, but an empty body is an empty object (bodies that are all optional).
pub(crate) fn read_json_or_empty(
    state: &AppState,
    body: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    let bytes = bytes_or_error(body, state.settings.max_body_bytes)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    json_object(&bytes)
}

/// A query string into `T` (whose unknown fields are refused), as an OpenAI-shaped 400.
pub(crate) fn query<T: DeserializeOwned>(
    q: Result<Query<T>, QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// An optional integer query parameter; empty counts as absent.
pub(crate) fn q_int(name: &str, v: Option<&str>) -> Result<Option<i64>, ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!("'{name}' must be an integer, not {s:?}."))
                .with_param(name)
        }),
    }
}

/// An optional text query parameter; empty counts as absent.
pub(crate) fn q_str(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// `limit`/`offset` for the simple lists: default 100, at most 1000.
pub(crate) fn page(limit: Option<&str>, offset: Option<&str>) -> Result<(i64, i64), ApiError> {
    let limit = q_int("limit", limit)?.unwrap_or(100).clamp(1, 1000);
    let offset = q_int("offset", offset)?.unwrap_or(0).max(0);
    Ok((limit, offset))
}

/// The `{id}` (or `{*model}`) of the path, with a 400 in our format if it cannot be read.
pub(crate) struct Id(pub String);

impl FromRequestParts<AppState> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(s)| Id(s))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// Make a change visible to the request path at once. The write itself has succeeded, so a
/// failed reload is logged, not reported: the periodic refresh will pick the change up.
pub(crate) async fn reload(state: &AppState) {
    if let Err(e) = state.catalog.reload().await {
        tracing::error!(error = %e, "catalog reload after an admin change failed; the periodic refresh will retry");
    }
}

/// For PATCH fields where `null` means "clear": absent → `None`, null → `Some(None)`.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::deserialize(d)?))
}

/// A required text value, trimmed; empty is a 400 naming the field.
pub(crate) fn non_empty(field: &str, v: &str) -> Result<String, ApiError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(
            ApiError::bad_request(format!("'{field}' must not be empty.")).with_param(field),
        );
    }
    Ok(t.to_string())
}

/// Roles, in the words the store uses.
pub(crate) fn valid_role(role: &str) -> bool {
    matches!(role, "root" | "admin" | "user")
}

pub(crate) fn is_privileged(role: &str) -> bool {
    role == "root" || role == "admin"
}
