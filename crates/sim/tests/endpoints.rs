//! Non-chat endpoints, auth and the sim's own control routes.

mod common;

use base64::Engine;
use serde_json::{json, Value};

use common::start;

#[tokio::test]
async fn auth_is_required() {
    let s = start().await;
    let resp = s.client.get(s.url("/v1/models")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = s
        .client
        .get(s.url("/v1/models"))
        .bearer_auth("")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = s
        .client
        .get(s.url("/v1/models"))
        .bearer_auth("sk-sim-invalid")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = resp.json().await.unwrap();
    let expected = json!({"error": {
        "message": "Incorrect API key provided: sk-sim-in***",
        "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}});
    assert_eq!(v, expected);
}

#[tokio::test]
async fn models_list() {
    let s = start().await;
    let v: Value = s
        .get("/v1/models")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["object"], "list");
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for id in [
        "gpt-4o-mini",
        "text-embedding-3-large",
        "whisper-1",
        "dall-e-3",
        "tts-1",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    assert_eq!(v["data"][0]["object"], "model");
    assert_eq!(v["data"][0]["owned_by"], "switchyard-sim");
}

#[tokio::test]
async fn embeddings_float_and_base64_agree() {
    let s = start().await;
    let body = json!({"model": "text-embedding-3-small", "input": ["hello world", "bye"]});
    let v: Value = s
        .post("/v1/embeddings", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "text-embedding-3-small");
    assert_eq!(v["usage"]["prompt_tokens"], 4); // 11 chars -> 3, 3 chars -> 1
    assert_eq!(v["usage"]["total_tokens"], 4);
    let floats: Vec<f32> = serde_json::from_value(v["data"][0]["embedding"].clone()).unwrap();
    assert_eq!(floats.len(), 1536);
    assert_eq!(v["data"][1]["index"], 1);
    let norm: f32 = floats.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-3);

    let body = json!({"model": "text-embedding-3-small", "input": ["hello world", "bye"],
        "encoding_format": "base64"});
    let v: Value = s
        .post("/v1/embeddings", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b64 = v["data"][0]["embedding"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let decoded: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(decoded, floats);
}

#[tokio::test]
async fn embedding_dimensions() {
    let s = start().await;
    let dims = |v: &Value| v["data"][0]["embedding"].as_array().unwrap().len();
    let body = json!({"model": "text-embedding-3-large", "input": "x"});
    let v: Value = s
        .post("/v1/embeddings", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dims(&v), 3072);
    let body = json!({"model": "text-embedding-3-large", "input": [1, 2, 3], "dimensions": 256});
    let v: Value = s
        .post("/v1/embeddings", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dims(&v), 256);
    assert_eq!(v["usage"]["prompt_tokens"], 3);
}

#[tokio::test]
async fn moderations() {
    let s = start().await;
    let body = json!({"input": ["I will kill the process", "have a nice day"]});
    let v: Value = s
        .post("/v1/moderations", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["id"].as_str().unwrap().starts_with("modr-"));
    assert_eq!(v["model"], "omni-moderation-latest");
    assert_eq!(v["results"][0]["flagged"], true);
    assert_eq!(v["results"][0]["categories"]["violence"], true);
    assert_eq!(v["results"][0]["categories"]["hate"], false);
    assert!(
        v["results"][0]["category_scores"]["violence"]
            .as_f64()
            .unwrap()
            > 0.5
    );
    assert_eq!(v["results"][1]["flagged"], false);
}

#[tokio::test]
async fn images_url_and_b64() {
    let s = start().await;
    let body = json!({"model": "dall-e-3", "prompt": "a cat", "n": 2});
    let v: Value = s
        .post("/v1/images/generations", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert!(v["created"].is_u64());
    let url = v["data"][0]["url"].as_str().unwrap();
    assert_eq!(url, s.url("/sim/files/image.png"));
    let png = s.client.get(url).send().await.unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let png = png.bytes().await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));

    let body = json!({"model": "dall-e-3", "prompt": "a cat", "response_format": "b64_json"});
    let v: Value = s
        .post("/v1/images/generations", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b64 = v["data"][0]["b64_json"].as_str().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(decoded, png);
}

#[tokio::test]
async fn speech_is_mp3_sized_by_input() {
    let s = start().await;
    let short = json!({"model": "tts-1", "input": "Hi", "voice": "alloy"});
    let long = json!({"model": "tts-1", "input": "Hi ".repeat(100), "voice": "alloy"});
    let resp = s.post("/v1/audio/speech", &short).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "audio/mpeg");
    let short = resp.bytes().await.unwrap();
    assert!(short.starts_with(b"ID3"));
    let long = s
        .post("/v1/audio/speech", &long)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(long.len() > short.len());
}

fn audio_form(format: Option<&str>, model: &str) -> reqwest::multipart::Form {
    let file = reqwest::multipart::Part::bytes(vec![7u8; 1234]).file_name("a.mp3");
    let form = reqwest::multipart::Form::new()
        .part("file", file)
        .text("model", model.to_owned());
    match format {
        Some(f) => form.text("response_format", f.to_owned()),
        None => form,
    }
}

#[tokio::test]
async fn transcription_multipart() {
    let s = start().await;
    let url = s.url("/v1/audio/transcriptions");
    let resp = s
        .client
        .post(&url)
        .bearer_auth("k")
        .multipart(audio_form(None, "whisper-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["text"], "Simulated transcription of 1234 bytes.");

    let resp = s
        .client
        .post(&url)
        .bearer_auth("k")
        .multipart(audio_form(Some("text"), "whisper-1"))
        .send()
        .await
        .unwrap();
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(
        resp.text().await.unwrap(),
        "Simulated transcription of 1234 bytes."
    );

    let resp = s
        .client
        .post(&url)
        .bearer_auth("k")
        .multipart(audio_form(None, "whisper-1@status=503"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
}

#[tokio::test]
async fn stats_count_requests_per_path() {
    let s = start().await;
    let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    for _ in 0..3 {
        s.post("/v1/chat/completions", &body).send().await.unwrap();
    }
    s.get("/v1/models").send().await.unwrap();
    assert_eq!(s.sim.requests("/v1/chat/completions"), 3);
    assert_eq!(s.sim.requests("/v1/models"), 1);
    assert_eq!(s.sim.requests("/v1/embeddings"), 0);
    let v: Value = s
        .client
        .get(s.url("/sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["/v1/chat/completions"], 3);
    assert_eq!(v["/v1/models"], 1);
}

#[tokio::test]
async fn unknown_route_is_openai_404() {
    let s = start().await;
    let resp = s.get("/v1/nope").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn last_body_and_header_record_what_was_sent() {
    let s = start().await;
    assert_eq!(s.sim.last_body("/v1/"), None);
    let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let resp = s
        .post("/v1/chat/completions", &body)
        .header("x-trace", "t1");
    resp.send().await.unwrap();
    assert_eq!(s.sim.last_body("/v1/chat"), Some(body));
    let auth = s.sim.last_header("/v1/chat", "authorization");
    assert_eq!(auth.as_deref(), Some("Bearer sk-test"));
    assert_eq!(s.sim.last_header("/v1/", "X-Trace").as_deref(), Some("t1"));

    // A later GET without a body leaves the last body in place.
    s.get("/v1/models").send().await.unwrap();
    assert_eq!(s.sim.last_header("/v1/", "x-trace"), None);
    assert_eq!(s.sim.last_body("/v1/").unwrap()["model"], "gpt-4o-mini");

    // Multipart forms come back as fields, files as summaries.
    let url = s.url("/v1/audio/transcriptions");
    let req = s.client.post(&url).bearer_auth("k");
    req.multipart(audio_form(Some("text"), "whisper-1"))
        .send()
        .await
        .unwrap();
    let form = s.sim.last_body("/v1/audio").unwrap();
    assert_eq!(form["model"], "whisper-1");
    assert_eq!(form["response_format"], "text");
    assert_eq!(form["file"]["filename"], "a.mp3");
    assert_eq!(form["file"]["size"], 1234);
}
