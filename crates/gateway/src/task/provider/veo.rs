//! Google Veo through the Gemini API: `predictLongRunning`, then poll the operation. Images
//! go inline as base64, and the finished video's URI needs the key to download (the gateway
//! serves it on).

use serde_json::{json, Value};

use super::{json_call, str_at, Target};
use crate::task::{Accepted, Polled, TaskState, VideoRequest};
use crate::upstream::Failure;

pub fn check(r: &VideoRequest) -> Result<(), String> {
    if r.loop_video {
        return Err("loop: Veo cannot make looping videos".into());
    }
    if let Some(d) = r.duration.filter(|d| !(4..=8).contains(d)) {
        return Err(format!("duration: Veo makes 4 to 8 second videos, not {d}"));
    }
    if let Some(a) = r
        .aspect_ratio
        .as_deref()
        .filter(|a| !["16:9", "9:16"].contains(a))
    {
        return Err(format!("aspect_ratio: Veo supports 16:9 and 9:16, not {a}"));
    }
    Ok(())
}

fn inline(data_uri: &str) -> Value {
    let (mime, b64) = data_uri
        .strip_prefix("data:")
        .and_then(|r| r.split_once(','))
        .map(|(m, b)| (m.trim_end_matches(";base64"), b))
        .unwrap_or(("image/png", ""));
    json!({"bytesBase64Encoded": b64, "mimeType": mime})
}

pub async fn submit(t: &Target<'_>, r: &VideoRequest) -> Result<Accepted, Failure> {
    let mut instance = json!({"prompt": r.prompt});
    if let Some(img) = &r.image {
        instance["image"] = inline(img);
    }
    if let Some(img) = &r.image_end {
        instance["lastFrame"] = inline(img);
    }
    let mut parameters = json!({"durationSeconds": r.duration.unwrap_or(8)});
    for (field, v) in [
        ("aspectRatio", &r.aspect_ratio),
        ("resolution", &r.resolution),
        ("negativePrompt", &r.negative_prompt),
    ] {
        if let Some(v) = v {
            parameters[field] = json!(v);
        }
    }
    if let Some(seed) = r.seed {
        parameters["seed"] = json!(seed);
    }
    let body = json!({"instances": [instance], "parameters": parameters});
    let url = t.url(&format!("/v1beta/models/{}:predictLongRunning", t.model));
    let req = t
        .upstream
        .client()
        .post(url)
        .header("x-goog-api-key", t.key())
        .json(&body);
    let raw = json_call(t, req).await?;
    let name = str_at(&raw, "/name")
        .ok_or_else(|| Failure::transport("Veo answered without an operation name".into()))?;
    Ok(Accepted {
        upstream_id: name.to_string(),
        meta: Value::Null,
        raw,
    })
}

pub async fn poll(t: &Target<'_>, name: &str) -> Result<Polled, Failure> {
    let req = t
        .upstream
        .client()
        .get(t.url(&format!("/v1beta/{name}")))
        .header("x-goog-api-key", t.key());
    let raw = json_call(t, req).await?;
    let done = raw.get("done").and_then(Value::as_bool).unwrap_or(false);
    let (state, error) = match (done, raw.get("error"), video_uri(&raw)) {
        (false, _, _) => (TaskState::Running, None),
        (true, Some(e), _) => (
            TaskState::Failed,
            Some(
                str_at(e, "/message")
                    .unwrap_or("Veo reported a failure")
                    .to_string(),
            ),
        ),
        (true, None, Some(_)) => (TaskState::Succeeded, None),
        (true, None, None) => (
            TaskState::Failed,
            Some("Veo finished without a video (it may have been filtered)".to_string()),
        ),
    };
    Ok(Polled {
        state,
        progress: None,
        result: None,
        error,
        raw,
    })
}

fn video_uri(raw: &Value) -> Option<&str> {
    str_at(
        raw,
        "/response/generateVideoResponse/generatedSamples/0/video/uri",
    )
}

pub fn content(t: &Target<'_>, raw: &Value) -> Option<reqwest::RequestBuilder> {
    let uri = video_uri(raw)?;
    Some(
        t.upstream
            .client()
            .get(uri)
            .header("x-goog-api-key", t.key()),
    )
}
