//! The simulated Anthropic Messages API over HTTP: answers, usage, tools, images, thinking,
//! the event stream, checks and faults, in Anthropic's shapes.

mod common;

use serde_json::{json, Value};

use common::start;

fn post(s: &common::Server, body: &Value) -> reqwest::RequestBuilder {
    s.client
        .post(s.url("/v1/messages"))
        .header("x-api-key", "sk-ant-test")
        .header("anthropic-version", "2023-06-01")
        .json(body)
}

fn hello() -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hello there, how are you?"}]})
}

/// (event name, data) pairs of an Anthropic stream.
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let mut lines = e.lines();
            let name = lines
                .next()
                .unwrap()
                .strip_prefix("event: ")
                .unwrap()
                .to_string();
            let data = lines.next().unwrap().strip_prefix("data: ").unwrap();
            (name, serde_json::from_str(data).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn message_with_usage() {
    let s = start().await;
    let r = post(&s, &hello()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "message");
    assert_eq!(v["role"], "assistant");
    assert_eq!(v["model"], "claude-sonnet-4-5");
    assert!(v["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(v["stop_reason"], "end_turn");
    assert!(v["stop_sequence"].is_null());
    let text = v["content"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Simulated reply to: Hello there,"),
        "{text}"
    );
    // system 9 chars -> 3; the user turn 25 chars -> 7 + 3.
    assert_eq!(
        v["usage"],
        json!({"input_tokens": 13, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 12})
    );
}

#[tokio::test]
async fn stop_sequences_max_tokens_and_cache_usage() {
    let s = start().await;
    let mut body = hello();
    body["stop_sequences"] = json!(["lorem"]);
    let v: Value = post(&s, &body).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["stop_reason"], "stop_sequence");
    assert_eq!(v["stop_sequence"], "lorem");
    assert_eq!(
        v["content"][0]["text"],
        "Simulated reply to: Hello there, how are you?"
    );
    let mut body = hello();
    body["max_tokens"] = json!(3);
    body["system"] = json!([{"type": "text", "text": "A long cached system prompt", "cache_control": {"type": "ephemeral"}}]);
    body["messages"][0]["content"] = json!([{"type": "text", "text": "Hello there, how are you?", "cache_control": {"type": "ephemeral"}}]);
    let v: Value = post(&s, &body).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["stop_reason"], "max_tokens");
    assert_eq!(
        v["usage"],
        json!({"input_tokens": 3, "cache_creation_input_tokens": 7, "cache_read_input_tokens": 7, "output_tokens": 3})
    );
}

fn weather_tools() -> Value {
    let schema =
        |p: &str| json!({"type": "object", "properties": {p: {"type": "string"}}, "required": [p]});
    json!([
        {"name": "get_weather", "description": "Weather", "input_schema": schema("location")},
        {"name": "get_time", "description": "Time", "input_schema": schema("timezone")}
    ])
}

#[tokio::test]
async fn parallel_tool_calls_and_their_results() {
    let s = start().await;
    let mut body = hello();
    body["tools"] = weather_tools();
    body["messages"][0]["content"] = json!("Use get_weather and get_time for Paris");
    let v: Value = post(&s, &body).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["stop_reason"], "tool_use");
    let content = v["content"].as_array().unwrap();
    assert_eq!(
        content[0],
        json!({"type": "text", "text": "Calling get_weather and get_time."})
    );
    assert_eq!(content[1]["name"], "get_weather");
    assert_eq!(content[1]["input"], json!({"location": "sim-location"}));
    assert_eq!(content[2]["name"], "get_time");
    let ids: Vec<&str> = content[1..]
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert!(ids.iter().all(|id| id.starts_with("toolu_")));

    // One result missing: refused, as Anthropic does.
    let mut next = body.clone();
    next["messages"] = json!([
        body["messages"][0],
        {"role": "assistant", "content": content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": ids[0], "content": "15 degrees"}]}
    ]);
    let r = post(&s, &next).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["type"], "error");
    assert_eq!(e["error"]["type"], "invalid_request_error");
    assert!(e["error"]["message"].as_str().unwrap().contains(ids[1]));

    // Both results: a text answer.
    next["messages"][2]["content"] = json!([
        {"type": "tool_result", "tool_use_id": ids[0], "content": "15 degrees"},
        {"type": "tool_result", "tool_use_id": ids[1], "content": "3 PM"}
    ]);
    let v: Value = post(&s, &next).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["stop_reason"], "end_turn", "{v}");

    // One call only when parallel use is off, the named one when forced.
    body["tool_choice"] =
        json!({"type": "tool", "name": "get_time", "disable_parallel_tool_use": true});
    let v: Value = post(&s, &body).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["content"].as_array().unwrap().len(), 2);
    assert_eq!(v["content"][1]["name"], "get_time");
}

#[tokio::test]
async fn images_are_checked_and_acknowledged() {
    let s = start().await;
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let mut body = hello();
    body["messages"][0]["content"] = json!([
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
        {"type": "text", "text": "What is this?"}
    ]);
    let v: Value = post(&s, &body).send().await.unwrap().json().await.unwrap();
    assert!(v["content"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Simulated reply to: [1 image] What is this?"));
    assert_eq!(v["usage"]["input_tokens"], 3 + 3 + 100 + 4);
    body["messages"][0]["content"][0]["source"]["data"] = json!("not base64!");
    let r = post(&s, &body).send().await.unwrap();
    assert_eq!(r.status(), 400);
    body["messages"][0]["content"][0]["source"] =
        json!({"type": "url", "url": "https://example.com/a.png"});
    assert_eq!(post(&s, &body).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn stream_events_in_order_with_thinking_and_tools() {
    let s = start().await;
    let mut body = hello();
    body["stream"] = json!(true);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    body["tools"] = weather_tools();
    let r = post(&s, &body).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let events = events(&r.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[..2], ["message_start", "ping"]);
    assert_eq!(names[names.len() - 2..], ["message_delta", "message_stop"]);
    for (n, d) in &events {
        assert_eq!(d["type"], n.as_str());
    }
    let starts: Vec<&str> = events
        .iter()
        .filter(|(n, _)| n == "content_block_start")
        .map(|(_, d)| d["content_block"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["thinking", "text", "tool_use"]);
    let args: String = events
        .iter()
        .filter_map(|(_, d)| d["delta"]["partial_json"].as_str())
        .collect();
    assert_eq!(args, r#"{"location":"sim-location"}"#);
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    // 8 thinking words, "Calling get_weather.", 5 argument fragments.
    assert_eq!(delta["usage"]["output_tokens"], 8 + 2 + 5);
    assert_eq!(events[0].1["message"]["usage"]["input_tokens"], 13);
}

#[tokio::test]
async fn auth_version_and_faults_in_anthropic_shape() {
    let s = start().await;
    let r = s
        .client
        .post(s.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["type"], "authentication_error");
    let r = s
        .client
        .post(s.url("/v1/messages"))
        .header("x-api-key", "k")
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    for (code, kind) in [
        (429, "rate_limit_error"),
        (529, "overloaded_error"),
        (500, "api_error"),
    ] {
        let mut body = hello();
        body["model"] = json!(format!("claude-sonnet-4-5@status={code}"));
        let r = post(&s, &body).send().await.unwrap();
        assert_eq!(r.status().as_u16(), code);
        let e: Value = r.json().await.unwrap();
        assert_eq!(
            e,
            json!({"type": "error", "error": {"type": kind, "message": e["error"]["message"]}})
        );
    }
    let mut body = hello();
    body["model"] = json!("claude-sonnet-4-5@no_usage");
    let v: Value = post(&s, &body).send().await.unwrap().json().await.unwrap();
    assert!(v.get("usage").is_none());
    let mut body = hello();
    body.as_object_mut().unwrap().remove("max_tokens");
    assert_eq!(post(&s, &body).send().await.unwrap().status(), 400);
}

#[tokio::test]
async fn cut_streams_break_mid_body() {
    let s = start().await;
    let mut body = hello();
    body["stream"] = json!(true);
    body["model"] = json!("claude-sonnet-4-5@cut_after=2");
    let r = post(&s, &body).send().await.unwrap();
    assert!(r.text().await.is_err(), "the body must end in an error");
}
