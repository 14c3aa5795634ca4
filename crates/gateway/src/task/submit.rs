//! Submitting a task: check the model, the key and the parameters, hold the price, record
//! the task (so its id is durable before anyone sees it), then hand it to the first video
//! channel that accepts it. A task no channel takes fails at once and its hold goes back.

use std::sync::Arc;

use base64::Engine;

use axum::http::StatusCode;
use serde_json::Value;
use switchyard_store::{Finish, HoldRefusal, NewTask, Settle, Submitted, Task};

use super::provider::{Provider, Target};
use super::VideoRequest;
use crate::auth::Principal;
use crate::catalog::{Catalog, ChannelEntry};
use crate::error::ApiError;
use crate::price::{self, Usage};
use crate::relay::price_for;
use crate::route::{self, Outcome};
use crate::state::AppState;

pub struct Submission {
    pub principal: Principal,
    pub model: String,
    /// The wire format of the front door (chat, luma, runway, kling, openai, unified).
    pub front: &'static str,
    pub request: VideoRequest,
    pub notify_hook: Option<String>,
}

/// A recorded task and the channels that may take it, in order.
pub struct Prepared {
    pub task: Task,
    request: VideoRequest,
    candidates: Vec<(Arc<ChannelEntry>, Provider)>,
}

/// Does some channel run this model as a video task?
pub fn is_task_model(cat: &Catalog, model: &str) -> bool {
    cat.channels
        .iter()
        .any(|c| c.serves(model) && Provider::from_kind(&c.kind).is_some())
}

pub async fn submit(state: &AppState, s: Submission) -> Result<Task, ApiError> {
    let prepared = prepare(state, s).await?;
    dispatch(state, prepared).await
}

/// Everything up to and including the durable task row.
pub async fn prepare(state: &AppState, s: Submission) -> Result<Prepared, ApiError> {
    let cat = state.catalog.get_full();
    if !is_task_model(&cat, &s.model) {
        return Err(ApiError::model_not_found(&s.model));
    }
    if !s.principal.key.allows_model(&s.model) {
        return Err(ApiError::model_not_allowed(&s.model));
    }
    if s.request.prompt.trim().is_empty() && s.request.image.is_none() {
        return Err(ApiError::bad_request(
            "Describe the video you want: a prompt, a reference image, or both.",
        )
        .with_param("prompt"));
    }
    if let Some(hook) = &s.notify_hook {
        if !(hook.starts_with("http://") || hook.starts_with("https://")) {
            return Err(ApiError::bad_request("notify_hook must be an http(s) URL")
                .with_param("notify_hook"));
        }
    }
    let candidates = fitting_channels(&cat, &s)?;
    let price = price_for(&cat, &s.model).cloned().ok_or_else(|| {
        ApiError::forbidden(format!(
            "The model `{}` has no price on this gateway, so it cannot be billed.",
            s.model
        ))
    })?;
    let seconds = s
        .request
        .duration
        .unwrap_or_else(|| candidates[0].1.default_duration());
    let amount = if price.free != 0 {
        0
    } else {
        price::cost(
            &price,
            &Usage {
                calls: 1,
                seconds: seconds as i64,
                ..Default::default()
            },
        )
    };
    let p = &s.principal;
    let mut held = state
        .store
        .hold(&p.user.id, &p.key.id, p.key.quota_limited, amount)
        .await?;
    if held.is_err() {
        // The money may sit in this process's relay budgets: give it back and try again.
        state.budgets.return_user(&p.user.id).await?;
        held = state
            .store
            .hold(&p.user.id, &p.key.id, p.key.quota_limited, amount)
            .await?;
    }
    let hold = match held {
        Ok(h) => h,
        Err(HoldRefusal::Balance) => return Err(ApiError::insufficient_quota(format!("You exceeded your current quota: this video costs ${:.4} and your balance does not cover it.", amount as f64 / 1e9))),
        Err(HoldRefusal::KeyQuota) => return Err(ApiError::insufficient_quota(format!("This API key's remaining quota does not cover this video (${:.4}).", amount as f64 / 1e9))),
    };
    let mut request = s.request;
    request.duration.get_or_insert(seconds);
    let new = NewTask {
        user_id: p.user.id.clone(),
        key_id: p.key.id.clone(),
        kind: "video".into(),
        model: s.model.clone(),
        front: s.front.into(),
        request: serde_json::to_value(&request).unwrap_or(Value::Null),
        hold_id: hold.id.clone(),
        cost_held: hold.amount,
        notify_hook: s.notify_hook,
    };
    let task = match state.store.create_task(&new).await {
        Ok(t) => t,
        Err(e) => {
            let _ = state.store.release(&hold).await;
            return Err(e.into());
        }
    };
    Ok(Prepared {
        task,
        request,
        candidates,
    })
}

/// Channels serving the model in the caller's group whose provider can honour the request;
/// when none can, a 400 that names the parameter.
fn fitting_channels(
    cat: &Catalog,
    s: &Submission,
) -> Result<Vec<(Arc<ChannelEntry>, Provider)>, ApiError> {
    let all: Vec<(Arc<ChannelEntry>, Provider)> =
        route::candidates(cat, &s.principal.user.group, &s.model)
            .into_iter()
            .filter_map(|c| Provider::from_kind(&c.kind).map(|p| (c, p)))
            .collect();
    if all.is_empty() {
        return Err(ApiError::no_channel(&s.model));
    }
    let mut first_reason = None;
    let fitting: Vec<_> = all
        .into_iter()
        .filter(|(_, p)| match p.check(&s.request) {
            Ok(()) => true,
            Err(why) => {
                first_reason.get_or_insert(why);
                false
            }
        })
        .collect();
    match (fitting.is_empty(), first_reason) {
        (true, Some(why)) => {
            let param = why.split(':').next().unwrap_or("").to_string();
            Err(ApiError::bad_request(format!(
                "This request cannot be served by `{}`: {why}",
                s.model
            ))
            .with_param(&param))
        }
        _ => Ok(fitting),
    }
}

/// Images as `data:` URIs, downloaded through the network guard (for providers that take
/// bytes). Done once per submission, whichever channel ends up taking it.
async fn inlined(state: &AppState, r: &VideoRequest) -> Result<VideoRequest, ApiError> {
    let mut out = r.clone();
    for img in [&mut out.image, &mut out.image_end].into_iter().flatten() {
        if img.starts_with("http://") || img.starts_with("https://") {
            let (bytes, mime) = state
                .guard
                .fetch(img, MAX_IMAGE_BYTES, std::time::Duration::from_secs(20))
                .await
                .map_err(|e| {
                    ApiError::bad_request(format!("The reference image could not be used: {e}"))
                        .with_param("image_url")
                })?;
            *img = format!(
                "data:{mime};base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            );
        }
    }
    Ok(out)
}

const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

/// Hand the task to the first channel that takes it.
pub async fn dispatch(state: &AppState, p: Prepared) -> Result<Task, ApiError> {
    let mut last = None;
    let mut inline_request: Option<VideoRequest> = None;
    for (attempt, (ch, provider)) in p.candidates.iter().enumerate() {
        if attempt > state.settings.retries {
            break;
        }
        if !state.health.admit(&ch.id) {
            continue;
        }
        let target = Target {
            upstream: &state.upstream,
            channel: ch,
            model: ch.upstream_model(&p.task.model),
        };
        let request = if provider.wants_inline_images() {
            if inline_request.is_none() {
                match inlined(state, &p.request).await {
                    Ok(r) => inline_request = Some(r),
                    Err(e) => {
                        fail(state, &p.task, &e.message).await;
                        return Err(e);
                    }
                }
            }
            inline_request.as_ref().unwrap_or(&p.request)
        } else {
            &p.request
        };
        match provider.submit(&target, request).await {
            Ok(acc) => {
                state.health.record(&ch.id, Outcome::Ok);
                let s = Submitted {
                    channel_id: ch.id.clone(),
                    provider: ch.kind.clone(),
                    upstream_id: acc.upstream_id,
                    meta: acc.meta,
                    next_poll_at: switchyard_store::now_ms()
                        + state.settings.tasks.poll_interval_ms(),
                };
                state.store.task_submitted(&p.task.id, &s).await?;
                let task = state
                    .store
                    .task(&p.task.id)
                    .await?
                    .ok_or_else(|| ApiError::not_found("task"))?;
                super::engine::notify(state, &task).await;
                return Ok(task);
            }
            Err(f) => {
                tracing::warn!(channel = %ch.name, error = %f.message, task = %p.task.id, "task submission failed");
                if f.invalid_key {
                    crate::relay::disable_channel(state, ch, &f).await;
                }
                if !f.retryable {
                    let e = ApiError::new(
                        f.status.unwrap_or(StatusCode::BAD_REQUEST),
                        "invalid_request_error",
                        Some("provider_refused"),
                        format!("{} refused the task: {}", provider.name(), f.message),
                    );
                    fail(state, &p.task, &e.message).await;
                    return Err(e);
                }
                state.health.record(&ch.id, Outcome::Failed);
                last = Some(f.message);
            }
        }
    }
    let e = match last {
        Some(m) => ApiError::upstream(
            StatusCode::BAD_GATEWAY,
            format!("Every video channel failed: {m}"),
        ),
        None => ApiError::no_channel(&p.task.model),
    };
    fail(state, &p.task, &e.message).await;
    Err(e)
}

async fn fail(state: &AppState, task: &Task, why: &str) {
    let finish = Finish {
        state: "failed".into(),
        result: None,
        raw: None,
        error: Some(why.into()),
        settle: Settle::Release,
    };
    match state.store.finish_task(&task.id, &finish).await {
        Ok(Some(t)) => super::engine::ended(state, &t).await,
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, task = %task.id, "could not record a failed submission")
        }
    }
}

/// Stop a task: ask the provider where it can, then end it here with a refund, once.
pub async fn cancel(state: &AppState, task: &Task) -> Result<Task, ApiError> {
    if !task.is_active() {
        return Ok(task.clone());
    }
    let cat = state.catalog.get_full();
    let channel = task
        .channel_id
        .as_deref()
        .and_then(|id| cat.channels.iter().find(|c| c.id == id));
    if let (Some(ch), Some(id), Some(p)) = (
        channel,
        &task.upstream_id,
        task.provider.as_deref().and_then(Provider::from_kind),
    ) {
        let target = Target {
            upstream: &state.upstream,
            channel: ch,
            model: ch.upstream_model(&task.model),
        };
        if let Err(f) = p.cancel(&target, id).await {
            tracing::warn!(error = %f.message, task = %task.id, "provider did not confirm the cancel");
        }
    }
    let finish = Finish {
        state: "cancelled".into(),
        result: None,
        raw: None,
        error: Some("cancelled by the caller".into()),
        settle: Settle::Release,
    };
    let done = state.store.finish_task(&task.id, &finish).await?;
    let task = match done {
        Some(t) => {
            super::engine::ended(state, &t).await;
            t
        }
        None => state
            .store
            .task(&task.id)
            .await?
            .ok_or_else(|| ApiError::not_found("task"))?,
    };
    Ok(task)
}
