//! The Anthropic and Gemini front doors: their SDKs' requests decoded into the canonical
//! OpenAI chat request and run through the same relay as `/v1/chat/completions`, to any
//! channel; answers, streams and errors go back in the caller's own format.
//!
//! - `POST /v1/messages` (and `/v1/messages/count_tokens`), keyed by `x-api-key` or Bearer;
//!   `anthropic-version` and `anthropic-beta` are passed on to Anthropic channels.
//! - `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent` (SSE with
//!   `?alt=sse`, else one JSON array) and `:countTokens`, keyed by `x-goog-api-key` or
//!   `?key=` (also under `/v1/models/…`, for SDKs set to the v1 API);
//!   `GET /v1beta/models[/{model}]`.

use std::time::Instant;

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};
use switchyard_wire::{self as wire, Format};

use super::body::{bytes_or_error, json_object, optional_int, RequestId};
use super::endpoints::{models_for, serves};
use super::{run, Call, Meter, Payload, CHAT};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::meter;
use crate::price::Usage;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_message_tokens))
        .route("/v1beta/models", get(gemini_models))
        .route(
            "/v1beta/models/{target}",
            get(gemini_model).post(gemini_action),
        )
}

/// Headers an Anthropic channel should see as the caller sent them.
const ANTHROPIC_HEADERS: &[&str] = &["anthropic-version", "anthropic-beta"];

/// What every front-door call shares, read before the body.
struct Door {
    state: AppState,
    principal: Principal,
    request_id: String,
    started: Instant,
}

impl Door {
    fn call(
        self,
        caller: Format,
        model: String,
        stream: bool,
        canonical: Value,
        native: Value,
        estimate: Usage,
    ) -> (AppState, Call) {
        let call = Call {
            principal: self.principal,
            request_id: self.request_id,
            endpoint: CHAT,
            model,
            stream,
            wants_stream_usage: false,
            payload: Payload::Json(canonical),
            estimate,
            meter: Meter::Tokens,
            started: self.started,
            caller,
            native: Some(native),
            forward: Vec::new(),
        };
        (self.state, call)
    }
}

fn door(state: AppState, principal: Principal, rid: RequestId) -> Door {
    Door {
        state,
        principal,
        request_id: rid.0,
        started: Instant::now(),
    }
}

fn stream_flag(v: &Value) -> Result<bool, ApiError> {
    match v.get("stream") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::bad_request(
            "stream: Input should be a valid boolean",
        )),
    }
}

fn not_task_model(state: &AppState, model: &str) -> Result<(), ApiError> {
    if crate::task::submit::is_task_model(&state.catalog.get(), model) {
        return Err(ApiError::bad_request(format!(
            "`{model}` makes videos as tasks; ask for it through /v1/chat/completions or the task APIs."
        )));
    }
    Ok(())
}

// --- Anthropic ----------------------------------------------------------------------------

async fn messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    principal: Result<Principal, ApiError>,
    Extension(rid): Extension<RequestId>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let answer = async {
        let d = door(state, principal?, rid);
        let body = bytes_or_error(body, d.state.settings.max_body_bytes)?;
        let native = json_object(&body)?;
        let canonical =
            wire::anthropic::request_to_openai(&native).map_err(ApiError::bad_request)?;
        let model = canonical["model"].as_str().unwrap_or_default().to_string();
        not_task_model(&d.state, &model)?;
        let max_tokens = optional_int(&native, "max_tokens")?.ok_or_else(|| {
            ApiError::bad_request("max_tokens: Field required").with_param("max_tokens")
        })?;
        let stream = stream_flag(&native)?;
        let estimate = Usage {
            input: body.len() as i64,
            output: max_tokens,
            ..Default::default()
        };
        let (state, mut call) = d.call(
            Format::Anthropic,
            model,
            stream,
            canonical,
            native,
            estimate,
        );
        call.forward = ANTHROPIC_HEADERS
            .iter()
            .filter_map(|name| Some((HeaderName::from_static(name), headers.get(*name)?.clone())))
            .collect();
        run(&state, call).await
    };
    answer.await.unwrap_or_else(|e| e.render(Format::Anthropic))
}

/// `POST /v1/messages/count_tokens`: the gateway's own count (o200k), free of charge.
async fn count_message_tokens(principal: Result<Principal, ApiError>, body: Bytes) -> Response {
    let count = || -> Result<Value, ApiError> {
        principal?;
        let native = json_object(&body)?;
        let canonical =
            wire::anthropic::request_to_openai(&native).map_err(ApiError::bad_request)?;
        Ok(json!({"input_tokens": meter::count_tokens(&meter::request_text(&canonical))}))
    };
    match count() {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.render(Format::Anthropic),
    }
}

// --- Gemini -------------------------------------------------------------------------------

fn query_has(uri: &Uri, pair: &str) -> bool {
    uri.query()
        .is_some_and(|q| q.split('&').any(|kv| kv == pair))
}

pub(super) async fn gemini_action(
    State(state): State<AppState>,
    Path(target): Path<String>,
    uri: Uri,
    principal: Result<Principal, ApiError>,
    Extension(rid): Extension<RequestId>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let answer = async {
        let d = door(state, principal?, rid);
        let (model, action) = target
            .rsplit_once(':')
            .ok_or_else(|| ApiError::not_found(&format!("Method for models/{target}")))?;
        let body = bytes_or_error(body, d.state.settings.max_body_bytes)?;
        let native = json_object(&body)?;
        let (stream, sse) = match action {
            "generateContent" => (false, false),
            "streamGenerateContent" => (true, query_has(&uri, "alt=sse")),
            "countTokens" => {
                let inner = native.get("generateContentRequest").unwrap_or(&native);
                let canonical = wire::gemini::request_to_openai(inner, model, false)
                    .map_err(ApiError::bad_request)?;
                let n = meter::count_tokens(&meter::request_text(&canonical));
                return Ok(Json(json!({"totalTokens": n})).into_response());
            }
            _ => {
                return Err(ApiError::not_found(&format!("Method {action}")));
            }
        };
        let canonical = wire::gemini::request_to_openai(&native, model, stream && sse)
            .map_err(ApiError::bad_request)?;
        not_task_model(&d.state, model)?;
        let output = wire::openai::max_tokens(&canonical)
            .unwrap_or(d.state.settings.default_max_output_tokens);
        let n = canonical
            .get("n")
            .and_then(Value::as_i64)
            .unwrap_or(1)
            .max(1);
        let estimate = Usage {
            input: body.len() as i64,
            output: output.saturating_mul(n),
            ..Default::default()
        };
        let (state, call) = d.call(
            Format::Gemini,
            model.to_string(),
            stream && sse,
            canonical,
            native,
            estimate,
        );
        let resp = run(&state, call).await?;
        if stream && !sse {
            // Without `alt=sse` Google streams one JSON array; the whole answer is its one item.
            return Ok(as_array(resp).await);
        }
        Ok(resp)
    };
    answer.await.unwrap_or_else(|e| e.render(Format::Gemini))
}

async fn as_array(resp: Response) -> Response {
    let status = resp.status();
    match axum::body::to_bytes(resp.into_body(), usize::MAX).await {
        Ok(b) => {
            let item: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
            (status, Json(json!([item]))).into_response()
        }
        Err(e) => ApiError::internal(e).render(Format::Gemini),
    }
}

async fn gemini_models(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
) -> Response {
    match principal {
        Ok(p) => Json(wire::gemini::model_list(&models_for(&state, &p))).into_response(),
        Err(e) => e.render(Format::Gemini),
    }
}

async fn gemini_model(
    State(state): State<AppState>,
    Path(model): Path<String>,
    principal: Result<Principal, ApiError>,
) -> Response {
    match principal {
        Ok(p) if serves(&state, &p, &model) => {
            Json(wire::gemini::model_object(&model)).into_response()
        }
        Ok(_) => ApiError::model_not_found(&model).render(Format::Gemini),
        Err(e) => e.render(Format::Gemini),
    }
}
