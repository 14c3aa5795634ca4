//! The task engine: lease tasks that are due, ask their provider for news, record progress,
//! finish them exactly once (state compare-and-swap + settlement in one transaction), and
//! fail and refund what never finishes. Any number of processes may run it on one database.

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_store::{new_id, now_ms, Finish, Progress, Settle, Task, UsageLog};
use tokio::task::JoinHandle;

use super::provider::{Provider, Target};
use super::{front, Polled, TaskState};
use crate::catalog::ChannelEntry;
use crate::state::AppState;

const LEASE_MS: i64 = 60_000;
const BATCH: i64 = 32;
/// Submissions that never reached `queued` (a process died mid-submit) are given up after this.
const STUCK_SUBMIT_MS: i64 = 10 * 60_000;

pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let owner = new_id("poller");
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_sweep = 0;
        loop {
            tick.tick().await;
            match state.store.claim_due_tasks(&owner, LEASE_MS, BATCH).await {
                Ok(tasks) => {
                    let polls = tasks.into_iter().map(|t| poll_one(&state, t));
                    futures::future::join_all(polls).await;
                }
                Err(e) => tracing::error!(error = %e, "claiming due tasks failed"),
            }
            if now_ms() - last_sweep > 5_000 {
                last_sweep = now_ms();
                sweep(&state).await;
            }
        }
    })
}

/// The channel a task lives on, even if it has been disabled since (its tasks still finish).
async fn channel_of(state: &AppState, task: &Task) -> Option<ChannelEntry> {
    let id = task.channel_id.as_deref()?;
    let row = state.store.channel(id).await.ok()??;
    Some(ChannelEntry::from_row(&row, &state.master))
}

async fn poll_one(state: &AppState, task: Task) {
    let (Some(ch), Some(provider), Some(upstream_id)) = (
        channel_of(state, &task).await,
        task.provider.as_deref().and_then(Provider::from_kind),
        task.upstream_id.clone(),
    ) else {
        finish(state, &task, failed("the task's channel no longer exists")).await;
        return;
    };
    let target = Target {
        upstream: &state.upstream,
        channel: &ch,
        model: ch.upstream_model(&task.model),
    };
    match provider
        .poll(&target, &upstream_id, &task.meta_json())
        .await
    {
        Ok(p) if p.state.is_final() => {
            let done = finished(state, &task, provider, p);
            finish(state, &task, done).await;
        }
        Ok(p) => progress(state, &task, p).await,
        Err(f) => {
            // The provider is unreachable or confused: keep the task, back off, and let the
            // timeout sweep end it if it never recovers.
            tracing::warn!(task = %task.id, error = %f.message, "polling failed");
            let failures = task.poll_failures + 1;
            let backoff = (state.settings.tasks.poll_interval_ms() << failures.min(10))
                .min((state.settings.tasks.max_backoff_secs * 1000.0) as i64);
            let p = Progress {
                state: task.state.clone(),
                progress: task.progress,
                raw: None,
                next_poll_at: now_ms() + backoff,
                poll_failures: failures,
            };
            if let Err(e) = state.store.task_progress(&task.id, &p).await {
                tracing::error!(error = %e, "recording a failed poll");
            }
        }
    }
}

async fn progress(state: &AppState, task: &Task, p: Polled) {
    let progress = p.progress.unwrap_or(match p.state {
        TaskState::Running => task.progress.max(1),
        _ => task.progress,
    });
    let update = Progress {
        state: p.state.as_str().into(),
        progress,
        raw: Some(p.raw),
        next_poll_at: now_ms() + state.settings.tasks.poll_interval_ms(),
        poll_failures: 0,
    };
    let changed = update.state != task.state || update.progress != task.progress;
    match state.store.task_progress(&task.id, &update).await {
        Ok(true) if changed => {
            if let Ok(Some(t)) = state.store.task(&task.id).await {
                notify(state, &t).await;
            }
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, task = %task.id, "recording progress failed"),
    }
}

fn failed(why: &str) -> Finish {
    Finish {
        state: "failed".into(),
        result: None,
        raw: None,
        error: Some(why.into()),
        settle: Settle::Release,
    }
}

/// How a task that the provider finished ends here: success is charged what was held (the
/// price of the requested duration); failure and cancellation give the hold back.
fn finished(state: &AppState, task: &Task, provider: Provider, p: Polled) -> Finish {
    match p.state {
        TaskState::Succeeded => {
            let mut result = p.result.unwrap_or_default();
            if provider.content_request_needed() || result.video_url.is_empty() {
                result.video_url = content_url(state, &task.id, "video");
                result
                    .thumbnail_url
                    .get_or_insert_with(|| content_url(state, &task.id, "thumbnail"));
            }
            if result.duration.is_none() {
                result.duration = task.request_json().get("duration").and_then(Value::as_f64);
            }
            Finish {
                state: "succeeded".into(),
                result: serde_json::to_value(&result).ok(),
                raw: Some(p.raw),
                error: None,
                settle: Settle::Charge(task.cost_held),
            }
        }
        TaskState::Cancelled => Finish {
            state: "cancelled".into(),
            result: None,
            raw: Some(p.raw),
            error: p.error,
            settle: Settle::Release,
        },
        _ => Finish {
            state: "failed".into(),
            result: None,
            raw: Some(p.raw),
            error: p.error.or(Some("the provider reported a failure".into())),
            settle: Settle::Release,
        },
    }
}

impl Provider {
    fn content_request_needed(self) -> bool {
        matches!(self, Provider::OpenAiVideo | Provider::Veo)
    }
}

/// The gateway's own link to a finished video, signed so it plays in a browser without a key.
pub fn content_url(state: &AppState, task_id: &str, variant: &str) -> String {
    let token = state.master.sign(task_id);
    format!(
        "{}/v1/videos/{task_id}/content?variant={variant}&token={token}",
        state.public_url()
    )
}

async fn finish(state: &AppState, task: &Task, f: Finish) {
    match state.store.finish_task(&task.id, &f).await {
        Ok(Some(t)) => ended(state, &t).await,
        Ok(None) => {} // someone else ended it first: nothing more to do, nothing charged twice
        Err(e) => tracing::error!(error = %e, task = %task.id, "finishing a task failed"),
    }
}

/// Fail and refund what never finished: tasks past the timeout, and submissions a dead
/// process left half-done.
async fn sweep(state: &AppState) {
    let timeout_ms = (state.settings.tasks.timeout_secs * 1000.0) as i64;
    let overdue = state
        .store
        .overdue_tasks(now_ms() - timeout_ms)
        .await
        .unwrap_or_default();
    for id in overdue {
        if let Ok(Some(t)) = state.store.task(&id).await {
            finish(
                state,
                &t,
                failed("the task did not finish in time; it has been refunded"),
            )
            .await;
        }
    }
    let stuck = state
        .store
        .stuck_submissions(now_ms() - STUCK_SUBMIT_MS)
        .await
        .unwrap_or_default();
    for id in stuck {
        if let Ok(Some(t)) = state.store.task(&id).await {
            finish(
                state,
                &t,
                failed("the submission was interrupted; it has been refunded"),
            )
            .await;
        }
    }
}

/// A task has ended: one usage-log row for its outcome (as for any request), and the webhook.
pub async fn ended(state: &AppState, task: &Task) {
    let status = match task.state.as_str() {
        "succeeded" => 200,
        "cancelled" => 499,
        _ => 502,
    };
    state.logger.log(UsageLog {
        id: task.id.clone(),
        ts: task.finished_at.unwrap_or_else(now_ms),
        user_id: task.user_id.clone(),
        key_id: task.key_id.clone(),
        endpoint: format!("task:{}", task.front),
        model: task.model.clone(),
        channel_id: task.channel_id.clone(),
        cost: task.cost_charged,
        latency_ms: task.finished_at.unwrap_or_else(now_ms) - task.created_at,
        status,
        error: task.error.clone(),
        ..Default::default()
    });
    notify(state, task).await;
}

/// Tell the task's webhook (if any) about its new state, in its front door's format.
pub async fn notify(state: &AppState, task: &Task) {
    let Some(url) = task.notify_hook.as_deref() else {
        return;
    };
    let body = json!(front::render(state, task)).to_string();
    let event = format!("task.{}", task.state);
    if let Err(e) = state
        .store
        .enqueue_delivery(&task.id, &task.user_id, url, &event, &body)
        .await
    {
        tracing::error!(error = %e, task = %task.id, "queueing a webhook failed");
    }
}
