//! Kling: a short-lived HS256 JWT made from the channel's `AK|SK` key; text2video or
//! image2video, and polled on the same path family the task was created on.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{json_call, refused, str_at, Target};
use crate::task::{Accepted, Polled, TaskState, VideoRequest, VideoResult};
use crate::upstream::Failure;

pub fn check(r: &VideoRequest) -> Result<(), String> {
    if r.loop_video {
        return Err("loop: Kling cannot make looping videos".into());
    }
    if let Some(d) = r.duration.filter(|d| ![5, 10].contains(d)) {
        return Err(format!(
            "duration: Kling makes 5 or 10 second videos, not {d}"
        ));
    }
    if let Some(a) = r
        .aspect_ratio
        .as_deref()
        .filter(|a| !["16:9", "9:16", "1:1"].contains(a))
    {
        return Err(format!(
            "aspect_ratio: Kling supports 16:9, 9:16 and 1:1, not {a}"
        ));
    }
    if let Some(res) = r.resolution.as_deref().filter(|r| mode(r).is_none()) {
        return Err(format!(
            "resolution: Kling makes 720p (std) or 1080p (pro), not {res}"
        ));
    }
    if r.image.is_none() && r.image_end.is_some() {
        return Err("image_end_url: Kling needs a start image to use an end image".into());
    }
    Ok(())
}

fn mode(resolution: &str) -> Option<&'static str> {
    match resolution {
        "720p" => Some("std"),
        "1080p" => Some("pro"),
        _ => None,
    }
}

/// Kling takes a URL or raw base64: a `data:` URI loses its prefix.
fn image_arg(img: &str) -> &str {
    match img.strip_prefix("data:") {
        Some(rest) => rest.split_once(",").map(|(_, b64)| b64).unwrap_or(rest),
        None => img,
    }
}

/// `{alg: HS256}` token with `iss` = access key, valid from 5 s ago for 30 minutes.
pub fn jwt(key: &str) -> Result<String, Failure> {
    let (ak, sk) = key.split_once('|').ok_or_else(|| Failure {
        invalid_key: true,
        ..Failure::transport("a Kling channel key must be ACCESS_KEY|SECRET_KEY".into())
    })?;
    let now = switchyard_store::now_ms() / 1000;
    let head = B64URL.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = B64URL.encode(json!({"iss": ak, "exp": now + 1800, "nbf": now - 5}).to_string());
    let signing = format!("{head}.{claims}");
    let mut mac = Hmac::<Sha256>::new_from_slice(sk.as_bytes()).expect("HMAC takes any key length");
    mac.update(signing.as_bytes());
    Ok(format!(
        "{signing}.{}",
        B64URL.encode(mac.finalize().into_bytes())
    ))
}

pub async fn submit(t: &Target<'_>, r: &VideoRequest) -> Result<Accepted, Failure> {
    let mut body = json!({
        "model_name": t.model,
        "prompt": r.prompt,
        "duration": r.duration.unwrap_or(5).to_string(),
    });
    if let Some(a) = &r.aspect_ratio {
        body["aspect_ratio"] = json!(a);
    }
    if let Some(n) = &r.negative_prompt {
        body["negative_prompt"] = json!(n);
    }
    if let Some(m) = r.resolution.as_deref().and_then(mode) {
        body["mode"] = json!(m);
    }
    let family = match &r.image {
        Some(img) => {
            body["image"] = json!(image_arg(img));
            if let Some(tail) = &r.image_end {
                body["image_tail"] = json!(image_arg(tail));
            }
            "image2video"
        }
        None => "text2video",
    };
    let req = t
        .upstream
        .client()
        .post(t.url(&format!("/v1/videos/{family}")))
        .bearer_auth(jwt(t.key())?)
        .json(&body);
    let raw = answer(json_call(t, req).await?)?;
    let id = str_at(&raw, "/data/task_id")
        .ok_or_else(|| Failure::transport("Kling answered without a task id".into()))?;
    Ok(Accepted {
        upstream_id: id.to_string(),
        meta: json!({"family": family}),
        raw,
    })
}

/// Kling says no with a non-zero `code` in an otherwise ordinary answer.
fn answer(raw: Value) -> Result<Value, Failure> {
    match raw.get("code").and_then(Value::as_i64) {
        Some(0) | None => Ok(raw),
        Some(code) => Err(refused(
            format!(
                "Kling refused the task ({code}): {}",
                str_at(&raw, "/message").unwrap_or("")
            ),
            raw,
        )),
    }
}

pub async fn poll(t: &Target<'_>, id: &str, meta: &Value) -> Result<Polled, Failure> {
    let family = str_at(meta, "/family").unwrap_or("text2video");
    let req = t
        .upstream
        .client()
        .get(t.url(&format!("/v1/videos/{family}/{id}")))
        .bearer_auth(jwt(t.key())?);
    let raw = answer(json_call(t, req).await?)?;
    let state = match str_at(&raw, "/data/task_status").unwrap_or("") {
        "submitted" => TaskState::Queued,
        "processing" => TaskState::Running,
        "succeed" => TaskState::Succeeded,
        _ => TaskState::Failed,
    };
    let result = str_at(&raw, "/data/task_result/videos/0/url").map(|url| VideoResult {
        video_url: url.into(),
        duration: str_at(&raw, "/data/task_result/videos/0/duration").and_then(|d| d.parse().ok()),
        ..Default::default()
    });
    let error = (state == TaskState::Failed).then(|| {
        str_at(&raw, "/data/task_status_msg")
            .filter(|m| !m.is_empty())
            .unwrap_or("Kling reported a failure")
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

#[cfg(test)]
mod tests {
    #[test]
    fn jwt_is_three_parts_and_needs_both_keys() {
        let t = super::jwt("ak|sk").unwrap();
        assert_eq!(t.split('.').count(), 3);
        assert!(super::jwt("no-separator").unwrap_err().invalid_key);
        assert_eq!(super::image_arg("data:image/png;base64,AAAA"), "AAAA");
        assert_eq!(super::image_arg("https://x/y.png"), "https://x/y.png");
    }
}
