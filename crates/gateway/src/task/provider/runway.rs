//! Runway: `X-Runway-Version` on every call; image_to_video or text_to_video; poll /v1/tasks.

use serde_json::{json, Value};

use super::{json_call, ratio_pixels, str_at, Target};
use crate::task::{Accepted, Polled, TaskState, VideoRequest, VideoResult};
use crate::upstream::Failure;

const VERSION: &str = "2024-11-06";

pub fn check(r: &VideoRequest) -> Result<(), String> {
    if r.loop_video {
        return Err("loop: Runway cannot make looping videos".into());
    }
    if let Some(d) = r.duration.filter(|d| ![5, 10].contains(d)) {
        return Err(format!(
            "duration: Runway makes 5 or 10 second videos, not {d}"
        ));
    }
    if let Some(a) = r
        .aspect_ratio
        .as_deref()
        .filter(|a| ratio_pixels(a).is_none())
    {
        return Err(format!(
            "aspect_ratio: Runway supports 16:9, 9:16, 1:1, 4:3, 3:4 and 21:9, not {a}"
        ));
    }
    if r.prompt.encode_utf16().count() > 1000 {
        return Err("prompt: Runway accepts at most 1000 characters".into());
    }
    Ok(())
}

pub async fn submit(t: &Target<'_>, r: &VideoRequest) -> Result<Accepted, Failure> {
    let mut body =
        json!({"model": t.model, "promptText": r.prompt, "duration": r.duration.unwrap_or(5)});
    if let Some((w, h)) = r.aspect_ratio.as_deref().and_then(ratio_pixels) {
        body["ratio"] = json!(format!("{w}:{h}"));
    }
    if let Some(seed) = r.seed {
        body["seed"] = json!(seed);
    }
    let path = match (&r.image, &r.image_end) {
        (Some(first), Some(last)) => {
            body["promptImage"] =
                json!([{"uri": first, "position": "first"}, {"uri": last, "position": "last"}]);
            "/v1/image_to_video"
        }
        (Some(first), None) => {
            body["promptImage"] = json!(first);
            "/v1/image_to_video"
        }
        _ => "/v1/text_to_video",
    };
    let req = t
        .upstream
        .client()
        .post(t.url(path))
        .bearer_auth(t.key())
        .header("X-Runway-Version", VERSION)
        .json(&body);
    let raw = json_call(t, req).await?;
    let id = str_at(&raw, "/id")
        .ok_or_else(|| Failure::transport("Runway answered without a task id".into()))?;
    Ok(Accepted {
        upstream_id: id.to_string(),
        meta: Value::Null,
        raw,
    })
}

pub async fn poll(t: &Target<'_>, id: &str) -> Result<Polled, Failure> {
    let req = t
        .upstream
        .client()
        .get(t.url(&format!("/v1/tasks/{id}")))
        .bearer_auth(t.key())
        .header("X-Runway-Version", VERSION);
    let raw = json_call(t, req).await?;
    let state = match str_at(&raw, "/status").unwrap_or("") {
        "PENDING" | "THROTTLED" => TaskState::Queued,
        "RUNNING" => TaskState::Running,
        "SUCCEEDED" => TaskState::Succeeded,
        "CANCELLED" => TaskState::Cancelled,
        _ => TaskState::Failed,
    };
    let progress = raw
        .get("progress")
        .and_then(Value::as_f64)
        .map(|p| (p * 100.0).round() as i64);
    let result = str_at(&raw, "/output/0").map(|url| VideoResult {
        video_url: url.into(),
        ..Default::default()
    });
    let error = (state == TaskState::Failed).then(|| {
        let why = str_at(&raw, "/failure").unwrap_or("Runway reported a failure");
        match str_at(&raw, "/failureCode") {
            Some(code) => format!("{why} ({code})"),
            None => why.to_string(),
        }
    });
    Ok(Polled {
        state,
        progress,
        result,
        error,
        raw,
    })
}

pub async fn cancel(t: &Target<'_>, id: &str) -> Result<(), Failure> {
    let req = t
        .upstream
        .client()
        .delete(t.url(&format!("/v1/tasks/{id}")))
        .bearer_auth(t.key())
        .header("X-Runway-Version", VERSION);
    t.upstream.execute(req).await.map(|_| ())
}
