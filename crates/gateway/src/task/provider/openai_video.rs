//! OpenAI's Videos API (Sora): `seconds` and `size` as strings; the finished video is fetched
//! from `/v1/videos/{id}/content` with the channel's key (the gateway serves it on).

use serde_json::{json, Value};

use super::{json_call, str_at, Target};
use crate::task::{Accepted, Polled, TaskState, VideoRequest};
use crate::upstream::Failure;

fn size(aspect: Option<&str>, resolution: Option<&str>) -> Option<&'static str> {
    Some(
        match (aspect.unwrap_or("9:16"), resolution.unwrap_or("720p")) {
            ("9:16", "720p") => "720x1280",
            ("16:9", "720p") => "1280x720",
            ("9:16", "1080p") => "1024x1792",
            ("16:9", "1080p") => "1792x1024",
            _ => return None,
        },
    )
}

pub fn check(r: &VideoRequest) -> Result<(), String> {
    if r.image_end.is_some() {
        return Err(
            "image_end_url: OpenAI Videos takes one reference image, not an end frame".into(),
        );
    }
    if r.loop_video {
        return Err("loop: OpenAI Videos cannot make looping videos".into());
    }
    if let Some(d) = r.duration.filter(|d| ![4, 8, 12].contains(d)) {
        return Err(format!(
            "duration: OpenAI Videos makes 4, 8 or 12 second videos, not {d}"
        ));
    }
    if size(r.aspect_ratio.as_deref(), r.resolution.as_deref()).is_none() {
        return Err(
            "aspect_ratio/resolution: OpenAI Videos makes 16:9 or 9:16 at 720p or 1080p".into(),
        );
    }
    Ok(())
}

pub async fn submit(t: &Target<'_>, r: &VideoRequest) -> Result<Accepted, Failure> {
    let seconds = r.duration.unwrap_or(4).to_string();
    let size = size(r.aspect_ratio.as_deref(), r.resolution.as_deref()).unwrap_or("720x1280");
    let req = t
        .upstream
        .client()
        .post(t.url("/v1/videos"))
        .bearer_auth(t.key());
    // A reference image goes up as a file (`input_reference`), so the request is multipart.
    let req = match r.image.as_deref().and_then(decode_data_uri) {
        Some((bytes, mime)) => {
            let file = reqwest::multipart::Part::bytes(bytes)
                .file_name("reference")
                .mime_str(&mime)
                .map_err(|e| Failure::transport(e.to_string()))?;
            let form = reqwest::multipart::Form::new()
                .text("model", t.model.to_string())
                .text("prompt", r.prompt.clone())
                .text("seconds", seconds)
                .text("size", size)
                .part("input_reference", file);
            req.multipart(form)
        }
        None => req
            .json(&json!({"model": t.model, "prompt": r.prompt, "seconds": seconds, "size": size})),
    };
    let raw = json_call(t, req).await?;
    let id = str_at(&raw, "/id")
        .ok_or_else(|| Failure::transport("OpenAI answered without a video id".into()))?;
    Ok(Accepted {
        upstream_id: id.to_string(),
        meta: Value::Null,
        raw,
    })
}

/// `data:image/png;base64,…` → (bytes, mime).
fn decode_data_uri(uri: &str) -> Option<(Vec<u8>, String)> {
    use base64::Engine;
    let (head, b64) = uri.strip_prefix("data:")?.split_once(',')?;
    let mime = head.trim_end_matches(";base64");
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some((
        bytes,
        if mime.is_empty() {
            "application/octet-stream".into()
        } else {
            mime.into()
        },
    ))
}

pub async fn poll(t: &Target<'_>, id: &str) -> Result<Polled, Failure> {
    let req = t
        .upstream
        .client()
        .get(t.url(&format!("/v1/videos/{id}")))
        .bearer_auth(t.key());
    let raw = json_call(t, req).await?;
    let state = match str_at(&raw, "/status").unwrap_or("") {
        "queued" => TaskState::Queued,
        "in_progress" => TaskState::Running,
        "completed" => TaskState::Succeeded,
        _ => TaskState::Failed,
    };
    let error = (state == TaskState::Failed).then(|| {
        str_at(&raw, "/error/message")
            .unwrap_or("OpenAI reported a failure")
            .to_string()
    });
    let progress = raw.get("progress").and_then(Value::as_i64);
    // The result's URL is the gateway's own content route, filled in by the engine.
    Ok(Polled {
        state,
        progress,
        result: None,
        error,
        raw,
    })
}

pub fn content(t: &Target<'_>, id: &str, variant: &str) -> reqwest::RequestBuilder {
    let url = t.url(&format!("/v1/videos/{id}/content?variant={variant}"));
    t.upstream.client().get(url).bearer_auth(t.key())
}
