//! Kling (`/v1/videos/text2video`, `/v1/videos/image2video`): HS256 JWT
//! auth, `{code, message, request_id, data}` envelopes with times in ms,
//! states submitted → processing → succeed/failed, and tasks polled on the
//! family they were created on.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{bearer, either, parse_json, poll_faults, prepare, unix_ms, Kind, NewTask, Phase};
use super::{Prepared, Task};
use crate::Sim;

/// The secret key the simulator verifies Kling JWTs with (any access key
/// may be the `iss`). A gateway channel for the sim is `<any>|sim-kling-secret`.
pub const SECRET: &str = "sim-kling-secret";

const DEFAULT_MODEL: &str = "kling-v1";
const DURATIONS: &[&str] = &["5", "10"];
const MAX_PROMPT_CHARS: usize = 2500;
const ASPECT_RATIOS: &[&str] = &["16:9", "9:16", "1:1"];
const MODES: &[&str] = &["std", "pro"];

/// Kling's service codes for the errors the simulator can produce.
const CODE_AUTH: u32 = 1000;
const CODE_AUTH_EMPTY: u32 = 1001;
const CODE_AUTH_INVALID: u32 = 1002;
const CODE_AUTH_NOT_YET_VALID: u32 = 1003;
const CODE_AUTH_EXPIRED: u32 = 1004;
const CODE_PARAMS: u32 = 1201;
const CODE_NOT_FOUND: u32 = 1203;

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/v1/videos/text2video", post(text2video))
        .route("/v1/videos/image2video", post(image2video))
        .route("/v1/videos/text2video/{id}", get(fetch_text))
        .route("/v1/videos/image2video/{id}", get(fetch_image))
        .route_layer(middleware::from_fn(auth))
}

/// Kling's error envelope, with the service code its HTTP status implies.
pub fn error(status: StatusCode, message: &str) -> Response {
    let code = match status.as_u16() {
        400 => CODE_PARAMS,
        401 => CODE_AUTH,
        404 => CODE_NOT_FOUND,
        429 => 1302,
        503 => 5001,
        504 => 5002,
        _ => 5000,
    };
    error_with(status, code, message)
}

fn error_with(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({"code": code, "message": message, "request_id": request_id()});
    (status, Json(body)).into_response()
}

fn bad_request(message: &str) -> Response {
    error_with(StatusCode::BAD_REQUEST, CODE_PARAMS, message)
}

/// Errors carry a request id but no sim handle; a process-wide counter
/// hashed with the clock is unique enough for a log line.
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut hash = Sha256::new();
    hash.update(unix_ms().to_le_bytes());
    hash.update(NEXT.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    uuid_from(&hash.finalize())
}

fn uuid_from(bytes: &[u8]) -> String {
    let h = hex::encode(&bytes[..16]);
    let parts = [&h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]];
    parts.join("-")
}

async fn auth(req: Request, next: Next) -> Response {
    let now = unix_ms() / 1000;
    let verdict = match bearer(req.headers()) {
        None => Err(Reject::Empty),
        Some(token) => verify(token, SECRET.as_bytes(), now),
    };
    match verdict {
        Ok(()) => next.run(req).await,
        Err(reject) => error_with(StatusCode::UNAUTHORIZED, reject.code(), &reject.message()),
    }
}

/// Why a token was refused; each maps to Kling's own 100x code.
#[derive(Debug, PartialEq, Eq)]
enum Reject {
    Empty,
    Malformed(&'static str),
    Signature,
    NotYetValid,
    Expired,
}

impl Reject {
    fn code(&self) -> u32 {
        match self {
            Reject::Empty => CODE_AUTH_EMPTY,
            Reject::Malformed(_) => CODE_AUTH_INVALID,
            Reject::Signature => CODE_AUTH,
            Reject::NotYetValid => CODE_AUTH_NOT_YET_VALID,
            Reject::Expired => CODE_AUTH_EXPIRED,
        }
    }

    fn message(&self) -> String {
        match self {
            Reject::Empty => "Authorization is empty".to_owned(),
            Reject::Malformed(why) => format!("Authorization is invalid: {why}"),
            Reject::Signature => "Authentication failed: signature mismatch".to_owned(),
            Reject::NotYetValid => "Authorization is not yet valid".to_owned(),
            Reject::Expired => "Authorization has expired".to_owned(),
        }
    }
}

/// Verify an HS256 JWT the way Kling does: signature over `header.payload`,
/// then `iss` present, `nbf` reached and `exp` not passed (unix seconds).
fn verify(token: &str, secret: &[u8], now: u64) -> Result<(), Reject> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Reject::Malformed("not a JWT"));
    };
    let head = decode_json(header).ok_or(Reject::Malformed("bad header"))?;
    if head.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(Reject::Malformed("alg must be HS256"));
    }
    let signature = decode(signature).ok_or(Reject::Malformed("bad signature encoding"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| Reject::Signature)?;
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| Reject::Signature)?;
    let claims = decode_json(payload).ok_or(Reject::Malformed("bad payload"))?;
    check_claims(&claims, now)
}

fn check_claims(claims: &Value, now: u64) -> Result<(), Reject> {
    if !claims.get("iss").is_some_and(Value::is_string) {
        return Err(Reject::Malformed("iss (the access key) is required"));
    }
    let time = |key| claims.get(key).and_then(Value::as_f64);
    let exp = time("exp").ok_or(Reject::Malformed("exp is required"))?;
    let nbf = time("nbf").ok_or(Reject::Malformed("nbf is required"))?;
    let now = now as f64;
    if nbf > now {
        return Err(Reject::NotYetValid);
    }
    if exp <= now {
        return Err(Reject::Expired);
    }
    Ok(())
}

/// Base64url without padding, as JWTs use; tolerate stray padding.
fn decode(part: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()
}

fn decode_json(part: &str) -> Option<Value> {
    serde_json::from_slice(&decode(part)?).ok()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Text,
    Image,
}

impl Family {
    fn kind(self) -> Kind {
        match self {
            Family::Text => Kind::KlingText,
            Family::Image => Kind::KlingImage,
        }
    }
}

async fn text2video(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    either(submit(&sim, &headers, &body, Family::Text).await)
}

async fn image2video(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    either(submit(&sim, &headers, &body, Family::Image).await)
}

async fn submit(
    sim: &Sim,
    headers: &HeaderMap,
    body: &[u8],
    family: Family,
) -> Result<Response, Response> {
    let body = parse_json(body, error)?;
    // `model` is the legacy name of `model_name`.
    let raw_model = ["model_name", "model"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .unwrap_or("")
        .to_owned();
    let req = prepare(sim, headers, body, &raw_model, error).await?;
    let (prompt, duration) = validate(&req, family)?;
    let tasks = sim.tasks();
    let mut new = NewTask::new(tasks.digits(18), family.kind(), &req, prompt);
    if new.model.is_empty() {
        new.model = DEFAULT_MODEL.to_owned();
    }
    new.request = json!({ "duration": duration });
    new.external_id = req.str("external_task_id").map(str::to_owned);
    let task = tasks.submit(new);
    Ok(envelope(tasks.uuid(), data(&task, false)))
}

/// The prompt and the duration, after the checks Kling makes (code 1201).
fn validate(req: &Prepared, family: Family) -> Result<(&str, &str), Response> {
    let prompt = match (req.body.get("prompt"), family) {
        (Some(Value::String(p)), _) if !p.is_empty() => p.as_str(),
        (None | Some(Value::String(_)), Family::Image) => "",
        _ => return Err(bad_request("prompt is required and must be a string")),
    };
    for key in ["prompt", "negative_prompt"] {
        let text = req.str(key).unwrap_or("");
        if text.chars().count() > MAX_PROMPT_CHARS {
            let message = format!("{key} must not exceed {MAX_PROMPT_CHARS} characters");
            return Err(bad_request(&message));
        }
    }
    if family == Family::Image {
        check_image(req.body.get("image"), "image", true)?;
        check_image(req.body.get("image_tail"), "image_tail", false)?;
    }
    let duration = match req.body.get("duration") {
        None => DURATIONS[0],
        Some(Value::String(d)) if DURATIONS.contains(&d.as_str()) => d.as_str(),
        Some(_) => return Err(bad_request("duration must be the string \"5\" or \"10\"")),
    };
    one_of(req, "aspect_ratio", ASPECT_RATIOS)?;
    one_of(req, "mode", MODES)?;
    let cfg = req.body.get("cfg_scale");
    if cfg.is_some_and(|c| !c.as_f64().is_some_and(|c| (0.0..=1.0).contains(&c))) {
        return Err(bad_request("cfg_scale must be a number from 0 to 1"));
    }
    if req
        .body
        .get("external_task_id")
        .is_some_and(|e| !e.is_string())
    {
        return Err(bad_request("external_task_id must be a string"));
    }
    Ok((prompt, duration))
}

/// A URL or raw base64; Kling rejects a `data:` URI prefix.
fn check_image(image: Option<&Value>, key: &str, required: bool) -> Result<(), Response> {
    match image {
        None if !required => Ok(()),
        Some(Value::String(s)) if s.starts_with("data:") => Err(bad_request(&format!(
            "{key} must be a URL or raw base64 without a data: prefix"
        ))),
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
        _ => Err(bad_request(&format!(
            "{key} is required: an image URL or raw base64"
        ))),
    }
}

fn one_of(req: &Prepared, key: &str, allowed: &[&str]) -> Result<(), Response> {
    match req.body.get(key) {
        None => Ok(()),
        Some(Value::String(v)) if allowed.contains(&v.as_str()) => Ok(()),
        Some(_) => Err(bad_request(&format!(
            "{key} must be one of {}",
            allowed.join(", ")
        ))),
    }
}

fn envelope(request_id: String, data: Value) -> Response {
    let body = json!({"code": 0, "message": "SUCCEED", "request_id": request_id, "data": data});
    Json(body).into_response()
}

/// The task data; a query adds the status message and, once it succeeded,
/// the videos.
fn data(task: &Task, query: bool) -> Value {
    let status = match task.phase() {
        Phase::Queued => "submitted",
        Phase::Running(_) => "processing",
        Phase::Succeeded => "succeed",
        Phase::Failed | Phase::Cancelled => "failed",
    };
    let mut info = json!({});
    if let Some(ext) = &task.external_id {
        info["external_task_id"] = json!(ext);
    }
    let mut data = json!({
        "task_id": task.id,
        "task_status": status,
        "task_info": info,
        "created_at": task.created_ms,
        "updated_at": task.updated_ms(),
    });
    if !query {
        return data;
    }
    data["task_status_msg"] = json!(task.failure.as_deref().unwrap_or(""));
    if status == "succeed" {
        let video = json!({
            "id": uuid_from(&Sha256::digest(task.id.as_bytes())),
            "url": task.file_url("video.mp4"),
            "duration": task.request["duration"],
        });
        data["task_result"] = json!({ "videos": [video] });
    }
    data
}

async fn fetch_text(sim: State<Sim>, headers: HeaderMap, id: Path<String>) -> Response {
    fetch(sim, headers, id, Family::Text).await
}

async fn fetch_image(sim: State<Sim>, headers: HeaderMap, id: Path<String>) -> Response {
    fetch(sim, headers, id, Family::Image).await
}

/// A task is found only on the family it was created on, as upstream.
async fn fetch(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(id): Path<String>,
    family: Family,
) -> Response {
    if let Err(resp) = poll_faults(&sim, &headers, error).await {
        return resp;
    }
    match sim.tasks().get(family.kind(), &id) {
        Some(task) => envelope(sim.tasks().uuid(), data(&task, true)),
        None => error_with(StatusCode::NOT_FOUND, CODE_NOT_FOUND, "task not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_750_000_000;

    fn sign(header: &Value, claims: &Value, secret: &str) -> String {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let signing = format!("{}.{}", enc(header), enc(claims));
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(signing.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing}.{sig}")
    }

    fn token(claims: Value) -> String {
        sign(&json!({"alg": "HS256", "typ": "JWT"}), &claims, SECRET)
    }

    #[test]
    fn accepts_a_kling_style_token() {
        let t = token(json!({"iss": "ak", "exp": NOW + 1800, "nbf": NOW - 5}));
        assert_eq!(verify(&t, SECRET.as_bytes(), NOW), Ok(()));
    }

    #[test]
    fn rejects_with_kling_codes() {
        let check = |t: &str| verify(t, SECRET.as_bytes(), NOW).unwrap_err().code();
        let good = json!({"iss": "ak", "exp": NOW + 60, "nbf": NOW - 5});
        let wrong_key = sign(&json!({"alg": "HS256"}), &good, "other-secret");
        assert_eq!(check(&wrong_key), 1000);
        assert_eq!(check("abc"), 1002);
        assert_eq!(check(&token(json!({"exp": NOW + 60, "nbf": NOW}))), 1002);
        assert_eq!(check(&token(json!({"iss": "ak", "nbf": NOW}))), 1002);
        let early = json!({"iss": "ak", "exp": NOW + 60, "nbf": NOW + 30});
        assert_eq!(check(&token(early)), 1003);
        let late = json!({"iss": "ak", "exp": NOW, "nbf": NOW - 60});
        assert_eq!(check(&token(late)), 1004);
        let none_alg = sign(&json!({"alg": "none"}), &good, SECRET);
        assert_eq!(check(&none_alg), 1002);
        assert_eq!(Reject::Empty.code(), 1001);
    }
}
