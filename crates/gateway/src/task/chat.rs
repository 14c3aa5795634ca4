//! Video through plain chat completions, as chat apps call it. The last user message is the
//! request: URLs in its text (and `image_url` parts) are the reference images (first = start
//! frame, second = end frame), the rest is the prompt. Streamed, the first chunk carries the
//! task id at once, a line follows each change of state or progress, and the last is the
//! video as markdown. Not streamed, one `chat.completion` when the video is ready (or, past
//! `chat_wait_secs`, the task id and where to look it up). A caller who leaves loses nothing:
//! the task goes on and stays visible.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};
use switchyard_store::Task;
use tokio::sync::mpsc;

use super::submit::{dispatch, prepare, Submission};
use super::{TaskState, TaskView, VideoRequest};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// How often a follower re-reads its task (the engine writes the news).
const FOLLOW_EVERY: Duration = Duration::from_millis(300);

pub async fn handle(
    state: AppState,
    principal: Principal,
    body: Value,
) -> Result<Response, ApiError> {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let request = request_from_messages(&body)?;
    let notify_hook = body
        .get("notify_hook")
        .or_else(|| body.get("callback_url"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let prepared = prepare(
        &state,
        Submission {
            principal,
            model: model.clone(),
            front: "chat",
            request,
            notify_hook,
        },
    )
    .await?;
    let reply = Reply::new(&model, &prepared.task.id);
    if !stream {
        let task = dispatch(&state, prepared).await?;
        let wait = Duration::from_secs_f64(state.settings.tasks.chat_wait_secs.max(0.0));
        let task = follow(&state, task, Instant::now() + wait, |_| true).await;
        return Ok(axum::Json(reply.completion(&final_text(&task))).into_response());
    }
    let (tx, mut rx) = mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        let send = |s: String| tx.send(Bytes::from(s));
        if send(reply.chunk(json!({"role": "assistant", "content": format!("> Task submitted ✅ task_id: `{}`\n", reply.task_id)}), None)).await.is_err() {
            return;
        }
        let task = match dispatch(&state, prepared).await {
            Ok(t) => t,
            Err(e) => {
                let _ = send(reply.chunk(
                    json!({"content": format!("\n❌ Generation failed: {}\n", e.message)}),
                    None,
                ))
                .await;
                let _ = send(reply.chunk(json!({}), Some("stop"))).await;
                let _ = send("data: [DONE]\n\n".into()).await;
                return;
            }
        };
        let mut last = (String::new(), -1);
        let task = follow(
            &state,
            task,
            Instant::now() + Duration::from_secs(24 * 3600),
            |t| {
                let now = (t.state.clone(), t.progress);
                if now == last || TaskState::parse(&t.state).is_final() {
                    return !tx.is_closed();
                }
                last = now;
                // try_send: a slow reader skips a progress line rather than stall the follower.
                let _ = tx.try_send(Bytes::from(
                    reply.chunk(json!({"content": progress_line(t)}), None),
                ));
                !tx.is_closed()
            },
        )
        .await;
        let _ = send(reply.chunk(json!({"content": final_text(&task)}), None)).await;
        let _ = send(reply.chunk(json!({}), Some("stop"))).await;
        let _ = send("data: [DONE]\n\n".into()).await;
    });
    let body = Body::from_stream(futures::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|o| o.map(Ok::<_, Infallible>))
    }));
    let mut r = Response::new(body);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(r)
}

/// Re-read the task until it ends, the deadline passes, or `on_change` says stop (the caller left).
async fn follow(
    state: &AppState,
    mut task: Task,
    deadline: Instant,
    mut on_change: impl FnMut(&Task) -> bool,
) -> Task {
    loop {
        if !on_change(&task)
            || TaskState::parse(&task.state).is_final()
            || Instant::now() >= deadline
        {
            return task;
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
        match state.store.task(&task.id).await {
            Ok(Some(t)) => task = t,
            Ok(None) => return task,
            Err(e) => tracing::warn!(error = %e, "re-reading a task failed"),
        }
    }
}

fn progress_line(t: &Task) -> String {
    match TaskState::parse(&t.state) {
        TaskState::Submitting | TaskState::Queued => "> Queued…\n".into(),
        _ if t.progress > 0 => format!("> Generating… {}%\n", t.progress),
        _ => "> Generating…\n".into(),
    }
}

/// The answer once the task has ended (or the wait is over).
fn final_text(task: &Task) -> String {
    let v = TaskView::new(task);
    match v.state {
        TaskState::Succeeded => {
            let r = v.result.unwrap_or_default();
            let mut out = String::from("\n");
            if let Some(thumb) = &r.thumbnail_url {
                out.push_str(&format!("![preview]({thumb})\n\n"));
            }
            out.push_str(&format!("[▶️ Watch the video]({}) · [⬇️ Download]({})\n\n", r.video_url, r.video_url));
            if let (Some(w), Some(h)) = (r.width, r.height) {
                out.push_str(&format!("- Size: {w}×{h}\n"));
            }
            if let Some(d) = r.duration.or(v.request.duration.map(f64::from)) {
                out.push_str(&format!("- Duration: {d} s\n"));
            }
            out.push_str(&format!("- Task: `{}`\n", task.id));
            out
        }
        TaskState::Failed | TaskState::Cancelled => {
            format!("\n❌ Generation failed: {}\nNothing was charged for this task (`{}`).\n", task.error.as_deref().unwrap_or("unknown reason"), task.id)
        }
        _ => format!(
            "\n⏳ The video is still being made. Task `{id}` keeps running: look it up with `GET /v1/video/generations/{id}`.\n",
            id = task.id
        ),
    }
}

/// The chat completion's envelope: one id and creation time for every chunk.
struct Reply {
    id: String,
    model: String,
    created: i64,
    task_id: String,
}

impl Reply {
    fn new(model: &str, task_id: &str) -> Reply {
        Reply {
            id: format!("chatcmpl-{task_id}"),
            model: model.into(),
            created: switchyard_store::now_ms() / 1000,
            task_id: task_id.into(),
        }
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> String {
        let c = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]});
        format!("data: {c}\n\n")
    }

    fn completion(&self, text: &str) -> Value {
        let content = format!("> Task submitted ✅ task_id: `{}`\n{text}", self.task_id);
        json!({"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null}, "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}})
    }
}

/// Prompt and images from the last user message; optional `duration`, `aspect_ratio`,
/// `resolution`, `loop` at the top level of the body.
pub fn request_from_messages(body: &Value) -> Result<VideoRequest, ApiError> {
    let last_user = body
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| {
            m.iter()
                .rev()
                .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        })
        .ok_or_else(|| {
            ApiError::bad_request("Send the video request as a user message.")
                .with_param("messages")
        })?;
    let mut images = Vec::new();
    let mut words = Vec::new();
    let mut take_text = |text: &str, images: &mut Vec<String>| {
        for w in text.split_whitespace() {
            if w.starts_with("http://") || w.starts_with("https://") {
                images.push(w.to_string());
            } else {
                words.push(w.to_string());
            }
        }
    };
    match last_user.get("content") {
        Some(Value::String(s)) => take_text(s, &mut images),
        Some(Value::Array(parts)) => {
            for p in parts {
                if let Some(t) = p.get("text").and_then(Value::as_str) {
                    take_text(t, &mut images);
                }
                if let Some(u) = p
                    .pointer("/image_url/url")
                    .or_else(|| p.get("image_url"))
                    .and_then(Value::as_str)
                {
                    images.push(u.to_string());
                }
            }
        }
        _ => {
            return Err(
                ApiError::bad_request("The last user message has no content.")
                    .with_param("messages"),
            )
        }
    }
    let int = |k: &str| body.get(k).and_then(Value::as_u64).map(|v| v as u32);
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let mut images = images.into_iter();
    Ok(VideoRequest {
        prompt: words.join(" "),
        image: images.next(),
        image_end: images.next(),
        duration: int("duration"),
        aspect_ratio: text("aspect_ratio"),
        resolution: text("resolution"),
        loop_video: body.get("loop").and_then(Value::as_bool).unwrap_or(false),
        negative_prompt: text("negative_prompt"),
        seed: body.get("seed").and_then(Value::as_i64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_request_splits_into_image_and_prompt() {
        let body = json!({"model": "runway-video", "messages": [{"role": "user", "content": [{"type": "text",
            "text": "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg 两只狗骑摩托"}]}]});
        let r = request_from_messages(&body).unwrap();
        assert_eq!(r.prompt, "两只狗骑摩托");
        assert!(r
            .image
            .unwrap()
            .ends_with("2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg"));
        assert_eq!(r.image_end, None);
    }

    #[test]
    fn second_url_and_image_parts_are_the_end_frame() {
        let body = json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "a sunrise https://a/1.png"},
            {"type": "image_url", "image_url": {"url": "https://a/2.png"}}]}], "duration": 10});
        let r = request_from_messages(&body).unwrap();
        assert_eq!(
            (
                r.image.as_deref(),
                r.image_end.as_deref(),
                r.prompt.as_str(),
                r.duration
            ),
            (
                Some("https://a/1.png"),
                Some("https://a/2.png"),
                "a sunrise",
                Some(10)
            )
        );
    }
}
