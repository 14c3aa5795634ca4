//! After the provider answered (or nobody could): turn the hold into a charge for what was
//! really used, write the usage-log row, and hand the caller their answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use switchyard_store::{now_ms, Price, UsageLog};
use switchyard_wire::Format;

use super::sse::MeteredStream;
use super::{adapter, Call, Meter};
use crate::budget::Ticket;
use crate::catalog::ChannelEntry;
use crate::error::ApiError;
use crate::meter;
use crate::price::{self, Usage};
use crate::route::Outcome;
use crate::state::AppState;
use crate::upstream::{read_all, Reply};

/// Everything needed to settle one request, whenever and wherever it ends.
pub struct Settlement {
    state: AppState,
    hold: Ticket,
    price: Price,
    log: UsageLog,
    started: Instant,
}

impl Settlement {
    pub fn new(state: AppState, hold: Ticket, price: Price, call: &Call) -> Settlement {
        let log = UsageLog {
            id: call.request_id.clone(),
            ts: now_ms(),
            user_id: call.principal.user.id.clone(),
            key_id: call.principal.key.id.clone(),
            endpoint: call.caller_endpoint().to_string(),
            model: call.model.clone(),
            stream: call.stream as i64,
            ..Default::default()
        };
        Settlement {
            state,
            hold,
            price,
            log,
            started: call.started,
        }
    }

    pub fn channel(&mut self, ch: &ChannelEntry) {
        self.log.channel_id = Some(ch.id.clone());
    }

    /// Charge for `usage` (at most the balance allows) and log the request.
    pub async fn complete(
        mut self,
        usage: Usage,
        status: u16,
        error: Option<String>,
        ttft: Option<Duration>,
    ) -> i64 {
        // A request that reached the provider is at least one call (per-call prices).
        let usage = Usage {
            calls: usage.calls.max(1),
            ..usage
        };
        let cost = price::cost(&self.price, &usage);
        let charged = self.state.budgets.settle(self.hold, cost).await;
        self.log.tokens_in = usage.input;
        self.log.tokens_out = usage.output;
        self.log.tokens_cached = usage.cached;
        self.log.cost = charged;
        self.log.latency_ms = self.started.elapsed().as_millis() as i64;
        self.log.ttft_ms = ttft.map(|d| d.as_millis() as i64);
        self.log.status = status as i64;
        self.log.error = error;
        self.state.logger.log(self.log);
        charged
    }

    /// Nothing billable happened: give the hold back and log the failure.
    pub async fn fail(mut self, e: &ApiError) {
        self.state.budgets.release(self.hold).await;
        self.log.latency_ms = self.started.elapsed().as_millis() as i64;
        self.log.status = e.status.as_u16() as i64;
        self.log.error = Some(e.message.clone());
        self.state.logger.log(self.log);
    }

    /// For a stream the caller hung up on, from inside a `Drop`: finish in the background.
    pub fn complete_later(
        self,
        usage: Usage,
        status: u16,
        error: Option<String>,
        ttft: Option<Duration>,
    ) {
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(self.complete(usage, status, error, ttft));
        }
    }
}

/// The provider answered 2xx: build the caller's response and settle.
pub async fn respond(
    mut s: Settlement,
    ch: Arc<ChannelEntry>,
    resp: Reply,
    call: Call,
) -> Result<Response, ApiError> {
    s.channel(&ch);
    let status = resp.status();
    let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
    if call.stream && is_event_stream(content_type.as_ref()) {
        let stream = MeteredStream::new(resp, s, call, ch.format());
        let mut r = Response::new(Body::from_stream(stream));
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert("x-accel-buffering", HeaderValue::from_static("no"));
        return Ok(r);
    }
    if let Meter::Fixed(usage) = call.meter {
        // Usage is known without reading the answer: settle now and pass the body through as
        // it comes (audio can be large).
        let ttft = call.started.elapsed();
        s.complete(usage, status.as_u16(), None, Some(ttft)).await;
        return Ok(passthrough(
            status,
            content_type,
            Body::new(resp.into_body()),
        ));
    }
    let ttft = call.started.elapsed();
    let bytes = match read_all(resp.into_body()).await {
        Ok(b) => b,
        Err(e) => {
            s.state.health.record(&ch.id, Outcome::Failed);
            let err = ApiError::upstream(
                StatusCode::BAD_GATEWAY,
                format!("The upstream answer broke off: {e}"),
            );
            s.fail(&err).await;
            return Err(err);
        }
    };
    let from = ch.format();
    if from == Format::OpenAi && call.caller == Format::OpenAi {
        // Passed through as the provider sent it: only its usage is read.
        let usage = meter::usage_of_answer_bytes(|| call.request_json(), &bytes);
        s.complete(usage, status.as_u16(), None, Some(ttft)).await;
        return Ok(passthrough(status, content_type, Body::from(bytes)));
    }
    let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let openai = adapter::answer_to_openai(from, &answer, &call.model, adapter::now_secs());
    let usage = meter::usage_of_answer(call.request_json(), &openai);
    s.complete(usage, status.as_u16(), None, Some(ttft)).await;
    if from == call.caller {
        return Ok(passthrough(status, content_type, Body::from(bytes)));
    }
    let out = adapter::answer_for(call.caller, &openai);
    let body = Body::from(serde_json::to_vec(&*out).unwrap_or_default());
    Ok(passthrough(status, None, body))
}

fn is_event_stream(ct: Option<&HeaderValue>) -> bool {
    ct.and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

fn passthrough(status: StatusCode, content_type: Option<HeaderValue>, body: Body) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        content_type.unwrap_or(HeaderValue::from_static("application/json")),
    );
    r
}
