//! Who is calling: the API key (Bearer, `x-api-key`, `x-goog-api-key` or `?key=`) resolved
//! against the in-memory catalog, with the key's own limits checked. The admin API also takes
//! the console's session cookie (`Caller`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderName;
use switchyard_store::{hash_key, now_ms};

use crate::catalog::{KeyEntry, UserEntry};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Principal {
    pub key: Arc<KeyEntry>,
    pub user: Arc<UserEntry>,
}

/// The secret as presented, in any of the ways SDKs send it.
pub fn presented_key(parts: &Parts) -> Option<&str> {
    // Names as constants: a `&str` name is parsed into a `HeaderName` at every look-up.
    const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
    const X_GOOG_API_KEY: HeaderName = HeaderName::from_static("x-goog-api-key");
    let h = |name: &HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(v) = h(&AUTHORIZATION) {
        let v = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .unwrap_or(v);
        return Some(v.trim());
    }
    if let Some(v) = h(&X_API_KEY).or_else(|| h(&X_GOOG_API_KEY)) {
        return Some(v);
    }
    parts
        .uri
        .query()?
        .split('&')
        .find_map(|kv| kv.strip_prefix("key="))
}

/// How a key is shown in an error: enough to recognise, never the secret.
fn masked(secret: &str) -> String {
    let head: String = secret.chars().take(6).collect();
    format!("{head}***")
}

pub fn authenticate(
    state: &AppState,
    secret: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<Principal, ApiError> {
    let secret = secret.filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError::unauthorized(
            "You didn't provide an API key. Send it as `Authorization: Bearer sk-…`.",
        )
    })?;
    let cat = state.catalog.get();
    let key = cat.keys.get(&hash_key(secret)).cloned().ok_or_else(|| {
        ApiError::unauthorized(format!("Incorrect API key provided: {}.", masked(secret)))
    })?;
    if !key.enabled {
        return Err(ApiError::unauthorized("This API key has been disabled."));
    }
    if key.expires_at.is_some_and(|t| t <= now_ms()) {
        return Err(ApiError::unauthorized("This API key has expired."));
    }
    let user = cat
        .users
        .get(&key.user_id)
        .cloned()
        .ok_or_else(|| ApiError::unauthorized("This API key has no owner."))?;
    if !user.enabled {
        return Err(ApiError::unauthorized(
            "The account this API key belongs to is disabled.",
        ));
    }
    if !key.allows_ip(ip) {
        let shown = ip
            .map(|i| i.to_string())
            .unwrap_or_else(|| "unknown".into());
        return Err(ApiError::forbidden(format!(
            "This API key may not be used from {shown}."
        )));
    }
    Ok(Principal { key, user })
}

/// The caller's address: the peer's, or with a trusted proxy in front, the first
/// `X-Forwarded-For` entry.
pub(crate) fn caller_ip(parts: &Parts, trust_forwarded_for: bool) -> Option<IpAddr> {
    let forwarded = || {
        let v = parts.headers.get("x-forwarded-for")?.to_str().ok()?;
        v.split(',').next()?.trim().parse().ok()
    };
    if trust_forwarded_for {
        if let Some(ip) = forwarded() {
            return Some(ip);
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = caller_ip(parts, state.settings.trust_forwarded_for);
        authenticate(state, presented_key(parts), ip)
    }
}

/// Who calls the admin API: a key's owner, or a user signed in to the console. A request
/// that presents a key is judged by the key alone; otherwise by the session cookie.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Arc<UserEntry>,
    /// The key used, when the call came with one (not from the console).
    pub key_id: Option<String>,
}

impl Caller {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.user.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden("This action needs an admin."))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = presented_key(parts).map(str::to_owned);
        if secret.is_none() {
            if let Some((user, _)) = crate::session::from_cookie(state, parts).await? {
                return Ok(Caller { user, key_id: None });
            }
        }
        let ip = caller_ip(parts, state.settings.trust_forwarded_for);
        let p = authenticate(state, secret.as_deref(), ip)?;
        Ok(Caller {
            user: p.user,
            key_id: Some(p.key.id.clone()),
        })
    }
}
