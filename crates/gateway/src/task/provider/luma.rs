//! Luma, in its two dialects: the official Dream Machine API (`/dream-machine/v1/generations`,
//! keyframes) and the older relay format (`/luma/generations`, user_prompt / image_url).

use serde_json::{json, Value};

use super::{json_call, str_at, Target};
use crate::task::{Accepted, Polled, TaskState, VideoRequest, VideoResult};
use crate::upstream::Failure;

const ASPECTS: &[&str] = &["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"];

pub fn check(r: &VideoRequest) -> Result<(), String> {
    if let Some(d) = r.duration.filter(|d| ![5, 9].contains(d)) {
        return Err(format!(
            "duration: Luma makes 5 or 9 second videos, not {d}"
        ));
    }
    if let Some(a) = r.aspect_ratio.as_deref().filter(|a| !ASPECTS.contains(a)) {
        return Err(format!("aspect_ratio: Luma does not support {a}"));
    }
    if r.negative_prompt.is_some() {
        return Err("negative_prompt: Luma does not take a negative prompt".into());
    }
    Ok(())
}

pub async fn submit_official(t: &Target<'_>, r: &VideoRequest) -> Result<Accepted, Failure> {
    let mut body = json!({"prompt": r.prompt, "model": t.model, "loop": r.loop_video, "generation_type": "video"});
    if let Some(a) = &r.aspect_ratio {
        body["aspect_ratio"] = json!(a);
    }
    if let Some(res) = &r.resolution {
        body["resolution"] = json!(res);
    }
    if let Some(d) = r.duration {
        body["duration"] = json!(format!("{d}s"));
    }
    let frame = |url: &str| json!({"type": "image", "url": url});
    if let Some(img) = &r.image {
        body["keyframes"]["frame0"] = frame(img);
    }
    if let Some(img) = &r.image_end {
        body["keyframes"]["frame1"] = frame(img);
    }
    let req = t
        .upstream
        .client()
        .post(t.url("/dream-machine/v1/generations"))
        .bearer_auth(t.key())
        .json(&body);
    accepted(json_call(t, req).await?)
}

pub async fn submit_legacy(t: &Target<'_>, r: &VideoRequest) -> Result<Accepted, Failure> {
    let mut body = json!({"user_prompt": r.prompt, "expand_prompt": true, "loop": r.loop_video, "model_name": t.model});
    for (field, v) in [
        ("image_url", &r.image),
        ("image_end_url", &r.image_end),
        ("aspect_ratio", &r.aspect_ratio),
        ("resolution", &r.resolution),
    ] {
        if let Some(v) = v {
            body[field] = json!(v);
        }
    }
    if let Some(d) = r.duration {
        body["duration"] = json!(format!("{d}s"));
    }
    let req = t
        .upstream
        .client()
        .post(t.url("/luma/generations"))
        .bearer_auth(t.key())
        .json(&body);
    accepted(json_call(t, req).await?)
}

fn accepted(raw: Value) -> Result<Accepted, Failure> {
    let id = str_at(&raw, "/id")
        .ok_or_else(|| Failure::transport("Luma answered without a generation id".into()))?;
    Ok(Accepted {
        upstream_id: id.to_string(),
        meta: Value::Null,
        raw,
    })
}

pub async fn poll_official(t: &Target<'_>, id: &str) -> Result<Polled, Failure> {
    let req = t
        .upstream
        .client()
        .get(t.url(&format!("/dream-machine/v1/generations/{id}")))
        .bearer_auth(t.key());
    let raw = json_call(t, req).await?;
    let state = match str_at(&raw, "/state").unwrap_or("") {
        "queued" => TaskState::Queued,
        "dreaming" => TaskState::Running,
        "completed" => TaskState::Succeeded,
        _ => TaskState::Failed,
    };
    let result = str_at(&raw, "/assets/video").map(|url| VideoResult {
        video_url: url.into(),
        thumbnail_url: str_at(&raw, "/assets/image").map(str::to_string),
        ..Default::default()
    });
    let error = (state == TaskState::Failed).then(|| {
        str_at(&raw, "/failure_reason")
            .unwrap_or("Luma reported a failure")
            .to_string()
    });
    Ok(Polled {
        state,
        progress: None,
        result,
        error,
        raw,
    })
}

pub async fn poll_legacy(t: &Target<'_>, id: &str) -> Result<Polled, Failure> {
    let req = t
        .upstream
        .client()
        .get(t.url(&format!("/luma/generations/{id}")))
        .bearer_auth(t.key());
    let raw = json_call(t, req).await?;
    let state = match str_at(&raw, "/state").unwrap_or("") {
        "pending" => TaskState::Queued,
        "processing" => TaskState::Running,
        "completed" => TaskState::Succeeded,
        _ => TaskState::Failed,
    };
    let dim = |p: &str| raw.pointer(p).and_then(Value::as_u64).map(|v| v as u32);
    let result = str_at(&raw, "/video/url").map(|url| VideoResult {
        video_url: url.into(),
        thumbnail_url: str_at(&raw, "/thumbnail/url").map(str::to_string),
        last_frame_url: str_at(&raw, "/last_frame/url").map(str::to_string),
        width: dim("/video/width"),
        height: dim("/video/height"),
        duration: None,
    });
    let error = (state == TaskState::Failed).then(|| {
        str_at(&raw, "/failure_reason")
            .or_else(|| str_at(&raw, "/fail_reason"))
            .unwrap_or("Luma reported a failure")
            .to_string()
    });
    Ok(Polled {
        state,
        progress: None,
        result,
        error,
        raw,
    })
}
