//! Chat completions over HTTP: usage math, streaming, tools, JSON mode.

mod common;

use serde_json::{json, Value};

use common::{chunks, start};

fn hello() -> Value {
    json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "Hello there, how are you?"}
        ]
    })
}

#[tokio::test]
async fn non_stream_usage_math() {
    let s = start().await;
    let resp = s
        .post("/v1/chat/completions", &hello())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "gpt-4o-mini");
    assert_eq!(v["system_fingerprint"], "fp_sim");
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["message"]["role"], "assistant");
    assert!(choice["message"]["refusal"].is_null());
    let content = choice["message"]["content"].as_str().unwrap();
    assert!(
        content.starts_with("Simulated reply to: Hello there,"),
        "{content}"
    );
    assert_eq!(content.split(' ').count(), 12);
    // system: 16 chars -> 4 + 3; user: 25 chars -> 7 + 3
    assert_eq!(v["usage"]["prompt_tokens"], 17);
    assert_eq!(v["usage"]["completion_tokens"], 12);
    assert_eq!(v["usage"]["total_tokens"], 29);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(
        v["usage"]["completion_tokens_details"]["reasoning_tokens"],
        0
    );
}

#[tokio::test]
async fn n_choices_max_tokens_and_array_content() {
    let s = start().await;
    let body = json!({
        "model": "gpt-4o",
        "n": 3,
        "max_completion_tokens": 5,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Describe"},
            {"type": "image_url", "image_url": {"url": "http://x/y.png"}},
            {"type": "text", "text": " this"}
        ]}]
    });
    let v: Value = s
        .post("/v1/chat/completions", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let choices = v["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 3);
    for (i, c) in choices.iter().enumerate() {
        assert_eq!(c["index"], i);
        assert_eq!(c["finish_reason"], "length");
        assert_eq!(c["message"]["content"], "Simulated reply to: Describe this");
    }
    // "Describe this" is 13 chars -> 4 + 3
    assert_eq!(v["usage"]["prompt_tokens"], 7);
    assert_eq!(v["usage"]["completion_tokens"], 15);
}

#[tokio::test]
async fn stream_chunk_sequence_with_usage() {
    let s = start().await;
    let mut body = hello();
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let resp = s.post("/v1/chat/completions", &body).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let chunks = chunks(&resp.text().await.unwrap());
    // role + 12 words + finish + usage
    assert_eq!(chunks.len(), 15);
    for c in &chunks {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["model"], "gpt-4o-mini");
        assert_eq!(c["system_fingerprint"], "fp_sim");
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let words: Vec<&str> = chunks[1..13]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert!(!words[0].starts_with(' '));
    assert!(words[1..]
        .iter()
        .all(|w| w.starts_with(' ') && w.matches(' ').count() == 1));
    assert!(words.concat().starts_with("Simulated reply to: Hello"));
    let finish = &chunks[13]["choices"][0];
    assert_eq!(finish["delta"], json!({}));
    assert_eq!(finish["finish_reason"], "stop");
    assert!(finish["logprobs"].is_null());
    for c in &chunks[..14] {
        assert!(c["usage"].is_null() && c.as_object().unwrap().contains_key("usage"));
    }
    let last = &chunks[14];
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["prompt_tokens"], 17);
    assert_eq!(last["usage"]["completion_tokens"], 12);
    assert_eq!(last["usage"]["total_tokens"], 29);
}

#[tokio::test]
async fn stream_without_usage_has_no_usage_field() {
    let s = start().await;
    let mut body = hello();
    body["stream"] = json!(true);
    let resp = s.post("/v1/chat/completions", &body).send().await.unwrap();
    let chunks = chunks(&resp.text().await.unwrap());
    assert_eq!(chunks.len(), 14);
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
}

fn weather_request(stream: bool) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "stream": stream,
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [{"type": "function", "function": {
            "name": "get_weather",
            "parameters": {"type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                "required": ["city", "unit"]}
        }}]
    })
}

#[tokio::test]
async fn tool_call_non_stream() {
    let s = start().await;
    let v: Value = s
        .post("/v1/chat/completions", &weather_request(false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert!(choice["message"]["content"].is_null());
    let call = &choice["message"]["tool_calls"][0];
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["unit"], "celsius");
    assert!(args["city"].is_string());

    // After the tool answered, the model replies with text.
    let mut body = weather_request(false);
    let messages = body["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call]}));
    messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "sunny"}));
    let v: Value = s
        .post("/v1/chat/completions", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(v["choices"][0]["message"]["content"].is_string());
}

#[tokio::test]
async fn tool_call_stream() {
    let s = start().await;
    let resp = s
        .post("/v1/chat/completions", &weather_request(true))
        .send()
        .await
        .unwrap();
    let chunks = chunks(&resp.text().await.unwrap());
    let first = &chunks[0]["choices"][0]["delta"];
    assert_eq!(first["role"], "assistant");
    let call = &first["tool_calls"][0];
    assert_eq!(call["index"], 0);
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(call["function"]["arguments"], "");
    let fragments: String = chunks[1..chunks.len() - 1]
        .iter()
        .map(|c| {
            c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .unwrap()
        })
        .collect();
    let args: Value = serde_json::from_str(&fragments).unwrap();
    assert_eq!(args["unit"], "celsius");
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn json_mode_returns_json_object() {
    let s = start().await;
    let mut body = hello();
    body["response_format"] = json!({"type": "json_object"});
    let v: Value = s
        .post("/v1/chat/completions", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let content = v["choices"][0]["message"]["content"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(content).unwrap();
    assert!(parsed["reply"]
        .as_str()
        .unwrap()
        .starts_with("Simulated reply"));
    assert_eq!(v["usage"]["completion_tokens"], 12);
}

#[tokio::test]
async fn bad_requests() {
    let s = start().await;
    let resp = s
        .client
        .post(s.url("/v1/chat/completions"))
        .bearer_auth("sk-test")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(v["error"]["param"].is_null() && v["error"]["code"].is_null());
    let resp = s
        .post("/v1/chat/completions", &json!({"model": "gpt-4o"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn legacy_completions() {
    let s = start().await;
    let body = json!({"model": "gpt-4o-mini", "prompt": ["Once upon", "a time"], "max_tokens": 4});
    let v: Value = s
        .post("/v1/completions", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["object"], "text_completion");
    assert_eq!(v["choices"].as_array().unwrap().len(), 2);
    assert_eq!(v["choices"][1]["index"], 1);
    assert_eq!(v["choices"][0]["text"], "Simulated completion of: Once");
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(v["usage"]["prompt_tokens"], 5);
    assert_eq!(v["usage"]["completion_tokens"], 8);

    let body = json!({"model": "gpt-4o-mini", "prompt": "Hi", "stream": true,
        "stream_options": {"include_usage": true}});
    let resp = s.post("/v1/completions", &body).send().await.unwrap();
    let chunks = chunks(&resp.text().await.unwrap());
    assert_eq!(chunks.len(), 14);
    assert!(chunks.iter().all(|c| c["object"] == "text_completion"));
    let text: String = chunks[..12]
        .iter()
        .map(|c| c["choices"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text.split(' ').count(), 12);
    assert!(chunks[..13].iter().all(|c| c["usage"].is_null()));
    assert_eq!(chunks[12]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[13]["usage"]["completion_tokens"], 12);
}
