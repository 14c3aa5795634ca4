//! Channel adapters: one attempt of a call encoded for the channel's kind (URL, credentials,
//! body), and its answer read back into OpenAI's shape, so metering, settling and logging
//! see one format whatever the provider.

use std::borrow::Cow;

use axum::http::{HeaderName, HeaderValue};
use bytes::Bytes;
use serde_json::Value;
use switchyard_wire::{anthropic, azure, gemini, presets, Format};

use super::Payload;
use crate::catalog::ChannelEntry;
use crate::error::ApiError;
use crate::state::AppState;
use crate::upstream::{join_url, Auth, FormPart, Outbound, Outgoing};

/// The only endpoint the non-OpenAI formats serve.
pub const CHAT: &str = "/v1/chat/completions";

/// One attempt's request, before it is encoded for a channel.
pub struct Attempt<'a> {
    /// The OpenAI endpoint (`/v1/chat/completions`, `/v1/embeddings`, …).
    pub endpoint: &'a str,
    /// The model as the caller named it.
    pub model: &'a str,
    /// The OpenAI-shaped body.
    pub payload: &'a Payload,
    pub stream: bool,
    /// The caller's own body and its format, when the caller does not speak OpenAI.
    pub native: Option<(Format, &'a Value)>,
    /// Caller headers for channels of the caller's format.
    pub forward: &'a [(HeaderName, HeaderValue)],
}

impl Attempt<'_> {
    /// The caller's own body, if the channel speaks the caller's format.
    fn native_for(&self, channel: Format) -> Option<&Value> {
        self.native.filter(|(f, _)| *f == channel).map(|(_, v)| v)
    }
}

/// Whether `ch` can carry `endpoint` at all: the Anthropic and Gemini formats relay chat only.
pub fn supports(ch: &ChannelEntry, endpoint: &str, model: &str) -> Result<(), ApiError> {
    let format = ch.format();
    if format != Format::OpenAi && endpoint != CHAT {
        return Err(ApiError::bad_request(format!(
            "The model `{model}` is served through the {} API, which this gateway relays chat to; {endpoint} is not available for it.",
            format.name(),
        )));
    }
    Ok(())
}

/// The HTTP request for one attempt on `ch`. `cache` keeps the OpenAI body serialized once
/// for every channel that takes it unchanged.
pub fn request(
    state: &AppState,
    ch: &ChannelEntry,
    a: &Attempt<'_>,
    cache: &mut Option<Bytes>,
) -> Result<Outbound, ApiError> {
    let model = ch.upstream_model(a.model);
    let key = ch.pick_key().map(|k| k.expose());
    supports(ch, a.endpoint, a.model)?;
    let format = ch.format();
    Ok(match format {
        Format::OpenAi => {
            let body = openai_body(ch, a, model, cache);
            if ch.kind == "azure" {
                let url = azure::url(&ch.base_url, model, a.endpoint);
                Outbound::post(url, Auth::Header(azure::KEY_HEADER, key), body)
            } else {
                let url = join_url(&ch.base_url, a.endpoint);
                Outbound::post(url, Auth::Bearer(key), body)
            }
        }
        Format::Anthropic => {
            let body = match a.native_for(Format::Anthropic) {
                Some(native) => renamed(native, model),
                None => anthropic::request_from_openai(
                    a.payload.json(),
                    model,
                    &anthropic::Options {
                        default_max_tokens: state.settings.default_max_output_tokens,
                    },
                ),
            };
            let url = join_url(&ch.base_url, "/v1/messages");
            let mut req = Outbound::post(url, Auth::Header("x-api-key", key), json(&body));
            if !a.forward.iter().any(|(k, _)| k == "anthropic-version") {
                req = req.header(
                    HeaderName::from_static("anthropic-version"),
                    HeaderValue::from_static(anthropic::VERSION),
                );
            }
            for (k, v) in a.forward {
                req = req.header(k.clone(), v.clone());
            }
            req
        }
        Format::Gemini => {
            let body = match a.native_for(Format::Gemini) {
                Some(native) => Cow::Borrowed(native),
                None => Cow::Owned(gemini::request_from_openai(a.payload.json())),
            };
            let url = gemini::url(&ch.base_url, model, a.stream);
            Outbound::post(url, Auth::Header("x-goog-api-key", key), json(&body))
        }
    })
}

fn json(v: &Value) -> Outgoing {
    Outgoing::Json(Bytes::from(serde_json::to_vec(v).unwrap_or_default()))
}

/// The caller's own body with the provider's name for the model (the only change).
fn renamed(native: &Value, model: &str) -> Value {
    let mut v = native.clone();
    v["model"] = Value::String(model.to_string());
    v
}

/// An OpenAI-compatible body: the caller's with only the model renamed (when mapped), or
/// with the preset's quirks applied.
fn openai_body(
    ch: &ChannelEntry,
    a: &Attempt<'_>,
    model: &str,
    cache: &mut Option<Bytes>,
) -> Outgoing {
    match a.payload {
        Payload::Json(_) | Payload::Raw(..) => {
            if presets::preset(&ch.kind).is_some() {
                let mut v = renamed(a.payload.json(), model);
                if presets::adjust_request(&ch.kind, &mut v) {
                    return json(&v);
                }
            }
            if model == a.model {
                let bytes = cache.get_or_insert_with(|| {
                    Bytes::from(serde_json::to_vec(a.payload.json()).unwrap_or_default())
                });
                Outgoing::Json(bytes.clone())
            } else {
                json(&renamed(a.payload.json(), model))
            }
        }
        Payload::Form(parts) => Outgoing::Form(
            parts
                .iter()
                .map(|p| match p.name.as_str() {
                    "model" => FormPart {
                        data: Bytes::from(model.to_string()),
                        ..p.clone()
                    },
                    _ => p.clone(),
                })
                .collect(),
        ),
    }
}

/// A provider's answer in OpenAI's shape (borrowed when it already is).
pub fn answer_to_openai<'a>(
    from: Format,
    answer: &'a Value,
    model: &str,
    created: i64,
) -> Cow<'a, Value> {
    match from {
        Format::OpenAi => Cow::Borrowed(answer),
        Format::Anthropic => Cow::Owned(anthropic::answer_to_openai(answer, created)),
        Format::Gemini => Cow::Owned(gemini::answer_to_openai(answer, model, created)),
    }
}

/// An OpenAI-shaped answer in the caller's format.
pub fn answer_for(caller: Format, answer: &Value) -> Cow<'_, Value> {
    match caller {
        Format::OpenAi => Cow::Borrowed(answer),
        Format::Anthropic => Cow::Owned(anthropic::answer_from_openai(answer)),
        Format::Gemini => Cow::Owned(gemini::answer_from_openai(answer)),
    }
}

/// Seconds since the epoch, for the `created` of translated answers.
pub fn now_secs() -> i64 {
    switchyard_store::now_ms() / 1000
}
