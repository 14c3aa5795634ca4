//! The path of one relayed request: check the model and the key, hold the worst-case cost,
//! try channels in order until one answers, then meter, settle and log.

pub(crate) mod adapter;
pub(crate) mod body;
mod endpoints;
mod fronts;
mod settle;
mod sse;

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use bytes::Bytes;
use serde_json::Value;
use switchyard_store::{HoldRefusal, Price};
use switchyard_wire::Format;

pub use adapter::{Attempt, CHAT};
pub use body::RequestId;
pub use settle::Settlement;

use crate::auth::Principal;
use crate::catalog::{model_matches, Catalog, ChannelEntry};
use crate::error::ApiError;
use crate::price::{self, Estimate, Usage};
use crate::route::{self, Outcome};
use crate::state::AppState;
use crate::upstream::{Failure, FormPart, Reply};

/// The relay's routes: OpenAI's, and the Anthropic and Gemini front doors.
pub fn routes() -> axum::Router<AppState> {
    endpoints::routes().merge(fronts::routes())
}

/// `POST /v1/chat/completions` as a service of its own, the same handler its route has, for
/// the front to call without a route lookup (see `app::Front`).
pub fn chat_service(
    state: AppState,
) -> impl tower::Service<
    axum::extract::Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send,
> + Clone
       + Send
       + Sync
       + 'static {
    axum::handler::Handler::with_state(endpoints::chat_completions, state)
}

/// How a request's usage is measured once the provider has answered.
#[derive(Debug, Clone, Copy)]
pub enum Meter {
    /// From the answer's `usage` (or the tokenizer): chat, completions, embeddings.
    Tokens,
    /// A fixed usage known from the request (images: n calls; speech: characters).
    Fixed(Usage),
}

/// What the caller sent, ready to be re-encoded for each channel tried.
pub enum Payload {
    Json(Value),
    /// A JSON object body as the caller sent it (checked by `body::json_head`), parsed only
    /// if something needs its `Value`: a channel that takes the caller's bytes never does.
    Raw(Bytes, OnceLock<Value>),
    Form(Vec<FormPart>),
}

impl Payload {
    pub fn raw(body: Bytes) -> Payload {
        Payload::Raw(body, OnceLock::new())
    }

    /// The JSON body (`null` for a form).
    pub fn json(&self) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Payload::Json(v) => v,
            Payload::Raw(b, v) => v.get_or_init(|| serde_json::from_slice(b).unwrap_or_default()),
            Payload::Form(_) => &NULL,
        }
    }

    /// The JSON body, taken (`null` for a form).
    pub fn into_json(self) -> Value {
        match self {
            Payload::Json(v) => v,
            Payload::Raw(b, v) => v
                .into_inner()
                .unwrap_or_else(|| serde_json::from_slice(&b).unwrap_or_default()),
            Payload::Form(_) => Value::Null,
        }
    }
}

pub struct Call {
    pub principal: Principal,
    pub request_id: String,
    pub endpoint: &'static str,
    pub model: String,
    pub stream: bool,
    /// The caller asked for the usage chunk at the end of a stream (we always ask upstream).
    pub wants_stream_usage: bool,
    pub payload: Payload,
    pub estimate: Estimate,
    pub meter: Meter,
    pub started: Instant,
    /// The wire format the caller speaks: answers, streams and errors go back in it.
    pub caller: Format,
    /// The caller's own body when it is not OpenAI's (then `payload` holds its OpenAI
    /// translation): sent as it is, model renamed, to channels speaking the same format.
    pub native: Option<Value>,
    /// The caller's headers that a channel of its own format should see
    /// (`anthropic-version`, `anthropic-beta`).
    pub forward: Vec<(HeaderName, HeaderValue)>,
}

impl Call {
    /// What the adapters need to encode one attempt of this call.
    fn attempt(&self) -> adapter::Attempt<'_> {
        adapter::Attempt {
            endpoint: self.endpoint,
            model: &self.model,
            payload: &self.payload,
            stream: self.stream,
            native: self.native.as_ref().map(|n| (self.caller, n)),
            forward: &self.forward,
        }
    }

    /// The endpoint as the caller named it, for the usage log.
    pub fn caller_endpoint(&self) -> &'static str {
        match self.caller {
            Format::OpenAi => self.endpoint,
            Format::Anthropic => "/v1/messages",
            Format::Gemini => "/v1beta/models:generateContent",
        }
    }

    pub fn request_json(&self) -> &Value {
        self.payload.json()
    }
}

/// The price of a model: exact name first, then `prefix*` patterns. No price, no service,
/// unless the operator marked the model free.
pub fn price_for<'a>(cat: &'a Catalog, model: &str) -> Option<&'a Price> {
    cat.prices.get(model).or_else(|| {
        cat.prices
            .iter()
            .filter(|(k, _)| k.ends_with('*') && model_matches(k, model))
            .max_by_key(|(k, _)| k.len())
            .map(|(_, p)| p)
    })
}

/// Run a call to the end: the answer for the caller, or an error in OpenAI's format.
///
/// The future of a relayed request is moved (copied) several times on its way into
/// axum's box, so the paths a request rarely takes (a failure, a lease from the database,
/// a channel disabled) are boxed where they are awaited instead of adding their futures'
/// size to every request's: the chat handler's future went from 5,936 to 4,840 bytes.
pub async fn run(state: &AppState, call: Call) -> Result<axum::response::Response, ApiError> {
    let cat = state.catalog.get_full();
    let group = &call.principal.user.group;
    // A model served only to other groups does not exist for this caller.
    if !cat
        .channels
        .iter()
        .any(|c| c.in_group(group) && c.serves(&call.model))
    {
        return Err(ApiError::model_not_found(&call.model));
    }
    if !call.principal.key.allows_model(&call.model) {
        return Err(ApiError::model_not_allowed(&call.model));
    }
    let price = price_for(&cat, &call.model).cloned().ok_or_else(|| {
        ApiError::forbidden(format!(
            "The model `{}` has no price on this gateway, so it cannot be billed. Ask the operator to set one.",
            call.model
        ))
    })?;
    let price = if price.free != 0 {
        Price {
            model: price.model,
            ..Default::default()
        }
    } else {
        price
    };
    // Every request is at least one call, so a per-call price applies to chat too.
    let worst = price::cost(
        &price,
        &Usage {
            calls: call.estimate.calls.max(1),
            ..call.estimate
        },
    );
    let p = &call.principal;
    let hold = match state
        .budgets
        .hold(&p.user.id, &p.key.id, p.key.quota_limited, worst)
        .await?
    {
        Ok(h) => h,
        Err(why) => return Err(refusal(why, worst)),
    };
    let settlement = Settlement::new(state.clone(), hold, price, &call);
    match dispatch(state, &cat, group, &call).await {
        Ok((channel, resp)) => settle::respond(settlement, channel, resp, call).await,
        Err(e) => {
            Box::pin(settlement.fail(&e)).await;
            Err(e)
        }
    }
}

fn refusal(why: HoldRefusal, worst: i64) -> ApiError {
    let usd = worst as f64 / 1e9;
    match why {
        HoldRefusal::Balance => ApiError::insufficient_quota(format!(
            "You exceeded your current quota: this request may cost up to ${usd:.6} and your balance does not cover it. Top up to continue."
        )),
        HoldRefusal::KeyQuota => ApiError::insufficient_quota(format!(
            "This API key's quota is exhausted: this request may cost up to ${usd:.6} and the key's remaining quota does not cover it."
        )),
    }
}

/// Try the candidate channels in order; the first 2xx wins. Only failures that another
/// channel could fix move on, and nothing has reached the caller yet when they do.
async fn dispatch(
    state: &AppState,
    cat: &Catalog,
    group: &str,
    call: &Call,
) -> Result<(Arc<ChannelEntry>, Reply), ApiError> {
    let candidates = route::candidates(cat, group, &call.model);
    // The caller's own bytes, when the body is unchanged: sent as they are to every channel
    // that takes the OpenAI body unchanged, instead of serializing again.
    let mut default_body = match &call.payload {
        Payload::Raw(bytes, _) => Some(bytes.clone()),
        _ => None,
    };
    let mut last: Option<Failure> = None;
    // A channel whose wire format cannot carry this endpoint is passed over, not failed.
    let mut unsupported: Option<ApiError> = None;
    let mut attempts = 0;
    for ch in candidates {
        if attempts > state.settings.retries {
            break;
        }
        if let Err(e) = adapter::supports(&ch, call.endpoint, &call.model) {
            unsupported = Some(e);
            continue;
        }
        if !state.health.admit(&ch.id) {
            continue;
        }
        attempts += 1;
        let req = adapter::request(state, &ch, &call.attempt(), &mut default_body)?;
        match state.upstream.relay(req).await {
            Ok(resp) => {
                state.health.record(&ch.id, Outcome::Ok);
                return Ok((ch, resp));
            }
            Err(f) => {
                tracing::warn!(channel = %ch.name, status = ?f.status, error = %f.message, request_id = %call.request_id, "upstream attempt failed");
                if f.invalid_key {
                    Box::pin(disable_channel(state, &ch, &f)).await;
                }
                if !f.retryable {
                    return Err(caller_error(f));
                }
                state.health.record(&ch.id, Outcome::Failed);
                last = Some(f);
            }
        }
    }
    Err(match last {
        None => unsupported.unwrap_or_else(|| ApiError::no_channel(&call.model)),
        Some(f) if f.invalid_key => ApiError::upstream(StatusCode::BAD_GATEWAY, "The upstream provider refused this gateway's credentials; the operator has been alerted."),
        Some(f) if f.status == Some(StatusCode::TOO_MANY_REQUESTS) => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "requests", Some("rate_limit_exceeded"), format!("The upstream provider is rate limiting: {}", f.message))
        }
        Some(f) => ApiError::upstream(StatusCode::BAD_GATEWAY, format!("The upstream provider failed: {}", f.message)),
    })
}

/// The provider said the request itself is wrong: pass its verdict on, in OpenAI's format.
fn caller_error(f: Failure) -> ApiError {
    let status = f.status.unwrap_or(StatusCode::BAD_REQUEST);
    let mut e = ApiError::new(status, "invalid_request_error", None, f.message);
    if let Some(p) = f
        .body
        .as_ref()
        .and_then(|b| b.pointer("/error/param"))
        .and_then(Value::as_str)
    {
        e = e.with_param(p);
    }
    e
}

/// A refused key is not a passing fault: take the channel out until an admin looks.
pub(crate) async fn disable_channel(state: &AppState, ch: &ChannelEntry, f: &Failure) {
    let status = f.status.map(|s| s.as_u16().to_string()).unwrap_or_default();
    let reason = format!(
        "upstream refused the key ({status}): {}",
        f.message.chars().take(300).collect::<String>()
    );
    tracing::error!(channel = %ch.name, %reason, "auto-disabling channel");
    if let Err(e) = state
        .store
        .set_channel_status(&ch.id, "auto_disabled", Some(&reason))
        .await
    {
        tracing::error!(error = %e, "could not record the auto-disable");
    }
    if let Err(e) = state.catalog.reload().await {
        tracing::error!(error = %e, "catalog reload failed");
    }
}
