//! Moderations, images and audio: small deterministic answers that are enough
//! for the gateway to route, meter and relay these endpoints.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::{bad_request, faults_for, now, prepare};
use crate::assets;
use crate::Sim;

const CATEGORIES: &[&str] = &[
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
];

const MAX_IMAGES: u64 = 10;

fn either(result: Result<Response, Response>) -> Response {
    match result {
        Ok(resp) | Err(resp) => resp,
    }
}

/// `POST /v1/moderations`: flags violence iff the text contains "kill".
pub async fn moderations(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    either(moderate(&sim, &headers, &body).await)
}

async fn moderate(sim: &Sim, headers: &HeaderMap, body: &[u8]) -> Result<Response, Response> {
    let req = prepare(sim, headers, body).await?;
    let texts = moderation_texts(req.body.get("input"))
        .ok_or_else(|| bad_request("'input' must be a string or an array", Some("input")))?;
    let model = if req.model.is_empty() {
        "omni-moderation-latest"
    } else {
        &req.model
    };
    let results: Vec<Value> = texts.iter().map(|t| moderation_result(t)).collect();
    let id = format!("modr-sim{:016x}", sim.next_id());
    Ok(Json(json!({"id": id, "model": model, "results": results})).into_response())
}

/// Strings give one result each; multimodal parts give one result together.
fn moderation_texts(value: Option<&Value>) -> Option<Vec<String>> {
    match value? {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) if items.iter().all(Value::is_string) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        Value::Array(parts) => {
            let text = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str));
            Some(vec![text.collect::<Vec<_>>().join(" ")])
        }
        _ => None,
    }
}

fn moderation_result(text: &str) -> Value {
    let flagged = text
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case("kill"));
    let mut categories = Map::new();
    let mut scores = Map::new();
    for &name in CATEGORIES {
        let hit = flagged && name == "violence";
        categories.insert(name.to_owned(), json!(hit));
        scores.insert(name.to_owned(), json!(if hit { 0.97 } else { 0.000_01 }));
    }
    json!({"flagged": flagged, "categories": categories, "category_scores": scores})
}

/// `POST /v1/images/generations`: URLs point back at this sim's PNG.
pub async fn images(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    either(generate_images(&sim, &headers, &body).await)
}

async fn generate_images(
    sim: &Sim,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Response> {
    let req = prepare(sim, headers, body).await?;
    let prompt = req.str("prompt").filter(|p| !p.is_empty());
    let prompt =
        prompt.ok_or_else(|| bad_request("'prompt' is a required property", Some("prompt")))?;
    let n = req.u64("n").unwrap_or(1).clamp(1, MAX_IMAGES);
    let revised = format!("Simulated image of: {prompt}");
    let item = match req.str("response_format") {
        Some("b64_json") => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(assets::IMAGE_PNG);
            json!({"b64_json": b64, "revised_prompt": revised})
        }
        _ => json!({"url": image_url(headers), "revised_prompt": revised}),
    };
    let data = vec![item; n as usize];
    Ok(Json(json!({"created": now(), "data": data})).into_response())
}

fn image_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    format!("http://{}/sim/files/image.png", host.unwrap_or("127.0.0.1"))
}

/// `POST /v1/audio/speech`: MP3-looking bytes sized by the input.
pub async fn speech(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    either(synthesize(&sim, &headers, &body).await)
}

async fn synthesize(sim: &Sim, headers: &HeaderMap, body: &[u8]) -> Result<Response, Response> {
    let req = prepare(sim, headers, body).await?;
    let input = req.str("input").filter(|i| !i.is_empty());
    let input =
        input.ok_or_else(|| bad_request("'input' is a required property", Some("input")))?;
    let audio = assets::speech_mp3(input.chars().count());
    Ok(([(header::CONTENT_TYPE, "audio/mpeg")], audio).into_response())
}

/// `POST /v1/audio/transcriptions` (and translations): multipart upload.
pub async fn transcriptions(
    State(sim): State<Sim>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    either(transcribe(&sim, &headers, form).await)
}

#[derive(Default)]
struct Upload {
    file_bytes: Option<usize>,
    model: String,
    response_format: String,
}

async fn transcribe(
    sim: &Sim,
    headers: &HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, Response> {
    let bad_form = |_| bad_request("Expected a multipart/form-data body", None);
    let upload = read_upload(form.map_err(bad_form)?).await?;
    faults_for(sim, headers, &upload.model).await?;
    let size = upload
        .file_bytes
        .ok_or_else(|| bad_request("'file' is a required property", Some("file")))?;
    let text = format!("Simulated transcription of {size} bytes.");
    Ok(match upload.response_format.as_str() {
        "text" | "srt" | "vtt" => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
        }
        _ => Json(json!({"text": text})).into_response(),
    })
}

async fn read_upload(mut form: Multipart) -> Result<Upload, Response> {
    let broken = |_| bad_request("Malformed multipart body", None);
    let mut upload = Upload::default();
    while let Some(field) = form.next_field().await.map_err(broken)? {
        match field.name().unwrap_or("") {
            "file" => upload.file_bytes = Some(field.bytes().await.map_err(broken)?.len()),
            "model" => upload.model = field.text().await.map_err(broken)?,
            "response_format" => upload.response_format = field.text().await.map_err(broken)?,
            _ => {}
        }
    }
    Ok(upload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_is_matched_as_a_word() {
        assert_eq!(moderation_result("I will KILL it")["flagged"], true);
        assert_eq!(moderation_result("kill.")["categories"]["violence"], true);
        assert_eq!(moderation_result("skilled worker")["flagged"], false);
    }

    #[test]
    fn moderation_input_shapes() {
        let n = |v: Value| moderation_texts(Some(&v)).map(|t| t.len());
        assert_eq!(n(json!("a")), Some(1));
        assert_eq!(n(json!(["a", "b"])), Some(2));
        assert_eq!(
            n(json!([{"type": "text", "text": "a"}, {"type": "image_url"}])),
            Some(1)
        );
    }
}
