//! Console sign-in: a password (or an API key) for a session cookie.
//!
//! The cookie is `HttpOnly; SameSite=Strict` and holds a random token whose SHA-256 is the
//! session's row. Every write the console makes must also carry the session's CSRF token in
//! `X-CSRF-Token` (the console reads it from the sign-in answer; another site can read
//! neither), so a forged form post or cross-site fetch is refused even where SameSite is not
//! honoured. Passwords are Argon2id PHC strings. Failed sign-ins are throttled per name and
//! address.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header::{COOKIE, SET_COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_store::{generate_key, hash_key, now_ms, NewSession, Session};

use crate::admin::{parse, read_json, Field, Need, Ty};
use crate::auth::{authenticate, caller_ip};
use crate::catalog::UserEntry;
use crate::error::ApiError;
use crate::state::AppState;

pub const COOKIE_NAME: &str = "sy_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session lives a week from its last use.
const LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;
const MIN_PASSWORD: usize = 8;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/session", get(current))
}

pub(crate) const LOGIN: &[Field] = &[
    Field("username", Ty::Str, Need::Optional, "With `password`."),
    Field("password", Ty::Str, Need::Optional, "With `username`."),
    Field(
        "key",
        Ty::Str,
        Need::Optional,
        "An API key instead of a name and password; the session is its owner's.",
    ),
];

#[derive(Deserialize)]
struct Login {
    username: Option<String>,
    password: Option<String>,
    key: Option<String>,
}

/// Hash a new password (Argon2id, random salt), refusing short ones.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::bad_request(format!(
            "The password must be at least {MIN_PASSWORD} characters."
        ))
        .with_param("password"));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("password hashing failed: {e}")))
}

pub fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

fn refused() -> ApiError {
    ApiError::unauthorized("Wrong username or password.")
}

async fn login(
    State(state): State<AppState>,
    parts: Parts,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: Login = parse(read_json(&state, body)?, LOGIN)?;
    let ip = caller_ip(&parts, state.settings.trust_forwarded_for);
    let who = req
        .username
        .as_deref()
        .or(req.key.as_deref().map(|_| "key"));
    let throttle_key = format!(
        "{}|{}",
        who.unwrap_or(""),
        ip.map(|i| i.to_string()).unwrap_or_default()
    );
    state.logins.check(&throttle_key)?;
    let user = match (&req.key, &req.username, &req.password) {
        (Some(key), None, None) => authenticate(&state, Some(key.as_str()), ip)
            .map(|p| p.user)
            .map_err(|_| ApiError::unauthorized("That API key is not valid here.")),
        (None, Some(name), Some(password)) => password_user(&state, name, password).await,
        _ => Err(ApiError::bad_request(
            "Send either 'username' and 'password', or 'key'.",
        )),
    };
    let user = match user {
        Ok(u) => u,
        Err(e) => {
            if e.status == StatusCode::UNAUTHORIZED {
                state.logins.failed(&throttle_key);
            }
            return Err(e);
        }
    };
    state.logins.succeeded(&throttle_key);
    let token = generate_key();
    let csrf = generate_key();
    let ua = parts.headers.get(USER_AGENT).and_then(|v| v.to_str().ok());
    let ip_text = ip.map(|i| i.to_string());
    state
        .store
        .create_session(&NewSession {
            token_hash: &hash_key(&token),
            user_id: &user.id,
            csrf: &csrf,
            expires_at: now_ms() + LIFETIME_MS,
            ip: ip_text.as_deref(),
            user_agent: ua.map(|u| &u[..u.len().min(300)]),
        })
        .await?;
    let cookie = set_cookie(&parts.headers, &state, &token, LIFETIME_MS / 1000);
    let mut resp = Json(session_view(&user, &csrf)).into_response();
    resp.headers_mut().insert(SET_COOKIE, cookie);
    Ok(resp)
}

async fn password_user(
    state: &AppState,
    name: &str,
    password: &str,
) -> Result<std::sync::Arc<UserEntry>, ApiError> {
    let user = state.store.user_by_name(name.trim()).await?;
    let phc = match &user {
        Some(u) => state.store.password_hash(&u.id).await?,
        None => None,
    };
    // Verify against something even for an unknown name, so timing does not tell names apart.
    let ok = password_matches(password, phc.as_deref().unwrap_or(DUMMY_PHC));
    let user = user.filter(|_| ok && phc.is_some()).ok_or_else(refused)?;
    let entry = state.catalog.get().users.get(&user.id).cloned();
    match entry {
        Some(u) if u.enabled => Ok(u),
        _ => Err(ApiError::unauthorized("This account is disabled.")),
    }
}

/// The Argon2id hash of a random string: what an unknown name is checked against.
const DUMMY_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$o5gYT0hCgDPeNtqy5yU5RqZy0B1O3tMxMQzVfL3Q8Ro";

async fn logout(State(state): State<AppState>, parts: Parts) -> Result<Response, ApiError> {
    if let Some(token) = cookie_token(&parts.headers) {
        // Signing out needs the CSRF token too, or any site could sign a user out.
        if let Some(s) = state.store.session(&hash_key(&token)).await? {
            check_csrf(&parts, &s)?;
            state.store.delete_session(&s.token_hash).await?;
        }
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(SET_COOKIE, set_cookie(&parts.headers, &state, "", 0));
    Ok(resp)
}

/// Who is signed in, and the CSRF token to send with writes (the console calls this on load).
async fn current(State(state): State<AppState>, parts: Parts) -> Result<Json<Value>, ApiError> {
    let (user, s) = from_cookie(&state, &parts)
        .await?
        .ok_or_else(|| ApiError::unauthorized("Not signed in."))?;
    Ok(Json(session_view(&user, &s.csrf)))
}

fn session_view(user: &UserEntry, csrf: &str) -> Value {
    json!({
        "user": {"id": user.id, "name": user.name, "role": user.role, "group": user.group},
        "csrf_token": csrf,
    })
}

/// The signed-in user of a request that carries the session cookie, with the CSRF check
/// done for anything but reads. `None` when there is no cookie.
pub async fn from_cookie(
    state: &AppState,
    parts: &Parts,
) -> Result<Option<(std::sync::Arc<UserEntry>, Session)>, ApiError> {
    let Some(token) = cookie_token(&parts.headers) else {
        return Ok(None);
    };
    let expired = || ApiError::unauthorized("Your session has expired; sign in again.");
    let s = state
        .store
        .session(&hash_key(&token))
        .await?
        .ok_or_else(expired)?;
    if !matches!(parts.method, Method::GET | Method::HEAD) {
        check_csrf(parts, &s)?;
    }
    let user = state
        .catalog
        .get()
        .users
        .get(&s.user_id)
        .cloned()
        .filter(|u| u.enabled)
        .ok_or_else(|| ApiError::unauthorized("This account is disabled."))?;
    // Slide the expiry forward at most about once a day per session.
    let now = now_ms();
    if s.expires_at - now < LIFETIME_MS - 24 * 3600 * 1000 {
        state
            .store
            .extend_session(&s.token_hash, now + LIFETIME_MS)
            .await?;
    }
    Ok(Some((user, s)))
}

fn check_csrf(parts: &Parts, s: &Session) -> Result<(), ApiError> {
    let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if sent.is_some_and(|t| constant_eq(t.as_bytes(), s.csrf.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Missing or wrong X-CSRF-Token header: console writes must carry the token from /api/auth/session.",
        ))
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

fn set_cookie(headers: &HeaderMap, state: &AppState, token: &str, max_age: i64) -> HeaderValue {
    // Behind a TLS-terminating proxy the cookie must be Secure; on plain http it cannot be.
    let https = state
        .settings
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https:"))
        || (state.settings.trust_forwarded_for
            && headers
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https")));
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("cookie is ASCII")
}

/// Failed sign-ins per (name, address): after 5 within 10 minutes, further attempts wait.
#[derive(Default)]
pub struct Throttle(Mutex<HashMap<String, (u32, Instant)>>);

const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(600);

impl Throttle {
    fn check(&self, who: &str) -> Result<(), ApiError> {
        let mut m = self.0.lock();
        m.retain(|_, (_, since)| since.elapsed() < WINDOW);
        match m.get(who) {
            Some((n, _)) if *n >= MAX_FAILURES => Err(ApiError::rate_limited(
                "Too many failed sign-ins; try again in a few minutes.",
            )),
            _ => Ok(()),
        }
    }

    fn failed(&self, who: &str) {
        let mut m = self.0.lock();
        let e = m.entry(who.to_string()).or_insert((0, Instant::now()));
        e.0 += 1;
    }

    fn succeeded(&self, who: &str) {
        self.0.lock().remove(who);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(password_matches("correct horse", &phc));
        assert!(!password_matches("wrong horse", &phc));
        assert!(hash_password("short").is_err());
        assert!(
            PasswordHash::new(DUMMY_PHC).is_ok(),
            "the dummy hash must parse"
        );
    }

    #[test]
    fn cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("a=1; sy_session=tok; b=2"));
        assert_eq!(cookie_token(&h).as_deref(), Some("tok"));
        h.insert(COOKIE, HeaderValue::from_static("sy_sessionx=1"));
        assert_eq!(cookie_token(&h), None);
    }
}
