//! OpenAI wire format: routes, auth, errors and the per-request preamble
//! (body parsing and fault resolution) shared by all handlers.

mod chat;
mod completions;
mod embeddings;
mod media;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::fault::{self, Faults};
use crate::Sim;

/// The key tests use to provoke an upstream authentication failure.
pub const INVALID_KEY: &str = "sk-sim-invalid";

const MODELS: &[&str] = &[
    "gpt-4o-mini",
    "gpt-4o",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "omni-moderation-latest",
    "dall-e-3",
    "tts-1",
    "whisper-1",
];

/// Fixed creation time so model listings are byte-for-byte stable.
const MODEL_CREATED: u64 = 1_700_000_000;

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/v1/models", get(list_models))
        .route("/v1/models/{id}", get(get_model))
        .route("/v1/chat/completions", post(chat::handle))
        .route("/v1/completions", post(completions::handle))
        .route("/v1/embeddings", post(embeddings::handle))
        .route("/v1/moderations", post(media::moderations))
        .route("/v1/images/generations", post(media::images))
        .route("/v1/audio/speech", post(media::speech))
        .route("/v1/audio/transcriptions", post(media::transcriptions))
        .route("/v1/audio/translations", post(media::transcriptions))
        .route(
            "/v1/dashboard/billing/subscription",
            get(billing_subscription),
        )
        .route("/v1/dashboard/billing/usage", get(billing_usage))
        .route_layer(middleware::from_fn(require_key))
        .fallback(not_found)
}

/// OpenAI's error envelope.
pub fn error(
    status: StatusCode,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": param, "code": code}});
    (status, Json(body)).into_response()
}

pub fn bad_request(message: &str, param: Option<&str>) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        message,
        "invalid_request_error",
        param,
        None,
    )
}

/// The error an OpenAI upstream would send with this status.
pub fn fault_error(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (message, kind, code) = match code {
        429 => (
            "Rate limit reached (simulated).",
            "requests",
            Some("rate_limit_exceeded"),
        ),
        401 => (
            "Incorrect API key provided (simulated).",
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
        500..=599 => (
            "The server had an error while processing your request (simulated).",
            "server_error",
            None,
        ),
        _ => ("Simulated error.", "invalid_request_error", None),
    };
    error(status, message, kind, None, code)
}

pub async fn require_key(req: Request, next: Next) -> Response {
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let key = auth
        .and_then(|a| a.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .filter(|key| !key.is_empty());
    match key {
        None => error(
            StatusCode::UNAUTHORIZED,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
            None,
            None,
        ),
        Some(INVALID_KEY) => error(
            StatusCode::UNAUTHORIZED,
            &format!("Incorrect API key provided: {}***", &INVALID_KEY[..9]),
            "invalid_request_error",
            None,
            Some("invalid_api_key"),
        ),
        Some(_) => next.run(req).await,
    }
}

async fn not_found(method: Method, uri: Uri) -> Response {
    let message = format!("Invalid URL ({method} {})", uri.path());
    error(
        StatusCode::NOT_FOUND,
        &message,
        "invalid_request_error",
        None,
        None,
    )
}

/// A parsed request with its effective faults already applied.
pub struct Req {
    pub body: Value,
    /// The model to report: the request's model without any `@spec`.
    pub model: String,
    pub faults: Faults,
}

impl Req {
    pub fn require_model(&self) -> Result<(), Response> {
        if self.model.is_empty() {
            return Err(bad_request(
                "you must provide a model parameter",
                Some("model"),
            ));
        }
        Ok(())
    }

    pub fn u64(&self, key: &str) -> Option<u64> {
        self.body.get(key).and_then(Value::as_u64)
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }

    pub fn flag(&self, key: &str) -> bool {
        self.body.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    /// Whether a stream should end with a usage chunk.
    pub fn stream_usage(&self) -> bool {
        let asked = self.body.pointer("/stream_options/include_usage");
        asked.and_then(Value::as_bool).unwrap_or(false) && !self.faults.no_usage
    }

    /// Reply length in words, before any `max_tokens` limit.
    pub fn words(&self) -> usize {
        self.faults.words.unwrap_or(crate::reply::DEFAULT_WORDS)
    }
}

/// Parse a JSON body and resolve + apply faults (latency, then status).
pub async fn prepare(sim: &Sim, headers: &HeaderMap, body: &[u8]) -> Result<Req, Response> {
    let body: Value = serde_json::from_slice(body).map_err(|_| invalid_json())?;
    if !body.is_object() {
        return Err(invalid_json());
    }
    let raw = body.get("model").and_then(Value::as_str).unwrap_or("");
    let (model, spec) = fault::split_model(raw);
    let faults = sim.faults_for(header_spec(headers), spec);
    let model = model.to_owned();
    apply_faults(&faults).await?;
    Ok(Req {
        body,
        model,
        faults,
    })
}

/// Faults for requests without a JSON body: defaults, header, then `model`.
pub async fn faults_for(sim: &Sim, headers: &HeaderMap, model: &str) -> Result<Faults, Response> {
    let faults = sim.faults_for(header_spec(headers), fault::split_model(model).1);
    apply_faults(&faults).await?;
    Ok(faults)
}

async fn apply_faults(faults: &Faults) -> Result<(), Response> {
    faults.wait_latency().await;
    match faults.status {
        Some(code) => Err(fault_error(code)),
        None => Ok(()),
    }
}

fn header_spec(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-sim-fault").and_then(|v| v.to_str().ok())
}

fn invalid_json() -> Response {
    bad_request(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        None,
    )
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The account's credit in the legacy billing view that OpenAI-compatible relays still serve
/// (and gateways read as a channel's balance).
pub const CREDIT_USD: f64 = 100.0;
/// What each chat completion served costs the account, in cents, so the balance moves.
pub const CHAT_CENTS: f64 = 1.0;

async fn billing_subscription(State(sim): State<Sim>, headers: HeaderMap) -> Response {
    if let Err(resp) = faults_for(&sim, &headers, "").await {
        return resp;
    }
    Json(json!({
        "object": "billing_subscription",
        "has_payment_method": true,
        "soft_limit_usd": CREDIT_USD,
        "hard_limit_usd": CREDIT_USD,
        "system_hard_limit_usd": CREDIT_USD,
        "access_until": 0,
    }))
    .into_response()
}

async fn billing_usage(State(sim): State<Sim>, headers: HeaderMap, uri: Uri) -> Response {
    if let Err(resp) = faults_for(&sim, &headers, "").await {
        return resp;
    }
    let query = uri.query().unwrap_or("");
    if !(query.contains("start_date=") && query.contains("end_date=")) {
        return bad_request("start_date and end_date are required", Some("start_date"));
    }
    let chats = sim.requests("/v1/chat/completions") as f64;
    Json(json!({"object": "list", "total_usage": chats * CHAT_CENTS})).into_response()
}

fn model_object(id: &str) -> Value {
    json!({"id": id, "object": "model", "created": MODEL_CREATED, "owned_by": "switchyard-sim"})
}

async fn list_models(State(sim): State<Sim>, headers: HeaderMap) -> Response {
    if let Err(resp) = faults_for(&sim, &headers, "").await {
        return resp;
    }
    let data: Vec<Value> = MODELS.iter().map(|m| model_object(m)).collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

async fn get_model(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(resp) = faults_for(&sim, &headers, &id).await {
        return resp;
    }
    let (id, _) = fault::split_model(&id);
    if !MODELS.contains(&id) {
        let message = format!("The model '{id}' does not exist");
        return error(
            StatusCode::NOT_FOUND,
            &message,
            "invalid_request_error",
            Some("model"),
            Some("model_not_found"),
        );
    }
    Json(model_object(id)).into_response()
}
