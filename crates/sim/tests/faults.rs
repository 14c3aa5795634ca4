//! Fault injection: status codes, latency, cut streams, words, no_usage, and
//! the three fault sources (defaults, header, model suffix).

mod common;

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};

use common::{chunks, start};

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

fn chat_stream(model: &str) -> Value {
    let mut body = chat(model);
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    body
}

#[tokio::test]
async fn status_faults_use_openai_errors() {
    let s = start().await;
    let cases = [
        (429, "requests", json!("rate_limit_exceeded")),
        (401, "invalid_request_error", json!("invalid_api_key")),
        (500, "server_error", Value::Null),
        (503, "server_error", Value::Null),
    ];
    for (code, kind, err_code) in cases {
        let resp = s
            .post("/v1/chat/completions", &chat("gpt-4o-mini"))
            .header("x-sim-fault", format!("status={code}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), code);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["type"], kind, "{code}");
        assert_eq!(v["error"]["code"], err_code, "{code}");
        assert!(v["error"]["message"].is_string());
        assert!(v["error"]["param"].is_null());
    }
}

#[tokio::test]
async fn model_suffix_faults_and_reported_model() {
    let s = start().await;
    let resp = s
        .post("/v1/chat/completions", &chat("gpt-4o-mini@status=500"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    let resp = s.post(
        "/v1/embeddings",
        &json!({"model": "text-embedding-3-small@status=429", "input": "x"}),
    );
    assert_eq!(resp.send().await.unwrap().status(), 429);
    let v: Value = s
        .post("/v1/chat/completions", &chat("gpt-4o@words=3,no_usage"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["model"], "gpt-4o");
    assert_eq!(v["choices"][0]["message"]["content"], "Simulated reply to:");
    assert!(v.get("usage").is_none());
}

#[tokio::test]
async fn set_faults_defaults_and_precedence() {
    let s = start().await;
    s.sim.set_faults("status=503");
    let resp = s
        .post("/v1/chat/completions", &chat("gpt-4o-mini"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    // The header overrides the default, the model overrides the header.
    let resp = s
        .post("/v1/chat/completions", &chat("gpt-4o-mini"))
        .header("x-sim-fault", "status=200")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = s
        .post("/v1/chat/completions", &chat("gpt-4o-mini@status=429"))
        .header("x-sim-fault", "status=200")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    s.sim.set_faults("");
    let resp = s
        .post("/v1/chat/completions", &chat("gpt-4o-mini"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn faults_settable_over_http() {
    let s = start().await;
    let resp = s
        .client
        .post(s.url("/sim/faults"))
        .json(&json!({"spec": "status=502"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(s.sim.faults(), "status=502");
    let resp = s.get("/v1/models").send().await.unwrap();
    assert_eq!(resp.status(), 502);
    s.client
        .post(s.url("/sim/faults"))
        .json(&json!({"spec": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(s.get("/v1/models").send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn latency_delays_headers() {
    let s = start().await;
    let started = Instant::now();
    let resp = s
        .post("/v1/chat/completions", &chat("gpt-4o-mini"))
        .header("x-sim-fault", "latency_ms=200")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn chunk_delay_spaces_chunks() {
    let s = start().await;
    let started = Instant::now();
    let resp = s
        .post(
            "/v1/chat/completions",
            &chat_stream("gpt-4o-mini@chunk_delay_ms=20,words=4"),
        )
        .send()
        .await
        .unwrap();
    let headers_at = started.elapsed();
    let chunks = chunks(&resp.text().await.unwrap());
    // role, 4 words, finish, usage, [DONE]: 7 gaps of 20 ms
    assert_eq!(chunks.len(), 7);
    assert!(started.elapsed() >= Duration::from_millis(140));
    assert!(headers_at < Duration::from_millis(140));
}

#[tokio::test]
async fn cut_after_breaks_the_body() {
    let s = start().await;
    let resp = s
        .post("/v1/chat/completions", &chat_stream("gpt-4o-mini"))
        .header("x-sim-fault", "cut_after=3")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.bytes_stream();
    let mut received = Vec::new();
    let mut failed = false;
    while let Some(item) = body.next().await {
        match item {
            Ok(bytes) => received.extend_from_slice(&bytes),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "a cut stream must end with a body error");
    let text = String::from_utf8(received).unwrap();
    assert!(!text.contains("[DONE]"));
    assert!(!text.contains("finish_reason\":\"stop"));
    // role chunk + exactly 3 content chunks made it through
    assert_eq!(text.matches("\"content\":").count(), 4);
}

#[tokio::test]
async fn words_and_no_usage_in_streams() {
    let s = start().await;
    let resp = s
        .post("/v1/chat/completions", &chat_stream("gpt-4o-mini"))
        .header("x-sim-fault", "words=20,no_usage")
        .send()
        .await
        .unwrap();
    let chunks = chunks(&resp.text().await.unwrap());
    // role + 20 words + finish; no usage chunk and no usage fields
    assert_eq!(chunks.len(), 22);
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
}
