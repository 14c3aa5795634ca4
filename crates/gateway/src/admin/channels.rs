//! `/api/channels`: the upstream providers. Upstream keys arrive in the clear, are encrypted
//! with the master key before they reach the store, and are never shown again: views carry a
//! hint (`***abcd`) per key. A channel can be tested on demand, disabled ones included.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_store::{Channel, ChannelWrite};

use super::{
    non_empty, nullable, parse, read_json, read_json_or_empty, reload, Field, Id, Need, Ty,
};
use crate::auth::Caller;
use crate::catalog::ChannelEntry;
use crate::error::ApiError;
use crate::relay::{adapter, disable_channel, Attempt, Payload, CHAT};
use crate::secret::Redacted;
use crate::state::AppState;
use crate::task::provider::{Provider, Target};
use crate::upstream::Failure;

pub(crate) const CHANNEL_CREATE: &[Field] = &[
    Field("name", Ty::Str, Need::Required, "Unique name."),
    Field(
        "kind",
        Ty::Str,
        Need::Optional,
        "Upstream protocol: `openai` (the default), `azure`, `anthropic`, `gemini`, an OpenAI-compatible preset (`deepseek`, `qwen`, `moonshot`, `zhipu`, `groq`, `mistral`, `xai`, `openrouter`, `siliconflow`, `ollama`) or a video provider; see docs/PROVIDERS.md.",
    ),
    Field(
        "base_url",
        Ty::Str,
        Need::Optional,
        "The provider's URL, http:// or https:// (with or without a trailing /v1); a preset kind fills in its own when left out.",
    ),
    Field(
        "keys",
        Ty::Strs,
        Need::Required,
        "Upstream API keys (one is picked at random per request); stored encrypted, never shown again.",
    ),
    Field(
        "models",
        Ty::Strs,
        Need::Required,
        "Models served; `prefix*` patterns allowed.",
    ),
    Field(
        "model_map",
        Ty::StrMap,
        Need::Optional,
        "Rename models on the way up: {\"gpt-4o\": \"provider-name\"}.",
    ),
    Field(
        "groups",
        Ty::Strs,
        Need::Optional,
        "User groups served (default [\"default\"]); empty = every group.",
    ),
    Field(
        "priority",
        Ty::Int,
        Need::Optional,
        "Higher tiers are tried first (default 0).",
    ),
    Field(
        "weight",
        Ty::Int,
        Need::Optional,
        "Share of traffic within its priority tier (default 1, 0 = last resort).",
    ),
    Field("enabled", Ty::Bool, Need::Optional, "Default true."),
    Field(
        "test_model",
        Ty::Str,
        Need::Optional,
        "Model used by the channel test (default: the first exact model).",
    ),
];

pub(crate) const CHANNEL_PATCH: &[Field] = &[
    Field("name", Ty::Str, Need::Optional, "Unique name."),
    Field("kind", Ty::Str, Need::Optional, "Upstream protocol (see create)."),
    Field("base_url", Ty::Str, Need::Optional, "The provider's URL."),
    Field(
        "keys",
        Ty::Strs,
        Need::Optional,
        "Replaces all upstream keys.",
    ),
    Field("models", Ty::Strs, Need::Optional, "Replaces the model list."),
    Field("model_map", Ty::StrMap, Need::Optional, "Replaces the model map."),
    Field("groups", Ty::Strs, Need::Optional, "Replaces the groups."),
    Field("priority", Ty::Int, Need::Optional, "Priority tier."),
    Field("weight", Ty::Int, Need::Optional, "Weight in its tier."),
    Field(
        "enabled",
        Ty::Bool,
        Need::Optional,
        "true (re-)enables the channel, also after an automatic disable, and clears the reason; false disables it.",
    ),
    Field(
        "test_model",
        Ty::Str,
        Need::Nullable,
        "Model for tests; null = the first exact model.",
    ),
];

pub(crate) const CHANNEL_TEST: &[Field] = &[Field(
    "model",
    Ty::Str,
    Need::Optional,
    "Model to test (default: the channel's test_model, else its first exact model).",
)];

#[derive(Deserialize)]
pub(crate) struct ChannelIn {
    name: String,
    kind: Option<String>,
    #[serde(default)]
    base_url: String,
    keys: Vec<String>,
    models: Vec<String>,
    #[serde(default)]
    model_map: BTreeMap<String, String>,
    groups: Option<Vec<String>>,
    #[serde(default)]
    priority: i64,
    weight: Option<i64>,
    enabled: Option<bool>,
    test_model: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ChannelPatch {
    name: Option<String>,
    kind: Option<String>,
    base_url: Option<String>,
    keys: Option<Vec<String>>,
    models: Option<Vec<String>>,
    model_map: Option<BTreeMap<String, String>>,
    groups: Option<Vec<String>>,
    priority: Option<i64>,
    weight: Option<i64>,
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    test_model: Option<Option<String>>,
}

#[derive(Deserialize)]
pub(crate) struct TestIn {
    model: Option<String>,
}

/// What admins see of a channel: everything but the keys, which are reduced to hints.
fn view(state: &AppState, ch: &Channel) -> Value {
    let keys: Vec<String> = ch
        .key_list()
        .iter()
        .map(|enc| match state.master.decrypt(enc) {
            Ok(k) => Redacted::new(k).hint(),
            Err(_) => "(cannot be decrypted with this master key)".into(),
        })
        .collect();
    json!({
        "id": ch.id,
        "name": ch.name,
        "kind": ch.kind,
        "base_url": ch.base_url,
        "keys": keys,
        "models": ch.model_list(),
        "model_map": ch.model_map(),
        "groups": ch.groups(),
        "priority": ch.priority,
        "weight": ch.weight,
        "enabled": ch.status == "enabled",
        "status": ch.status,
        "status_reason": ch.status_reason,
        "test_model": ch.test_model,
        "created_at": ch.created_at,
        "updated_at": ch.updated_at,
        "health": state.health.view(&ch.id),
        "last_test": ch.last_test.as_deref().and_then(|t| serde_json::from_str::<Value>(t).ok()),
        "balance_usd": ch.balance_nano.map(|n| n as f64 / 1e9),
        "balance_nano": ch.balance_nano,
        "balance_at": ch.balance_at,
    })
}

/// `GET /api/channels/kinds`: every kind a channel can have, what it speaks, and what a
/// preset fills in (the base URL) — what a console needs to fill the form.
pub(crate) async fn kinds(p: Caller) -> Result<Json<Value>, ApiError> {
    p.require_admin()?;
    let data: Vec<Value> = crate::catalog::channel_kinds()
        .into_iter()
        .map(|kind| {
            let preset = switchyard_wire::presets::preset(kind);
            let video = Provider::from_kind(kind);
            let (name, wire) = match (kind, preset, video) {
                (_, Some(p), _) => (p.name, "openai"),
                (_, _, Some(v)) => (v.name(), "video"),
                ("azure", ..) => ("Azure OpenAI", "openai"),
                ("anthropic", ..) => ("Anthropic", "anthropic"),
                ("gemini", ..) => ("Google Gemini", "gemini"),
                _ => ("OpenAI", "openai"),
            };
            json!({
                "kind": kind,
                "name": name,
                "wire": wire,
                "base_url": preset.map(|p| p.base_url),
                "key_required": !preset.is_some_and(|p| p.keyless),
                "notes": preset.map(|p| p.notes),
            })
        })
        .collect();
    Ok(Json(json!({"data": data})))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    p: Caller,
) -> Result<Json<Value>, ApiError> {
    p.require_admin()?;
    let data: Vec<Value> = state
        .store
        .channels()
        .await?
        .iter()
        .map(|c| view(&state, c))
        .collect();
    Ok(Json(json!({"data": data})))
}

pub(crate) async fn get_one(
    State(state): State<AppState>,
    p: Caller,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    p.require_admin()?;
    Ok(Json(view(&state, &find(&state, &id).await?)))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    p.require_admin()?;
    let c: ChannelIn = parse(read_json(&state, body)?, CHANNEL_CREATE)?;
    let keys = clean_keys(&c.keys)?;
    let kind = c.kind.unwrap_or_else(|| "openai".into());
    let base_url = crate::catalog::base_url_or_preset(&kind, &c.base_url).unwrap_or_default();
    let write = ChannelWrite {
        name: non_empty("name", &c.name)?,
        kind,
        base_url,
        keys_enc: keys.iter().map(|k| state.master.encrypt(k)).collect(),
        models: c.models,
        model_map: c.model_map,
        groups: c.groups.unwrap_or_else(|| vec!["default".into()]),
        priority: c.priority,
        weight: c.weight.unwrap_or(1),
        enabled: c.enabled.unwrap_or(true),
        test_model: c.test_model,
    };
    check(&write)?;
    let ch = state.store.create_channel(&write).await?;
    reload(&state).await;
    Ok((StatusCode::CREATED, Json(view(&state, &ch))))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    p: Caller,
    Id(id): Id,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    p.require_admin()?;
    let patch: ChannelPatch = parse(read_json(&state, body)?, CHANNEL_PATCH)?;
    let cur = find(&state, &id).await?;
    let mut w = ChannelWrite {
        name: cur.name.clone(),
        kind: cur.kind.clone(),
        base_url: cur.base_url.clone(),
        keys_enc: cur.key_list(),
        models: cur.model_list(),
        model_map: cur.model_map(),
        groups: cur.groups(),
        priority: cur.priority,
        weight: cur.weight,
        enabled: cur.status == "enabled",
        test_model: cur.test_model.clone(),
    };
    if let Some(n) = patch.name {
        w.name = non_empty("name", &n)?;
    }
    if let Some(k) = patch.kind {
        w.kind = k;
    }
    if let Some(u) = patch.base_url {
        w.base_url = u.trim().to_string();
    }
    if let Some(keys) = patch.keys {
        w.keys_enc = clean_keys(&keys)?
            .iter()
            .map(|k| state.master.encrypt(k))
            .collect();
    }
    if let Some(m) = patch.models {
        w.models = m;
    }
    if let Some(m) = patch.model_map {
        w.model_map = m;
    }
    if let Some(g) = patch.groups {
        w.groups = g;
    }
    if let Some(v) = patch.priority {
        w.priority = v;
    }
    if let Some(v) = patch.weight {
        w.weight = v;
    }
    if let Some(e) = patch.enabled {
        w.enabled = e;
    }
    if let Some(t) = patch.test_model {
        w.test_model = t;
    }
    check(&w)?;
    state.store.update_channel(&id, &w).await?;
    // The store's write clears any automatic disable; only an explicit `enabled` may do that.
    if patch.enabled.is_none() && cur.status == "auto_disabled" {
        state
            .store
            .set_channel_status(&id, "auto_disabled", cur.status_reason.as_deref())
            .await?;
    }
    reload(&state).await;
    Ok(Json(view(&state, &find(&state, &id).await?)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Caller,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    p.require_admin()?;
    state.store.delete_channel(&id).await?;
    reload(&state).await;
    Ok(Json(json!({"id": id, "deleted": true})))
}

pub(crate) async fn test_one(
    State(state): State<AppState>,
    p: Caller,
    Id(id): Id,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    p.require_admin()?;
    let t: TestIn = parse(read_json_or_empty(&state, body)?, CHANNEL_TEST)?;
    let ch = find(&state, &id).await?;
    Ok(Json(test_and_keep(&state, &ch, t.model).await))
}

pub(crate) async fn test_all(
    State(state): State<AppState>,
    p: Caller,
) -> Result<Json<Value>, ApiError> {
    p.require_admin()?;
    let channels = state.store.channels().await?;
    // A few at a time, in the listing's order.
    let data: Vec<Value> = futures::stream::iter(channels.into_iter().map(|c| {
        let state = state.clone();
        async move { test_and_keep(&state, &c, None).await }
    }))
    .buffered(8)
    .collect()
    .await;
    Ok(Json(json!({"data": data})))
}

/// Test, and keep the result (with when) for the channels page.
async fn test_and_keep(state: &AppState, ch: &Channel, model: Option<String>) -> Value {
    let mut result = run_test(state, ch, model).await;
    result["at"] = json!(switchyard_store::now_ms());
    if let Err(e) = state
        .store
        .set_channel_test(&ch.id, &result.to_string())
        .await
    {
        // The answer still reaches the admin; only the page's memory of it is lost.
        tracing::warn!(channel = %ch.name, error = %e, "could not keep a channel test result");
    }
    result
}

/// One minimal, non-streamed chat per upstream key. A refused key takes the channel out of
/// service the same way a refused relay request does.
async fn run_test(state: &AppState, ch: &Channel, model: Option<String>) -> Value {
    let started = Instant::now();
    let result = |ok: bool, status: Option<u16>, model: Option<&str>, error: Option<String>| {
        json!({
            "channel_id": ch.id,
            "name": ch.name,
            "model": model,
            "ok": ok,
            "status": status,
            "latency_ms": started.elapsed().as_millis() as u64,
            "error": error,
        })
    };
    let model = model
        .or_else(|| ch.test_model.clone())
        .or_else(|| ch.model_list().into_iter().find(|m| !m.ends_with('*')));
    let Some(model) = model.filter(|m| !m.trim().is_empty()) else {
        return result(
            false,
            None,
            None,
            Some("no model to test with: set test_model or pass one".into()),
        );
    };
    let mut keys = Vec::new();
    for enc in ch.key_list() {
        match state.master.decrypt(&enc) {
            Ok(k) => keys.push(Redacted::new(k)),
            Err(e) => {
                return result(
                    false,
                    None,
                    Some(&model),
                    Some(format!("a stored upstream key is unusable: {e}")),
                )
            }
        }
    }
    let entry = ChannelEntry {
        keys: Vec::new(),
        ..ChannelEntry::from_row(ch, &state.master)
    };
    // A one-token chat, encoded for the channel's kind like any relayed request.
    let body = Payload::Json(json!({
        "model": model,
        "messages": [{"role": "user", "content": "ping"}],
        "max_tokens": 1,
    }));
    // A channel without keys is sent without credentials, once.
    let per_key: Vec<Vec<Redacted>> = if keys.is_empty() {
        vec![Vec::new()]
    } else {
        keys.into_iter().map(|k| vec![k]).collect()
    };
    let several = per_key.len() > 1;
    let mut last_status = None;
    for key in per_key {
        let hint = key.first().map(Redacted::hint);
        let one = ChannelEntry {
            keys: key,
            ..entry.clone()
        };
        match attempt(state, &one, &model, &body).await {
            Ok(status) => last_status = Some(status),
            Err(f) => {
                if f.invalid_key {
                    disable_channel(state, &one, &f).await;
                }
                let which = match (several, hint) {
                    (true, Some(h)) => format!("key {h}: "),
                    _ => String::new(),
                };
                let status = f.status.map(|s| s.as_u16());
                return result(
                    false,
                    status,
                    Some(&model),
                    Some(format!("{which}{}", f.message)),
                );
            }
        }
    }
    result(true, last_status, Some(&model), None)
}

/// One test call with one key: a tiny chat for chat channels, a credentials probe for video
/// channels (nothing is generated or billed upstream).
async fn attempt(
    state: &AppState,
    ch: &ChannelEntry,
    model: &str,
    chat: &Payload,
) -> Result<u16, Failure> {
    match Provider::from_kind(&ch.kind) {
        Some(p) => {
            let target = Target {
                upstream: &state.upstream,
                channel: ch,
                model: ch.upstream_model(model),
            };
            p.probe(&target).await.map(|()| 200)
        }
        None => {
            let test = Attempt {
                endpoint: CHAT,
                model,
                payload: chat,
                stream: false,
                native: None,
                forward: &[],
            };
            let req = adapter::request(state, ch, &test, &mut None)
                .map_err(|e| Failure::transport(e.message))?;
            let resp = state.upstream.relay(req).await?;
            let status = resp.status().as_u16();
            // Read the answer so the connection goes back to the pool.
            let _ = crate::upstream::read_all(resp.into_body()).await;
            Ok(status)
        }
    }
}

pub(super) async fn find(state: &AppState, id: &str) -> Result<Channel, ApiError> {
    state
        .store
        .channel(id)
        .await?
        .ok_or_else(|| ApiError::not_found("channel"))
}

fn clean_keys(keys: &[String]) -> Result<Vec<String>, ApiError> {
    keys.iter()
        .map(|k| {
            let k = k.trim();
            if k.is_empty() {
                Err(ApiError::bad_request("'keys' must not contain empty keys.").with_param("keys"))
            } else {
                Ok(k.to_string())
            }
        })
        .collect()
}

/// What the store does not check itself.
fn check(w: &ChannelWrite) -> Result<(), ApiError> {
    let bad = |field: &str, msg: String| Err(ApiError::bad_request(msg).with_param(field));
    if !crate::catalog::known_kind(&w.kind) {
        return bad(
            "kind",
            format!(
                "'kind' must be one of {:?}, not {:?}.",
                crate::catalog::channel_kinds(),
                w.kind
            ),
        );
    }
    if w.models.is_empty() {
        return bad("models", "'models' must name at least one model.".into());
    }
    if w.models.iter().any(|m| m.trim().is_empty()) {
        return bad("models", "'models' must not contain empty names.".into());
    }
    if w.model_map
        .iter()
        .any(|(k, v)| k.trim().is_empty() || v.trim().is_empty())
    {
        return bad(
            "model_map",
            "'model_map' must not contain empty names.".into(),
        );
    }
    if w.groups.iter().any(|g| g.trim().is_empty()) {
        return bad("groups", "'groups' must not contain empty names.".into());
    }
    if w.weight < 0 {
        return bad("weight", "'weight' must not be negative.".into());
    }
    if w.test_model.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return bad("test_model", "'test_model' must not be empty.".into());
    }
    if !(w.base_url.starts_with("http://") || w.base_url.starts_with("https://")) {
        return bad(
            "base_url",
            format!(
                "'base_url' must start with http:// or https://, not {:?}.",
                w.base_url
            ),
        );
    }
    Ok(())
}
