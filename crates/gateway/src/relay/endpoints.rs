//! The OpenAI-compatible endpoints. Each reads the caller's request, works out the model, the
//! most it can cost and how to meter it, and hands a `Call` to the relay pipeline.

use std::time::Instant;

use axum::extract::rejection::BytesRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};
use switchyard_wire::{self as wire, Format};

use super::body::{
    bytes_or_error, form_parts, json_head, json_object, optional_int, optional_int_member,
    required_member, required_str, Head, RequestId,
};
use super::{run, Call, Meter, Payload};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::price::{Estimate, Usage};
use crate::state::AppState;

/// Full paths, not a `nest("/v1", …)`: a nested router costs every request a second route
/// lookup, a prefix strip and an extension (about 2% of the gateway's instructions).
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/models", get(list_models))
        // POST: Gemini's SDKs with api_version "v1" (`/v1/models/{model}:generateContent`).
        .route(
            "/v1/models/{model}",
            get(get_model).post(super::fronts::gemini_action),
        )
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/completions", post(completions))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/moderations", post(moderations))
        .route("/v1/images/generations", post(images))
        .route("/v1/audio/speech", post(speech))
        .route("/v1/audio/transcriptions", post(transcriptions))
        .route("/v1/audio/translations", post(translations))
        .route(
            "/v1/dashboard/billing/subscription",
            get(billing_subscription),
        )
        .route("/v1/dashboard/billing/usage", get(billing_usage))
        .route("/dashboard/billing/subscription", get(billing_subscription))
        .route("/dashboard/billing/usage", get(billing_usage))
}

struct Incoming {
    state: AppState,
    principal: Principal,
    request_id: String,
    started: Instant,
}

impl Incoming {
    /// Run a call whose usage is known from the request alone (images, speech, audio files).
    async fn run_fixed(
        self,
        endpoint: &'static str,
        model: String,
        payload: Payload,
        usage: Usage,
    ) -> Result<Response, ApiError> {
        let (state, call) = self.call(endpoint, model, payload, usage, Meter::Fixed(usage));
        run(&state, call).await
    }

    fn call(
        self,
        endpoint: &'static str,
        model: String,
        payload: Payload,
        estimate: Estimate,
        meter: Meter,
    ) -> (AppState, Call) {
        let call = Call {
            principal: self.principal,
            request_id: self.request_id,
            endpoint,
            model,
            stream: false,
            wants_stream_usage: false,
            payload,
            estimate,
            meter,
            started: self.started,
            caller: Format::OpenAi,
            native: None,
            forward: Vec::new(),
        };
        (self.state, call)
    }
}

fn incoming(state: AppState, principal: Principal, rid: RequestId) -> Incoming {
    Incoming {
        state,
        principal,
        request_id: rid.0,
        started: Instant::now(),
    }
}

/// The most output a request can ask for: `n` × its token cap (or the gateway's default).
fn output_cap(state: &AppState, head: &Head) -> Result<i64, ApiError> {
    let int = |v: &Option<Value>, name| optional_int_member(v.as_ref(), name);
    let n = int(&head.n, "n")?.unwrap_or(1).max(1);
    let max = match int(&head.max_completion_tokens, "max_completion_tokens")? {
        Some(m) => Some(m),
        None => int(&head.max_tokens, "max_tokens")?,
    };
    Ok(n.saturating_mul(max.unwrap_or(state.settings.default_max_output_tokens)))
}

/// Streams always ask the provider for usage, so billing never has to guess; the `bool`
/// says whether the caller asked too, to hide the extra chunk from those who did not.
/// `head` is the body's `json_head`. The usual body, without `stream_options`, gains it as
/// its first member, spliced into the caller's bytes; only one with other stream options
/// is parsed whole and rewritten.
fn ask_for_stream_usage(head: &Head, body: Bytes) -> Result<(Payload, bool), ApiError> {
    let wanted = head
        .stream_options
        .as_ref()
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        == Some(true);
    if wanted {
        return Ok((Payload::raw(body), true));
    }
    if head.stream_options.is_none() {
        return Ok((Payload::raw(with_first_member(&body, STREAM_USAGE)), false));
    }
    let mut whole = json_object(&body)?;
    match whole
        .get_mut("stream_options")
        .and_then(Value::as_object_mut)
    {
        Some(o) => {
            o.insert("include_usage".into(), Value::Bool(true));
        }
        None => whole["stream_options"] = json!({"include_usage": true}),
    }
    Ok((Payload::Json(whole), false))
}

const STREAM_USAGE: &[u8] = br#""stream_options":{"include_usage":true}"#;

/// A JSON object's bytes with `member` (`"key":value`) put first.
fn with_first_member(object: &[u8], member: &[u8]) -> Bytes {
    let body = object.trim_ascii();
    let rest = &body[1..]; // after the `{` json_head checked for
    let mut out = Vec::with_capacity(body.len() + member.len() + 1);
    out.push(b'{');
    out.extend_from_slice(member);
    if !rest.trim_ascii_start().starts_with(b"}") {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    Bytes::from(out)
}

/// Chat and completions: the call, checked and priced from the body's `json_head`; the body
/// itself goes on as the caller's bytes unless it must change. Not `async`: the head is
/// gone before the call runs, so the request's future neither carries nor copies it.
fn text_call(
    inc: Incoming,
    endpoint: &'static str,
    body: Bytes,
    head: Head,
    needs: &str,
) -> Result<(AppState, Call), ApiError> {
    let model = required_member(head.model.as_ref(), "model")?.to_owned();
    if head.needed(needs).is_none() {
        return Err(
            ApiError::bad_request(format!("you must provide a {needs} parameter"))
                .with_param(needs),
        );
    }
    if endpoint == "/v1/chat/completions" && !head.messages.as_ref().is_some_and(Value::is_array) {
        return Err(ApiError::bad_request("'messages' must be an array").with_param("messages"));
    }
    let stream = match &head.stream {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::bad_request("'stream' must be a boolean").with_param("stream"))
        }
    };
    // Text tokens never outnumber bytes, so the body's length bounds the input.
    let estimate = Usage {
        input: body.len() as i64,
        output: output_cap(&inc.state, &head)?,
        ..Default::default()
    };
    // A stream's body gains `stream_options`; any other goes on exactly as the caller's.
    let (payload, wants_usage) = if stream {
        ask_for_stream_usage(&head, body)?
    } else {
        (Payload::raw(body), false)
    };
    let (state, mut call) = inc.call(endpoint, model, payload, estimate, Meter::Tokens);
    call.stream = stream;
    call.wants_stream_usage = wants_usage;
    Ok((state, call))
}

pub(super) async fn chat_completions(
    State(state): State<AppState>,
    principal: Principal,
    Extension(rid): Extension<RequestId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes_or_error(body, state.settings.max_body_bytes)?;
    let head = json_head(&body)?;
    // Video (and later music) models answer through the task engine, in chat format.
    let model = head
        .model
        .as_ref()
        .and_then(Value::as_str)
        .unwrap_or_default();
    if crate::task::submit::is_task_model(&state.catalog.get(), model) {
        // Boxed: the task engine's future is large, and would otherwise be part of (and
        // copied with) every chat request's.
        return Box::pin(crate::task::chat::handle(
            state,
            principal,
            json_object(&body)?,
        ))
        .await;
    }
    let (state, call) = text_call(
        incoming(state, principal, rid),
        "/v1/chat/completions",
        body,
        head,
        "messages",
    )?;
    run(&state, call).await
}

async fn completions(
    State(state): State<AppState>,
    principal: Principal,
    Extension(rid): Extension<RequestId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes_or_error(body, state.settings.max_body_bytes)?;
    let head = json_head(&body)?;
    let (state, call) = text_call(
        incoming(state, principal, rid),
        "/v1/completions",
        body,
        head,
        "prompt",
    )?;
    run(&state, call).await
}

/// Input-only endpoints (embeddings, moderations): usage is input tokens.
async fn input_only(
    inc: Incoming,
    endpoint: &'static str,
    body: Bytes,
    default_model: Option<&str>,
) -> Result<Response, ApiError> {
    let mut v = json_object(&body)?;
    if v.get("input").is_none() {
        return Err(
            ApiError::bad_request("you must provide an input parameter").with_param("input")
        );
    }
    let model = match (v.get("model"), default_model) {
        (None, Some(d)) => {
            v["model"] = Value::String(d.into());
            d.to_string()
        }
        _ => required_str(&v, "model")?.to_string(),
    };
    let estimate = Usage {
        input: body.len() as i64,
        ..Default::default()
    };
    let (state, call) = inc.call(endpoint, model, Payload::Json(v), estimate, Meter::Tokens);
    run(&state, call).await
}

async fn embeddings(
    State(state): State<AppState>,
    principal: Principal,
    Extension(rid): Extension<RequestId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes_or_error(body, state.settings.max_body_bytes)?;
    input_only(
        incoming(state, principal, rid),
        "/v1/embeddings",
        body,
        None,
    )
    .await
}

async fn moderations(
    State(state): State<AppState>,
    principal: Principal,
    Extension(rid): Extension<RequestId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes_or_error(body, state.settings.max_body_bytes)?;
    input_only(
        incoming(state, principal, rid),
        "/v1/moderations",
        body,
        Some("omni-moderation-latest"),
    )
    .await
}

async fn images(
    State(state): State<AppState>,
    principal: Principal,
    Extension(rid): Extension<RequestId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes_or_error(body, state.settings.max_body_bytes)?;
    let mut v = json_object(&body)?;
    required_str(&v, "prompt")?;
    if v.get("model").is_none() {
        v["model"] = "dall-e-2".into();
    }
    let model = required_str(&v, "model")?.to_string();
    let n = optional_int(&v, "n")?.unwrap_or(1).clamp(1, 10);
    let usage = Usage {
        calls: n,
        ..Default::default()
    };
    incoming(state, principal, rid)
        .run_fixed("/v1/images/generations", model, Payload::Json(v), usage)
        .await
}

async fn speech(
    State(state): State<AppState>,
    principal: Principal,
    Extension(rid): Extension<RequestId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = bytes_or_error(body, state.settings.max_body_bytes)?;
    let v = json_object(&body)?;
    let model = required_str(&v, "model")?.to_string();
    // Speech is priced per character of input (as input "tokens") plus any per-call price.
    let chars = required_str(&v, "input")?.chars().count() as i64;
    let usage = Usage {
        input: chars,
        calls: 1,
        ..Default::default()
    };
    incoming(state, principal, rid)
        .run_fixed("/v1/audio/speech", model, Payload::Json(v), usage)
        .await
}

async fn transcriptions(
    State(state): State<AppState>,
    principal: Principal,
    Extension(rid): Extension<RequestId>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    audio_upload(state, principal, rid, form, "/v1/audio/transcriptions").await
}

async fn translations(
    State(state): State<AppState>,
    principal: Principal,
    Extension(rid): Extension<RequestId>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    audio_upload(state, principal, rid, form, "/v1/audio/translations").await
}

/// An audio file to turn into text (transcription or translation): one call, priced per call.
async fn audio_upload(
    state: AppState,
    principal: Principal,
    rid: RequestId,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
    endpoint: &'static str,
) -> Result<Response, ApiError> {
    let form = form.map_err(|e| {
        ApiError::bad_request(format!("Expected a multipart form: {}", e.body_text()))
    })?;
    let parts = form_parts(form, state.settings.max_body_bytes).await?;
    let model = parts
        .iter()
        .find(|p| p.name == "model")
        .map(|p| String::from_utf8_lossy(&p.data).trim().to_string())
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("you must provide a model parameter").with_param("model")
        })?;
    if !parts.iter().any(|p| p.name == "file") {
        return Err(ApiError::bad_request("you must provide a file parameter").with_param("file"));
    }
    let usage = Usage {
        calls: 1,
        ..Default::default()
    };
    incoming(state, principal, rid)
        .run_fixed(endpoint, model, Payload::Form(parts), usage)
        .await
}

/// Which SDK is asking, by how it sent its key: Anthropic's (`x-api-key` with
/// `anthropic-version`), Google's (`x-goog-api-key` or `?key=`), else OpenAI's.
pub(super) fn listing_format(headers: &HeaderMap, uri: &Uri) -> Format {
    if headers.contains_key(header::AUTHORIZATION) {
        Format::OpenAi
    } else if headers.contains_key("x-api-key") && headers.contains_key("anthropic-version") {
        Format::Anthropic
    } else if headers.contains_key("x-goog-api-key")
        || uri
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("key=")))
    {
        Format::Gemini
    } else {
        Format::OpenAi
    }
}

/// The models this key may use, in the caller's list shape.
pub(super) fn models_for(state: &AppState, principal: &Principal) -> Vec<String> {
    state
        .catalog
        .get()
        .models_for_group(&principal.user.group)
        .into_iter()
        .filter(|m| principal.key.allows_model(m))
        .collect()
}

/// Whether this key may use `model` through some channel of its group.
pub(super) fn serves(state: &AppState, principal: &Principal, model: &str) -> bool {
    let cat = state.catalog.get();
    let served = cat
        .channels
        .iter()
        .any(|c| c.in_group(&principal.user.group) && c.serves(model));
    served && principal.key.allows_model(model)
}

async fn list_models(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    principal: Result<Principal, ApiError>,
) -> Response {
    let format = listing_format(&headers, &uri);
    let principal = match principal {
        Ok(p) => p,
        Err(e) => return e.render(format),
    };
    let models = models_for(&state, &principal);
    Json(match format {
        Format::OpenAi => {
            let data: Vec<Value> = models
                .iter()
                .map(|m| model_object(&state, &principal, m))
                .collect();
            json!({"object": "list", "data": data})
        }
        Format::Anthropic => wire::anthropic::model_list(&models),
        Format::Gemini => wire::gemini::model_list(&models),
    })
    .into_response()
}

async fn get_model(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    principal: Result<Principal, ApiError>,
    Path(model): Path<String>,
) -> Response {
    let format = listing_format(&headers, &uri);
    let principal = match principal {
        Ok(p) => p,
        Err(e) => return e.render(format),
    };
    if !serves(&state, &principal, &model) {
        return ApiError::model_not_found(&model).render(format);
    }
    Json(match format {
        Format::OpenAi => model_object(&state, &principal, &model),
        Format::Anthropic => wire::anthropic::model_object(&model),
        Format::Gemini => wire::gemini::model_object(&model),
    })
    .into_response()
}

/// `owned_by` is the provider kind of the channel that would serve the model first
/// (`openai`, `anthropic`, `runway`…), as the established relays report it: clients such as
/// the console's playground tell video models from chat models by it.
fn model_object(state: &AppState, principal: &Principal, id: &str) -> Value {
    let cat = state.catalog.get();
    let owner = cat
        .channels
        .iter()
        .find(|c| c.in_group(&principal.user.group) && c.serves(id))
        .map_or("switchyard", |c| c.kind.as_str());
    json!({"id": id, "object": "model", "created": 1_700_000_000, "owned_by": owner})
}

/// What the legacy balance endpoints report: the key's quota when it has one, else the
/// owner's balance. USD floats are fine here: display only, never used for money.
async fn spend_view(state: &AppState, p: &Principal) -> Result<(f64, f64), ApiError> {
    state.budgets.return_user(&p.user.id).await?;
    let key = state
        .store
        .key(&p.key.id)
        .await?
        .ok_or_else(|| ApiError::not_found("key"))?;
    if key.quota_limited != 0 {
        return Ok((key.quota_remaining as f64 / 1e9, key.used as f64 / 1e9));
    }
    let user = state
        .store
        .user(&p.user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok((user.balance as f64 / 1e9, user.used as f64 / 1e9))
}

async fn billing_subscription(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let (left, used) = spend_view(&state, &principal).await?;
    let limit = left + used;
    let until = principal.key.expires_at.map(|ms| ms / 1000).unwrap_or(0);
    Ok(Json(json!({
        "object": "billing_subscription",
        "has_payment_method": true,
        "soft_limit_usd": limit,
        "hard_limit_usd": limit,
        "system_hard_limit_usd": limit,
        "access_until": until,
    })))
}

async fn billing_usage(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<impl IntoResponse, ApiError> {
    let (_, used) = spend_view(&state, &principal).await?;
    // OpenAI reports usage in cents.
    Ok(Json(
        json!({"object": "list", "total_usage": (used * 100.0 * 1e6).round() / 1e6}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_spliced_first_keeps_the_object_valid() {
        for (body, want) in [
            (
                &b" {\"a\": [1, {}] }\n"[..],
                json!({"s": true, "a": [1, {}]}),
            ),
            (b"{}", json!({"s": true})),
            (b"{ \n }", json!({"s": true})),
        ] {
            let out = with_first_member(body, br#""s":true"#);
            assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), want);
        }
    }
}
