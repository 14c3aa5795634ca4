//! Veo through the Gemini API: long-running operations polled until done.

use reqwest::{RequestBuilder, StatusCode};
use serde_json::{json, Value};

use crate::common::Server;
use crate::{assert_mp4, body, follow, names, start};

const MODEL: &str = "veo-3.0-generate-001";
const KEY: &str = "AIza-sim";
/// A model name carrying a fault spec, colons included.
const FAULTY_MODEL: &str = "veo-3.0-generate-001@task_fail,task_ms=50:150";

fn post(s: &Server, model: &str, body: &Value) -> RequestBuilder {
    let url = s.url(&format!("/v1beta/models/{model}:predictLongRunning"));
    s.client.post(url).header("x-goog-api-key", KEY).json(body)
}

fn get(s: &Server, name: &str) -> RequestBuilder {
    let url = s.url(&format!("/v1beta/{name}"));
    s.client.get(url).header("x-goog-api-key", KEY)
}

fn request(prompt: &str) -> Value {
    json!({"instances": [{"prompt": prompt}],
        "parameters": {"aspectRatio": "16:9", "durationSeconds": 8, "sampleCount": 1}})
}

/// `running`, `done` (with a response) or `error`, for `follow`.
fn state(v: &Value) -> String {
    let state = match (v["done"].as_bool(), v.get("response"), v.get("error")) {
        (Some(false), None, None) => "running",
        (Some(true), Some(_), None) => "done",
        (Some(true), None, Some(_)) => "error",
        _ => "malformed",
    };
    state.to_owned()
}

async fn create(s: &Server, model: &str, body: &Value) -> String {
    let resp = post(s, model, body).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{body}");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v.as_object().unwrap().len(), 1, "only the name: {v}");
    v["name"].as_str().unwrap().to_owned()
}

async fn assert_google_error(resp: reqwest::Response, code: u16, status: &str) {
    assert_eq!(resp.status().as_u16(), code);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], code, "{v}");
    assert_eq!(v["error"]["status"], status, "{v}");
    assert!(v["error"]["message"].is_string());
}

#[tokio::test]
async fn operation_runs_to_done() {
    let s = start().await;
    let name = create(&s, MODEL, &request("a lighthouse at dusk")).await;
    let prefix = format!("models/{MODEL}/operations/");
    assert!(name.starts_with(&prefix), "{name}");
    let key = s.sim.last_header("/v1beta/models", "x-goog-api-key");
    assert_eq!(key.as_deref(), Some(KEY));
    let sent = s.sim.last_body("/v1beta/models").unwrap();
    assert_eq!(sent["parameters"]["durationSeconds"], 8);

    let seen = follow(None, || get(&s, &name), state, &["done", "error"]).await;
    assert_eq!(names(&seen), ["running", "done"]);
    let running = body(&seen, "running");
    assert_eq!(running["name"], name.as_str());
    assert!(running["metadata"].is_object());
    let done = body(&seen, "done");
    assert_eq!(done["name"], name.as_str());
    let response = &done["response"];
    assert_eq!(
        response["@type"],
        "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
    );
    let uri = &response["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"];
    assert_eq!(uri, &json!(s.url("/sim/files/video.mp4")));
    assert_mp4(&s, uri.as_str().unwrap()).await;

    // Google also takes the key as a query parameter.
    let url = s.url(&format!("/v1beta/{name}?key={KEY}"));
    let resp = s.client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn failures_end_done_with_error() {
    let s = start().await;
    let cases = [
        (FAULTY_MODEL, request("waves")),
        (MODEL, request("waves [fail]")),
    ];
    for (model, req) in cases {
        let name = create(&s, model, &req).await;
        assert!(
            name.starts_with(&format!("models/{MODEL}/operations/")),
            "{name}"
        );
        let seen = follow(None, || get(&s, &name), state, &["done", "error"]).await;
        let last = &seen.last().unwrap().1;
        assert_eq!(state(last), "error", "{model} {req}");
        assert!(last["error"]["code"].is_u64());
        assert_eq!(last["error"]["message"], "simulated generation failure");
    }
}

#[tokio::test]
async fn auth_errors_are_google_shaped() {
    let s = start().await;
    let url = s.url(&format!("/v1beta/models/{MODEL}:predictLongRunning"));
    let resp = s
        .client
        .post(&url)
        .json(&request("x"))
        .send()
        .await
        .unwrap();
    assert_google_error(resp, 403, "PERMISSION_DENIED").await;
    let bad_key = s
        .client
        .post(&url)
        .header("x-goog-api-key", "sk-sim-invalid");
    let resp = bad_key.json(&request("x")).send().await.unwrap();
    assert_google_error(resp, 400, "INVALID_ARGUMENT").await;
    let poll = s
        .client
        .get(s.url(&format!("/v1beta/models/{MODEL}/operations/x")));
    assert_google_error(poll.send().await.unwrap(), 403, "PERMISSION_DENIED").await;
}

#[tokio::test]
async fn validation_and_not_found() {
    let s = start().await;
    let bad = [
        json!({}),
        json!({"instances": []}),
        json!({"instances": [{"image": {"bytesBase64Encoded": "AAAA", "mimeType": "image/png"}}]}),
        json!({"instances": [{"prompt": "x", "image": {"url": "https://x/a.png"}}]}),
        json!({"instances": [{"prompt": "x"}], "parameters": {"durationSeconds": "8"}}),
        json!({"instances": [{"prompt": "x"}], "parameters": {"aspectRatio": "1:1"}}),
    ];
    for req in bad {
        let resp = post(&s, MODEL, &req).send().await.unwrap();
        assert_google_error(resp, 400, "INVALID_ARGUMENT").await;
    }
    let image = json!({"bytesBase64Encoded": "AAAA", "mimeType": "image/png"});
    let ok = json!({"instances": [{"prompt": "x", "image": image}]});
    create(&s, MODEL, &ok).await;

    let url = s.url(&format!("/v1beta/models/{MODEL}:generateVideos"));
    let wrong_method = s.client.post(url).header("x-goog-api-key", KEY).json(&ok);
    assert_google_error(wrong_method.send().await.unwrap(), 404, "NOT_FOUND").await;
    let missing = get(&s, &format!("models/{MODEL}/operations/nope"));
    assert_google_error(missing.send().await.unwrap(), 404, "NOT_FOUND").await;
    let limited = post(&s, MODEL, &ok).header("x-sim-fault", "status=429");
    assert_google_error(limited.send().await.unwrap(), 429, "RESOURCE_EXHAUSTED").await;
}
