//! Every provider behind one API, over HTTP on SQLite and PostgreSQL: OpenAI callers reaching
//! Anthropic and Gemini channels, Anthropic (`/v1/messages`) and Gemini
//! (`/v1beta/models/…:generateContent`) callers reaching any channel, same-format pass-through,
//! tools, images, streams, exact billing, provider errors in the caller's format and their
//! effect on channel health, Azure and the OpenAI-compatible presets.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use common::{backends, default_config, TestGateway};
use serde_json::{json, Value};
use switchyard_store::NewKey;

const USD: i64 = 1_000_000_000;
const CLAUDE: &str = "claude-sonnet-4-5";
const GEMINI: &str = "gemini-2.5-flash";
const MINI: &str = "gpt-4o-mini";
/// Nano-dollars per token: Claude $3 / $15 per 1M, Gemini $0.30 / $2.50, mini $0.15 / $0.60.
const CLAUDE_IN: i64 = 3000;
const CLAUDE_OUT: i64 = 15000;
const CLAUDE_CACHED: i64 = 300;
const GEMINI_IN: i64 = 300;
const GEMINI_OUT: i64 = 2500;
const MINI_IN: i64 = 150;
const MINI_OUT: i64 = 600;
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

// --- helpers --------------------------------------------------------------------------------

fn anthropic(gw: &TestGateway, key: &str) -> reqwest::RequestBuilder {
    gw.http
        .post(format!("{}/v1/messages", gw.url))
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
}

fn gemini(gw: &TestGateway, target: &str, key: &str) -> reqwest::RequestBuilder {
    gw.http
        .post(format!("{}/v1beta/models/{target}", gw.url))
        .header("x-goog-api-key", key)
}

async fn send(req: reqwest::RequestBuilder, body: &Value) -> (u16, Value) {
    let r = req.json(body).send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn body_text(req: reqwest::RequestBuilder, body: &Value) -> (u16, String) {
    let r = req.json(body).send().await.expect("request");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// The JSON `data:` payloads of an SSE body (`[DONE]` kept as a string).
fn data(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap_or_else(|_| Value::String(d.into())))
        .collect()
}

/// (event name, data) pairs of an Anthropic stream.
fn events(text: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut name = String::new();
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("event: ") {
            name = n.to_string();
        } else if let Some(d) = line.strip_prefix("data: ") {
            out.push((std::mem::take(&mut name), serde_json::from_str(d).unwrap()));
        }
    }
    out
}

fn chat_body(model: &str, content: Value) -> Value {
    json!({"model": model, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": content}], "max_tokens": 50})
}

fn usage(body: &Value) -> (i64, i64) {
    (
        body["usage"]["prompt_tokens"].as_i64().unwrap(),
        body["usage"]["completion_tokens"].as_i64().unwrap(),
    )
}

async fn channel_id(gw: &TestGateway, name: &str) -> String {
    gw.state
        .store
        .channel_by_name(name)
        .await
        .unwrap()
        .unwrap()
        .id
}

fn tools() -> Value {
    let schema =
        |p: &str| json!({"type": "object", "properties": {p: {"type": "string"}}, "required": [p]});
    json!([
        {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": schema("city")}},
        {"type": "function", "function": {"name": "get_time", "description": "Time in a zone", "parameters": schema("zone")}}
    ])
}

/// Extra channels and prices after the default config.
fn with(extra: &'static str) -> impl FnOnce(&str) -> String {
    move |sim: &str| format!("{}\n{}", default_config(sim), extra.replace("{sim}", sim))
}

// --- OpenAI callers → Anthropic and Gemini channels ------------------------------------------

#[tokio::test]
async fn openai_callers_reach_claude_billed_exactly() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, body) = send(
            gw.post("/v1/chat/completions", &key),
            &chat_body(CLAUDE, json!("hello there")),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["model"], CLAUDE);
        let text = body["choices"][0]["message"]["content"].as_str().unwrap();
        assert!(
            text.starts_with("Simulated reply to: hello there"),
            "{text}"
        );
        assert_eq!(body["choices"][0]["finish_reason"], "stop");
        // What Anthropic was sent: the system prompt lifted out, the caller's max_tokens.
        assert_eq!(
            gw.sim.last_body("/v1/messages").unwrap(),
            json!({"model": CLAUDE, "system": "Be brief.", "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 50})
        );
        assert_eq!(
            gw.sim.last_header("/v1/messages", "x-api-key").as_deref(),
            Some("sk-ant-sim")
        );
        assert_eq!(
            gw.sim
                .last_header("/v1/messages", "anthropic-version")
                .as_deref(),
            Some("2023-06-01")
        );
        assert_eq!(gw.sim.last_header("/v1/messages", "authorization"), None);
        let (pt, ct) = usage(&body);
        let cost = pt * CLAUDE_IN + ct * CLAUDE_OUT;
        assert_eq!(gw.balance(&user.id).await, USD - cost, "{b}");

        // Streamed, with the usage chunk asked for: the same text, the same bill.
        let mut streamed = chat_body(CLAUDE, json!("hello there"));
        streamed["stream"] = json!(true);
        streamed["stream_options"] = json!({"include_usage": true});
        let (status, sse) = body_text(gw.post("/v1/chat/completions", &key), &streamed).await;
        assert_eq!(status, 200);
        let chunks = data(&sse);
        assert_eq!(chunks.last().unwrap(), "[DONE]");
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        let joined: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(joined, text);
        let last = &chunks[chunks.len() - 2];
        assert_eq!(last["choices"], json!([]));
        assert_eq!(usage(last), (pt, ct));
        // Not asked for: no usage chunk, still billed from Anthropic's usage.
        streamed.as_object_mut().unwrap().remove("stream_options");
        let (_, sse) = body_text(gw.post("/v1/chat/completions", &key), &streamed).await;
        assert!(data(&sse)
            .iter()
            .all(|c| c == "[DONE]" || !c["choices"].as_array().unwrap().is_empty()));
        let logs = gw.wait_logs(&user.id, 3).await;
        let anthropic = channel_id(&gw, "demo-anthropic").await;
        assert!(logs.iter().all(|l| l.tokens_in == pt
            && l.tokens_out == ct
            && l.cost == cost
            && l.status == 200
            && l.endpoint == "/v1/chat/completions"
            && l.channel_id.as_deref() == Some(anthropic.as_str())));
        assert_eq!(logs.iter().filter(|l| l.stream == 1).count(), 2);
        assert_eq!(gw.balance(&user.id).await, USD - 3 * cost);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn openai_callers_reach_gemini_billed_exactly_and_safety_blocks_say_so() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, body) = send(
            gw.post("/v1/chat/completions", &key),
            &chat_body(GEMINI, json!("hello there")),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["model"], GEMINI);
        let text = body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(text.starts_with("Simulated reply to: hello there"));
        assert_eq!(
            gw.sim
                .requests("/gemini/v1beta/models/gemini-2.5-flash:generateContent"),
            1
        );
        assert_eq!(
            gw.sim.last_body("/gemini/v1beta/models/").unwrap(),
            json!({"contents": [{"role": "user", "parts": [{"text": "hello there"}]}],
                "systemInstruction": {"parts": [{"text": "Be brief."}]},
                "generationConfig": {"maxOutputTokens": 50}})
        );
        assert_eq!(
            gw.sim.last_header("/gemini/", "x-goog-api-key").as_deref(),
            Some("sim-gemini-key")
        );
        let (pt, ct) = usage(&body);
        let cost = pt * GEMINI_IN + ct * GEMINI_OUT;
        assert_eq!(gw.balance(&user.id).await, USD - cost);

        let mut streamed = chat_body(GEMINI, json!("hello there"));
        streamed["stream"] = json!(true);
        streamed["stream_options"] = json!({"include_usage": true});
        let (_, sse) = body_text(gw.post("/v1/chat/completions", &key), &streamed).await;
        assert_eq!(
            gw.sim
                .requests("/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent"),
            1
        );
        let chunks = data(&sse);
        let joined: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(joined, text);
        assert_eq!(usage(&chunks[chunks.len() - 2]), (pt, ct));
        gw.wait_logs(&user.id, 2).await; // a stream settles as it ends, in the background
        assert_eq!(gw.balance(&user.id).await, USD - 2 * cost);

        // A candidate stopped by the safety filters, and a prompt blocked outright: a clear
        // `content_filter`, in a plain answer and in a stream.
        for prompt in ["say it [unsafe]", "[blocked] say it"] {
            let (status, body) = send(
                gw.post("/v1/chat/completions", &key),
                &chat_body(GEMINI, json!(prompt)),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(
                body["choices"][0]["finish_reason"], "content_filter",
                "{prompt}"
            );
            assert_eq!(body["usage"]["completion_tokens"], 0);
            let mut s = chat_body(GEMINI, json!(prompt));
            s["stream"] = json!(true);
            let (_, sse) = body_text(gw.post("/v1/chat/completions", &key), &s).await;
            let finishes: Vec<Value> = data(&sse)
                .iter()
                .map(|c| c["choices"][0]["finish_reason"].clone())
                .filter(Value::is_string)
                .collect();
            assert_eq!(finishes, [json!("content_filter")], "{sse}");
        }
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn tool_calls_round_trip_through_claude_and_gemini_in_parallel() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let (_, key) = gw.user_with_key(USD, NewKey::default()).await;
        for (model, sim_path) in [(CLAUDE, "/v1/messages"), (GEMINI, "/gemini/")] {
            let mut messages =
                vec![json!({"role": "user", "content": "use get_weather and get_time for Paris"})];
            let req = json!({"model": model, "messages": messages, "tools": tools()});
            let (status, first) = send(gw.post("/v1/chat/completions", &key), &req).await;
            assert_eq!(status, 200, "{first}");
            let choice = &first["choices"][0];
            assert_eq!(choice["finish_reason"], "tool_calls", "{model}");
            let calls = choice["message"]["tool_calls"].as_array().unwrap();
            let names: Vec<&str> = calls
                .iter()
                .map(|c| c["function"]["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, ["get_weather", "get_time"], "{model}");
            let args: Value =
                serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
            assert_eq!(args, json!({"city": "sim-city"}));
            // Both results go back; the simulator refuses a turn that leaves a call unanswered.
            messages.push(choice["message"].clone());
            for (c, result) in calls.iter().zip(["15 degrees", "{\"time\": \"15:42\"}"]) {
                messages.push(json!({"role": "tool", "tool_call_id": c["id"], "content": result}));
            }
            let (status, last) = send(
                gw.post("/v1/chat/completions", &key),
                &json!({"model": model, "messages": messages, "tools": tools()}),
            )
            .await;
            assert_eq!(status, 200, "{model}: {last}");
            assert_eq!(last["choices"][0]["finish_reason"], "stop");
            let sent = gw.sim.last_body(sim_path).unwrap();
            if model == CLAUDE {
                let results = sent["messages"][2]["content"].as_array().unwrap();
                assert_eq!(results.len(), 2);
                assert!(results.iter().all(|r| r["type"] == "tool_result"));
                assert_eq!(results[0]["tool_use_id"], calls[0]["id"]);
            } else {
                let parts = sent["contents"][2]["parts"].as_array().unwrap();
                assert_eq!(
                    parts[0]["functionResponse"],
                    json!({"name": "get_weather", "response": {"result": "15 degrees"}})
                );
                assert_eq!(
                    parts[1]["functionResponse"],
                    json!({"name": "get_time", "response": {"time": "15:42"}})
                );
            }
            // Forced to one tool; streamed.
            let forced = json!({"model": model, "messages": [{"role": "user", "content": "weather please"}], "tools": tools(),
                "tool_choice": {"type": "function", "function": {"name": "get_time"}}, "stream": true});
            let (_, sse) = body_text(gw.post("/v1/chat/completions", &key), &forced).await;
            let chunks = data(&sse);
            let deltas: Vec<&Value> = chunks
                .iter()
                .filter_map(|c| c.pointer("/choices/0/delta/tool_calls/0"))
                .collect();
            assert_eq!(deltas[0]["function"]["name"], "get_time", "{model}");
            assert!(deltas[0]["id"].is_string());
            let joined: String = deltas
                .iter()
                .filter_map(|d| d["function"]["arguments"].as_str())
                .collect();
            assert_eq!(
                serde_json::from_str::<Value>(&joined).unwrap(),
                json!({"zone": "sim-zone"})
            );
            let finish: Vec<&str> = chunks
                .iter()
                .filter_map(|c| c["choices"][0]["finish_reason"].as_str())
                .collect();
            assert_eq!(finish, ["tool_calls"]);
        }
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn image_parts_reach_claude_and_gemini_in_their_shapes() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let (_, key) = gw.user_with_key(USD, NewKey::default()).await;
        let content = json!([
            {"type": "text", "text": "Compare these"},
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG}")}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
        ]);
        for model in [CLAUDE, GEMINI] {
            let (status, body) = send(
                gw.post("/v1/chat/completions", &key),
                &chat_body(model, content.clone()),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            let text = body["choices"][0]["message"]["content"].as_str().unwrap();
            assert!(
                text.starts_with("Simulated reply to: [2 images] Compare these"),
                "{model}: {text}"
            );
        }
        let blocks = &gw.sim.last_body("/v1/messages").unwrap()["messages"][0]["content"];
        assert_eq!(
            blocks[1],
            json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}})
        );
        assert_eq!(
            blocks[2],
            json!({"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}})
        );
        let parts = &gw.sim.last_body("/gemini/").unwrap()["contents"][0]["parts"];
        assert_eq!(
            parts[1],
            json!({"inlineData": {"mimeType": "image/png", "data": PNG}})
        );
        assert_eq!(
            parts[2],
            json!({"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.jpg"}})
        );
        gw.shutdown().await;
    }
}

// --- Anthropic callers (/v1/messages) ---------------------------------------------------------

#[tokio::test]
async fn anthropic_callers_reach_an_openai_channel() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let req = json!({"model": MINI, "max_tokens": 100, "system": "Be brief.",
            "messages": [{"role": "user", "content": "hello there"}]});
        let (status, m) = send(anthropic(&gw, &key), &req).await;
        assert_eq!(status, 200, "{m}");
        assert_eq!(m["type"], "message");
        assert_eq!(m["role"], "assistant");
        assert_eq!(m["model"], MINI);
        assert_eq!(m["stop_reason"], "end_turn");
        assert!(m["stop_sequence"].is_null());
        assert_eq!(m["content"].as_array().unwrap().len(), 1);
        let text = m["content"][0]["text"].as_str().unwrap().to_string();
        assert!(text.starts_with("Simulated reply to: hello there"));
        assert_eq!(
            gw.sim.last_body("/v1/chat/completions").unwrap(),
            json!({"model": MINI, "max_tokens": 100, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}]})
        );
        let (input, output) = (
            m["usage"]["input_tokens"].as_i64().unwrap(),
            m["usage"]["output_tokens"].as_i64().unwrap(),
        );
        assert_eq!(m["usage"]["cache_read_input_tokens"], 0);
        let cost = input * MINI_IN + output * MINI_OUT;
        assert_eq!(gw.balance(&user.id).await, USD - cost);

        // Streamed: Anthropic's events in Anthropic's order, usage at the end.
        let mut streamed = req.clone();
        streamed["stream"] = json!(true);
        let r = anthropic(&gw, &key).json(&streamed).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        let evs = events(&r.text().await.unwrap());
        let names: Vec<&str> = evs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[..2], ["message_start", "content_block_start"]);
        assert_eq!(
            names[names.len() - 3..],
            ["content_block_stop", "message_delta", "message_stop"]
        );
        assert!(names[2..names.len() - 3]
            .iter()
            .all(|n| *n == "content_block_delta"));
        assert!(evs.iter().all(|(n, d)| d["type"] == n.as_str()));
        let joined: String = evs
            .iter()
            .filter_map(|(_, d)| d["delta"]["text"].as_str())
            .collect();
        assert_eq!(joined, text);
        let delta = &evs[evs.len() - 2].1;
        assert_eq!(delta["delta"]["stop_reason"], "end_turn");
        assert_eq!(
            (
                delta["usage"]["input_tokens"].as_i64(),
                delta["usage"]["output_tokens"].as_i64()
            ),
            (Some(input), Some(output))
        );
        assert_eq!(
            gw.sim.last_body("/v1/chat/completions").unwrap()["stream_options"],
            json!({"include_usage": true})
        );
        let logs = gw.wait_logs(&user.id, 2).await;
        assert!(logs
            .iter()
            .all(|l| l.endpoint == "/v1/messages" && l.cost == cost));
        assert_eq!(gw.balance(&user.id).await, USD - 2 * cost);

        // Tools: a tool_use block, then the result back as a tool message.
        let ask = json!({"model": MINI, "max_tokens": 100, "messages": [{"role": "user", "content": "weather?"}],
            "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]});
        let (_, first) = send(anthropic(&gw, &key), &ask).await;
        assert_eq!(first["stop_reason"], "tool_use", "{first}");
        let tool_use = first["content"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["type"] == "tool_use")
            .unwrap()
            .clone();
        assert_eq!(tool_use["name"], "get_weather");
        assert_eq!(tool_use["input"], json!({"city": "sim-city"}));
        let mut next = ask.clone();
        next["messages"] = json!([ask["messages"][0], {"role": "assistant", "content": first["content"]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use["id"], "content": "21 degrees"}]}]);
        let (status, last) = send(anthropic(&gw, &key), &next).await;
        assert_eq!(status, 200, "{last}");
        assert_eq!(last["stop_reason"], "end_turn");
        let sent = gw.sim.last_body("/v1/chat/completions").unwrap();
        assert_eq!(
            sent["messages"][2],
            json!({"role": "tool", "tool_call_id": tool_use["id"], "content": "21 degrees"})
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn same_format_passes_through_with_only_the_model_changed() {
    for b in backends() {
        // A preferred Anthropic channel that knows Claude by a dated name.
        let gw = TestGateway::start_with(
            b,
            with(
                r#"
[[channels]]
name = "claude-dated"
kind = "anthropic"
base_url = "{sim}"
keys = ["sk-ant-dated"]
models = ["claude-sonnet-4-5"]
model_map = { "claude-sonnet-4-5" = "claude-sonnet-4-5-20250929" }
priority = 10
"#,
            ),
        )
        .await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let req = json!({
            "model": CLAUDE, "max_tokens": 300,
            "system": [{"type": "text", "text": "A long system prompt worth caching", "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hello there", "cache_control": {"type": "ephemeral"}}]}],
            "metadata": {"user_id": "u-1"}, "temperature": 0.3, "top_k": 5,
            "some_future_field": {"kept": true}
        });
        let r = anthropic(&gw, &key)
            .header("anthropic-beta", "prompt-caching-2024-07-31")
            .json(&req)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let m: Value = r.json().await.unwrap();
        let mut expected = req.clone();
        expected["model"] = json!("claude-sonnet-4-5-20250929");
        assert_eq!(gw.sim.last_body("/v1/messages").unwrap(), expected);
        assert_eq!(
            gw.sim
                .last_header("/v1/messages", "anthropic-beta")
                .as_deref(),
            Some("prompt-caching-2024-07-31")
        );
        assert_eq!(
            gw.sim.last_header("/v1/messages", "x-api-key").as_deref(),
            Some("sk-ant-dated")
        );
        // The Message comes back as Anthropic sent it (the provider's model name included).
        assert!(m["id"].as_str().unwrap().starts_with("msg_sim"));
        assert_eq!(m["model"], "claude-sonnet-4-5-20250929");
        let u = &m["usage"];
        let (input, read, write, out) = (
            u["input_tokens"].as_i64().unwrap(),
            u["cache_read_input_tokens"].as_i64().unwrap(),
            u["cache_creation_input_tokens"].as_i64().unwrap(),
            u["output_tokens"].as_i64().unwrap(),
        );
        assert!(read > 0 && write > 0, "{u}");
        // Cache reads at the cached price; writes (and the rest) at the input price.
        let cost = (input + write) * CLAUDE_IN + read * CLAUDE_CACHED + out * CLAUDE_OUT;
        assert_eq!(gw.balance(&user.id).await, USD - cost);
        let logs = gw.wait_logs(&user.id, 1).await;
        assert_eq!(
            (logs[0].tokens_in, logs[0].tokens_cached, logs[0].tokens_out),
            (input + read + write, read, out)
        );

        // Streamed: Anthropic's own events, ping included, untouched.
        let mut streamed = req.clone();
        streamed["stream"] = json!(true);
        let (_, sse) = body_text(anthropic(&gw, &key), &streamed).await;
        assert!(sse.contains("event: ping\n"), "{sse}");
        let names: Vec<String> = events(&sse).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names[..3], ["message_start", "ping", "content_block_start"]);
        assert_eq!(names.last().unwrap(), "message_stop");
        gw.wait_logs(&user.id, 2).await; // a stream settles as it ends, in the background
        assert_eq!(
            gw.balance(&user.id).await,
            USD - 2 * cost,
            "stream billed from Anthropic's usage"
        );

        // Gemini callers to a Gemini channel: the body goes as it came.
        let g = json!({"contents": [{"role": "user", "parts": [{"text": "hello there"}]}],
            "generationConfig": {"maxOutputTokens": 20, "topK": 3}, "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]});
        let (status, body) = send(gemini(&gw, "gemini-2.5-flash:generateContent", &key), &g).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(gw.sim.last_body("/gemini/").unwrap(), g);
        assert!(body["responseId"].as_str().unwrap().starts_with("sim"));
        gw.shutdown().await;
    }
}

// --- Gemini callers ----------------------------------------------------------------------------

#[tokio::test]
async fn gemini_callers_reach_any_channel() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let req = json!({"systemInstruction": {"parts": [{"text": "Be brief."}]},
            "contents": [{"role": "user", "parts": [{"text": "hello there"}]}],
            "generationConfig": {"maxOutputTokens": 30}});
        let mut spent = 0;
        for (i, (model, price_in, price_out)) in [
            (MINI, MINI_IN, MINI_OUT),
            (CLAUDE, CLAUDE_IN, CLAUDE_OUT),
            (GEMINI, GEMINI_IN, GEMINI_OUT),
        ]
        .into_iter()
        .enumerate()
        {
            // ?key= on one, the header on the other.
            let url = format!("{}/v1beta/models/{model}:generateContent?key={key}", gw.url);
            let (status, body) = send(gw.http.post(url), &req).await;
            assert_eq!(status, 200, "{model}: {body}");
            let c = &body["candidates"][0];
            assert_eq!(c["content"]["role"], "model");
            assert_eq!(c["finishReason"], "STOP");
            let text = c["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(
                text.starts_with("Simulated reply to: hello there"),
                "{model}: {text}"
            );
            let u = &body["usageMetadata"];
            let (p, o) = (
                u["promptTokenCount"].as_i64().unwrap(),
                u["candidatesTokenCount"].as_i64().unwrap(),
            );
            assert_eq!(u["totalTokenCount"].as_i64().unwrap(), p + o);
            spent += p * price_in + o * price_out;
            gw.wait_logs(&user.id, 3 * i as i64 + 1).await; // streams settle in the background
            assert_eq!(gw.balance(&user.id).await, USD - spent, "{model}");

            let (status, sse) = body_text(
                gemini(&gw, &format!("{model}:streamGenerateContent?alt=sse"), &key),
                &req,
            )
            .await;
            assert_eq!(status, 200);
            let chunks = data(&sse);
            let joined: String = chunks
                .iter()
                .filter_map(|e| e["candidates"][0]["content"]["parts"][0]["text"].as_str())
                .collect();
            assert_eq!(joined, text, "{model}");
            let last = chunks.last().unwrap();
            assert_eq!(last["candidates"][0]["finishReason"], "STOP");
            assert_eq!(
                last["usageMetadata"]["candidatesTokenCount"].as_i64(),
                Some(o)
            );
            spent += p * price_in + o * price_out;
            // Without alt=sse Google answers one JSON array.
            let (status, arr) = send(
                gemini(&gw, &format!("{model}:streamGenerateContent"), &key),
                &req,
            )
            .await;
            assert_eq!(status, 200);
            assert_eq!(
                arr[0]["candidates"][0]["content"]["parts"][0]["text"],
                json!(text)
            );
            spent += p * price_in + o * price_out;
        }
        gw.wait_logs(&user.id, 9).await;
        assert_eq!(gw.balance(&user.id).await, USD - spent);
        // What an OpenAI channel was sent for a Gemini caller.
        let sent = gw.sim.last_body("/v1/chat/completions").unwrap();
        assert_eq!(
            sent["messages"],
            json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}])
        );
        assert_eq!(sent["max_tokens"], 30);

        // Function calling from a Gemini caller to an OpenAI channel, and the response back.
        let decl = json!([{"functionDeclarations": [{"name": "get_weather", "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}}]}]);
        let ask = json!({"contents": [{"role": "user", "parts": [{"text": "weather in Paris?"}]}], "tools": decl});
        let (_, first) = send(gemini(&gw, "gpt-4o-mini:generateContent", &key), &ask).await;
        let call = first["candidates"][0]["content"]["parts"][0]["functionCall"].clone();
        assert_eq!(
            call,
            json!({"name": "get_weather", "args": {"city": "sim-city"}}),
            "{first}"
        );
        let mut next = ask.clone();
        next["contents"] = json!([ask["contents"][0], first["candidates"][0]["content"],
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp_c": 21}}}]}]);
        let (status, last) = send(gemini(&gw, "gpt-4o-mini:generateContent", &key), &next).await;
        assert_eq!(status, 200, "{last}");
        assert!(last["candidates"][0]["content"]["parts"][0]["text"].is_string());
        let sent = gw.sim.last_body("/v1/chat/completions").unwrap();
        assert_eq!(sent["messages"][2]["role"], "tool");
        assert_eq!(
            sent["messages"][2]["tool_call_id"],
            sent["messages"][1]["tool_calls"][0]["id"]
        );

        // The same door under /v1 (SDKs set to the v1 API), countTokens, and the model lists.
        let (status, v1) = send(
            gw.http
                .post(format!("{}/v1/models/{GEMINI}:generateContent", gw.url))
                .header("x-goog-api-key", &key),
            &req,
        )
        .await;
        assert_eq!(status, 200, "{v1}");
        let (_, count) = send(gemini(&gw, "gemini-2.5-flash:countTokens", &key), &req).await;
        assert!(count["totalTokens"].as_i64().unwrap() > 0);
        let list: Value = gw
            .http
            .get(format!("{}/v1beta/models?key={key}", gw.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let names: Vec<&str> = list["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"models/gemini-2.5-flash")
                && names.contains(&"models/claude-sonnet-4-5")
                && names.contains(&"models/gpt-4o-mini")
        );
        let one: Value = gw
            .http
            .get(format!("{}/v1beta/models/{GEMINI}", gw.url))
            .header("x-goog-api-key", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(one["name"], "models/gemini-2.5-flash");
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn models_list_answers_in_the_callers_shape() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let (_, key) = gw
            .user_with_key(
                USD,
                NewKey {
                    models: vec![CLAUDE.into(), GEMINI.into()],
                    ..Default::default()
                },
            )
            .await;
        let get = |h: (&'static str, String)| {
            gw.http
                .get(format!("{}/v1/models", gw.url))
                .header(h.0, h.1)
        };
        let openai: Value = get(("authorization", format!("Bearer {key}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(openai["object"], "list");
        let ids: Vec<&str> = openai["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [CLAUDE, GEMINI]);
        let claude: Value = get(("x-api-key", key.clone()))
            .header("anthropic-version", "2023-06-01")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            claude["data"][0],
            json!({"type": "model", "id": CLAUDE, "display_name": CLAUDE, "created_at": "2023-11-14T22:13:20Z"})
        );
        assert_eq!(
            (
                claude["has_more"].clone(),
                claude["first_id"].clone(),
                claude["last_id"].clone()
            ),
            (json!(false), json!(CLAUDE), json!(GEMINI))
        );
        let google: Value = get(("x-goog-api-key", key.clone()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(google["models"][1]["name"], "models/gemini-2.5-flash");
        // One model, the Anthropic way; a missing one in Anthropic's error shape.
        let one: Value = gw
            .http
            .get(format!("{}/v1/models/{CLAUDE}", gw.url))
            .header("x-api-key", &key)
            .header("anthropic-version", "2023-06-01")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(one["type"], "model");
        let r = gw
            .http
            .get(format!("{}/v1/models/gpt-4o", gw.url))
            .header("x-api-key", &key)
            .header("anthropic-version", "2023-06-01")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["type"],
            "not_found_error"
        );
        gw.shutdown().await;
    }
}

// --- errors and health ------------------------------------------------------------------------

/// One model served by a failing Anthropic channel only, one by a failing Gemini channel only,
/// and one whose failing preferred channel has a healthy fallback.
const FAULTY: &str = r#"
[gateway.health]
failures = 50
window = 100

[[channels]]
name = "claude-broken"
kind = "anthropic"
base_url = "{sim}"
keys = ["sk-ant-sim"]
models = ["claude-400", "claude-429", "claude-529"]
model_map = { "claude-400" = "claude-sonnet-4-5@status=400", "claude-429" = "claude-sonnet-4-5@status=429", "claude-529" = "claude-sonnet-4-5@status=529" }

[[channels]]
name = "gemini-broken"
kind = "gemini"
base_url = "{sim}/gemini"
keys = ["sim-gemini-key"]
models = ["gemini-503"]
model_map = { "gemini-503" = "gemini-2.5-flash@status=503" }

[[channels]]
name = "claude-flaky"
kind = "anthropic"
base_url = "{sim}"
keys = ["sk-ant-sim"]
models = ["claude-sonnet-4-5"]
model_map = { "claude-sonnet-4-5" = "claude-sonnet-4-5@status=529" }
priority = 10

[[prices]]
model = "claude-*"
input_per_mtok = 3.0
output_per_mtok = 15.0

[[prices]]
model = "gemini-503"
input_per_mtok = 0.3
"#;

#[tokio::test]
async fn provider_errors_come_back_in_the_callers_format_and_count_toward_health() {
    for b in backends() {
        let gw = TestGateway::start_with(b, with(FAULTY)).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let openai_req =
            |m: &str| json!({"model": m, "messages": [{"role": "user", "content": "hi"}]});
        let anthropic_req = |m: &str| json!({"model": m, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});
        let gemini_req = json!({"contents": [{"parts": [{"text": "hi"}]}]});
        // (model, status the caller sees, Anthropic's error type, Google's status)
        for (model, status, kind, google) in [
            (
                "claude-400",
                400,
                "invalid_request_error",
                "INVALID_ARGUMENT",
            ),
            ("claude-429", 429, "rate_limit_error", "RESOURCE_EXHAUSTED"),
            ("claude-529", 502, "api_error", "INTERNAL"),
            ("gemini-503", 502, "api_error", "INTERNAL"),
        ] {
            let (s, e) = send(gw.post("/v1/chat/completions", &key), &openai_req(model)).await;
            assert_eq!(s, status, "{model}: {e}");
            assert_eq!(e.as_object().unwrap().keys().collect::<Vec<_>>(), ["error"]);
            let message = e["error"]["message"].as_str().unwrap().to_lowercase();
            assert!(
                message.contains("simulated"),
                "the provider's message is kept: {e}"
            );
            assert!(e["error"].get("type").is_some() && e["error"].get("param").is_some());
            let (s, e) = send(anthropic(&gw, &key), &anthropic_req(model)).await;
            assert_eq!(s, status, "{model}: {e}");
            assert_eq!(
                e,
                json!({"type": "error", "error": {"type": kind, "message": e["error"]["message"]}})
            );
            let (s, e) = send(
                gemini(&gw, &format!("{model}:generateContent"), &key),
                &gemini_req,
            )
            .await;
            assert_eq!(s, status, "{model}: {e}");
            assert_eq!(
                e,
                json!({"error": {"code": status, "message": e["error"]["message"], "status": google}})
            );
        }
        assert_eq!(gw.balance(&user.id).await, USD, "failures cost nothing");
        // Provider faults count against the channel; the caller's mistakes (400) do not.
        let broken = gw
            .state
            .health
            .view(&channel_id(&gw, "claude-broken").await);
        assert_eq!(
            broken.recent_failures,
            2 * 3,
            "429 and 529, from three callers"
        );
        assert_eq!(
            gw.state
                .health
                .view(&channel_id(&gw, "gemini-broken").await)
                .recent_failures,
            3
        );

        // A failing preferred channel fails over to the healthy one, for every caller.
        let before = gw.sim.requests("/v1/messages");
        assert_eq!(
            send(gw.post("/v1/chat/completions", &key), &openai_req(CLAUDE))
                .await
                .0,
            200
        );
        assert_eq!(
            send(anthropic(&gw, &key), &anthropic_req(CLAUDE)).await.0,
            200
        );
        assert_eq!(
            send(
                gemini(&gw, "claude-sonnet-4-5:generateContent", &key),
                &gemini_req
            )
            .await
            .0,
            200
        );
        assert_eq!(gw.sim.requests("/v1/messages"), before + 6);
        assert_eq!(
            gw.state
                .health
                .view(&channel_id(&gw, "claude-flaky").await)
                .recent_failures,
            3
        );
        let logs = gw.wait_logs(&user.id, 15).await;
        let served = channel_id(&gw, "demo-anthropic").await;
        assert_eq!(
            logs.iter()
                .filter(|l| l.status == 200 && l.channel_id.as_deref() == Some(served.as_str()))
                .count(),
            3
        );

        // Unauthenticated callers hear it in their own format too.
        let r = gw
            .http
            .post(format!("{}/v1/messages", gw.url))
            .json(&anthropic_req(CLAUDE))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["type"],
            "authentication_error"
        );
        let r = gw
            .http
            .post(format!(
                "{}/v1beta/models/{GEMINI}:generateContent?key=sk-wrong",
                gw.url
            ))
            .json(&gemini_req)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["status"],
            "UNAUTHENTICATED"
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn a_refused_gemini_key_disables_its_channel() {
    for b in backends() {
        let gw = TestGateway::start_with(
            b,
            with(
                r#"
[[channels]]
name = "gemini-bad-key"
kind = "gemini"
base_url = "{sim}/gemini"
keys = ["sk-sim-invalid"]
models = ["gemini-2.5-flash"]
priority = 10
"#,
            ),
        )
        .await;
        let (_, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, body) = send(
            gw.post("/v1/chat/completions", &key),
            &chat_body(GEMINI, json!("hi")),
        )
        .await;
        assert_eq!(status, 200, "served by the demo channel: {body}");
        let ch = gw
            .state
            .store
            .channel_by_name("gemini-bad-key")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ch.status, "auto_disabled");
        assert!(ch.status_reason.unwrap().contains("API key not valid"));
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn broken_streams_end_with_an_error_in_the_callers_shape() {
    for b in backends() {
        let gw = TestGateway::start_with(
            b,
            with(
                r#"
[[channels]]
name = "cutters"
base_url = "{sim}"
keys = ["sk-sim-ok"]
models = ["gpt-cut"]
model_map = { "gpt-cut" = "gpt-4o-mini@cut_after=3" }

[[channels]]
name = "claude-cutter"
kind = "anthropic"
base_url = "{sim}"
keys = ["sk-ant-sim"]
models = ["claude-cut"]
model_map = { "claude-cut" = "claude-sonnet-4-5@cut_after=3" }

[[prices]]
model = "gpt-cut"
input_per_mtok = 0.15
output_per_mtok = 0.60

[[prices]]
model = "claude-cut"
input_per_mtok = 3.0
output_per_mtok = 15.0
"#,
            ),
        )
        .await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        // OpenAI caller, Anthropic channel.
        let (_, sse) = body_text(gw.post("/v1/chat/completions", &key), &json!({"model": "claude-cut", "stream": true, "messages": [{"role": "user", "content": "hi"}]})).await;
        let chunks = data(&sse);
        assert_eq!(
            chunks.last().unwrap()["error"]["code"],
            "upstream_stream_error",
            "{sse}"
        );
        assert!(!sse.contains("[DONE]"), "no fake ending");
        // Anthropic caller, OpenAI channel.
        let (_, sse) = body_text(anthropic(&gw, &key), &json!({"model": "gpt-cut", "stream": true, "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]})).await;
        let evs = events(&sse);
        let (name, last) = evs.last().unwrap();
        assert_eq!(
            (name.as_str(), &last["error"]["type"]),
            ("error", &json!("api_error")),
            "{sse}"
        );
        assert!(
            !evs.iter().any(|(n, _)| n == "message_stop"),
            "no fake ending"
        );
        // Gemini caller, Anthropic channel.
        let (_, sse) = body_text(
            gemini(&gw, "claude-cut:streamGenerateContent?alt=sse", &key),
            &json!({"contents": [{"parts": [{"text": "hi"}]}]}),
        )
        .await;
        let last = data(&sse).pop().unwrap();
        assert_eq!(last["error"]["code"], 502, "{sse}");
        assert!(!sse.contains("finishReason"));
        // Each was billed for what it produced, and logged as broken.
        let logs = gw.wait_logs(&user.id, 3).await;
        assert!(
            logs.iter()
                .all(|l| l.status == 502 && l.tokens_out > 0 && l.cost > 0),
            "{logs:?}"
        );
        gw.shutdown().await;
    }
}

// --- custom GPTs, Azure, presets ---------------------------------------------------------------

#[tokio::test]
async fn gizmo_models_route_to_channels_that_declare_the_pattern() {
    for b in backends() {
        let gw = TestGateway::start_with(
            b,
            with(
                r#"
[[channels]]
name = "gizmos"
base_url = "{sim}"
keys = ["sk-sim-gizmo"]
models = ["gpt-4-gizmo-*"]
priority = 10
"#,
            ),
        )
        .await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let model = "gpt-4-gizmo-g-2fkFE8rbu";
        let (status, body) = send(
            gw.post("/v1/chat/completions", &key),
            &json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            gw.sim.last_body("/v1/chat/completions").unwrap()["model"],
            model
        );
        assert_eq!(
            gw.sim
                .last_header("/v1/chat/completions", "authorization")
                .as_deref(),
            Some("Bearer sk-sim-gizmo")
        );
        // Through the Anthropic door too.
        let (status, m) = send(anthropic(&gw, &key), &json!({"model": model, "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]})).await;
        assert_eq!(status, 200, "{m}");
        let logs = gw.wait_logs(&user.id, 2).await;
        let gizmos = channel_id(&gw, "gizmos").await;
        assert!(logs
            .iter()
            .all(|l| l.channel_id.as_deref() == Some(gizmos.as_str()) && l.cost == 10_000_000));
        // A channel that does not declare the pattern never sees it.
        let (status, _) = send(
            gw.post("/v1/chat/completions", &key),
            &json!({"model": "gpt-4-turbo-gizmo", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
        assert_eq!(status, 404);
        gw.shutdown().await;
    }
}

/// What a recording upstream saw.
#[derive(Clone, Debug)]
struct Seen {
    uri: String,
    headers: HeaderMap,
    body: Value,
}

/// An OpenAI-compatible upstream that records every request and answers a fixed chat
/// completion (with DeepSeek-style reasoning and cache-hit usage), or a stream of it.
async fn recorder() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let log = log.clone();
        async move {
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let stream = body["stream"] == true;
            let model = body["model"].clone();
            log.lock().unwrap().push(Seen { uri: parts.uri.to_string(), headers: parts.headers, body });
            let usage = json!({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12, "prompt_cache_hit_tokens": 4, "prompt_cache_miss_tokens": 6});
            if stream {
                let chunk = |choices: Value, usage: Value| json!({"id": "rec-1", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": choices, "usage": usage});
                let events = [
                    chunk(json!([{"index": 0, "delta": {"role": "assistant", "reasoning_content": "hmm"}, "finish_reason": null}]), Value::Null),
                    chunk(json!([{"index": 0, "delta": {"content": "Hi there"}, "finish_reason": null}]), Value::Null),
                    chunk(json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]), Value::Null),
                    chunk(json!([]), usage),
                ];
                let mut sse: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
                sse.push_str("data: [DONE]\n\n");
                return ([("content-type", "text/event-stream")], sse).into_response();
            }
            axum::Json(json!({"id": "rec-1", "object": "chat.completion", "created": 1, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there", "reasoning_content": "hmm"}, "finish_reason": "stop"}],
                "usage": usage})).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn azure_and_the_openai_compatible_presets() {
    for b in backends() {
        let (rec, seen) = recorder().await;
        let gw = TestGateway::start_with(b, move |sim| {
            format!(
                r#"{}
[[channels]]
name = "azure"
kind = "azure"
base_url = "{rec}/?api-version=2024-06-01"
keys = ["azure-secret"]
models = ["gpt-4o-azure"]
model_map = {{ "gpt-4o-azure" = "my-gpt4o-deployment" }}

[[channels]]
name = "mistral"
kind = "mistral"
base_url = "{rec}/v1"
keys = ["mistral-key"]
models = ["mistral-small-latest"]

[[channels]]
name = "zhipu"
kind = "zhipu"
base_url = "{rec}/api/paas/v4"
keys = ["zhipu-key"]
models = ["glm-4-plus"]

[[channels]]
name = "deepseek"
kind = "deepseek"
base_url = "{rec}"
keys = ["ds-key"]
models = ["deepseek-reasoner"]

[[channels]]
name = "local"
kind = "ollama"
models = ["llama3.2"]
enabled = false

[[prices]]
model = "gpt-4o-azure"
input_per_mtok = 2.5
output_per_mtok = 10.0

[[prices]]
model = "mistral-small-latest"
input_per_mtok = 0.2

[[prices]]
model = "glm-4-plus"
input_per_mtok = 0.5

[[prices]]
model = "deepseek-reasoner"
input_per_mtok = 0.55
cached_input_per_mtok = 0.14
output_per_mtok = 2.19
"#,
                default_config(sim)
            )
        })
        .await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let last = || seen.lock().unwrap().last().cloned().unwrap();

        // Azure: the deployment in the path, the pinned api-version, the key in api-key.
        let (status, body) = send(
            gw.post("/v1/chat/completions", &key),
            &json!({"model": "gpt-4o-azure", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let s = last();
        assert_eq!(
            s.uri,
            "/openai/deployments/my-gpt4o-deployment/chat/completions?api-version=2024-06-01"
        );
        assert_eq!(s.headers["api-key"], "azure-secret");
        assert!(s.headers.get("authorization").is_none());
        assert_eq!(s.body["model"], "my-gpt4o-deployment");

        // Mistral: no stream_options (usage always ends its streams), max_tokens for max_completion_tokens.
        let (_, sse) = body_text(gw.post("/v1/chat/completions", &key), &json!({"model": "mistral-small-latest", "stream": true, "max_completion_tokens": 9, "messages": [{"role": "user", "content": "hi"}]})).await;
        assert!(sse.ends_with("data: [DONE]\n\n"));
        let s = last();
        assert_eq!(s.uri, "/v1/chat/completions");
        assert_eq!(s.headers["authorization"], "Bearer mistral-key");
        assert!(
            s.body.get("stream_options").is_none() && s.body.get("max_completion_tokens").is_none()
        );
        assert_eq!(s.body["max_tokens"], 9);

        // Zhipu: its own /v4 path; tool_choice only "auto".
        let (status, _) = send(gw.post("/v1/chat/completions", &key), &json!({"model": "glm-4-plus", "tools": tools(), "tool_choice": "required", "messages": [{"role": "user", "content": "hi"}]})).await;
        assert_eq!(status, 200);
        let s = last();
        assert_eq!(s.uri, "/api/paas/v4/chat/completions");
        assert_eq!(s.body["tool_choice"], "auto");

        // DeepSeek: reasoning in, reasoning out (as thinking for Anthropic callers), cache hits
        // billed at the cached price, reasoning_content stripped from history sent back.
        let history = json!([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello", "reasoning_content": "old thoughts"}, {"role": "user", "content": "again"}]);
        let (_, body) = send(
            gw.post("/v1/chat/completions", &key),
            &json!({"model": "deepseek-reasoner", "messages": history}),
        )
        .await;
        assert_eq!(body["choices"][0]["message"]["reasoning_content"], "hmm");
        assert!(last().body["messages"][1]
            .get("reasoning_content")
            .is_none());
        let (_, m) = send(anthropic(&gw, &key), &json!({"model": "deepseek-reasoner", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]})).await;
        assert_eq!(
            m["content"][0],
            json!({"type": "thinking", "thinking": "hmm", "signature": ""})
        );
        assert_eq!(m["content"][1], json!({"type": "text", "text": "Hi there"}));
        assert_eq!(m["usage"]["cache_read_input_tokens"], 4);
        let (_, sse) = body_text(anthropic(&gw, &key), &json!({"model": "deepseek-reasoner", "max_tokens": 50, "stream": true, "messages": [{"role": "user", "content": "hi"}]})).await;
        let starts: Vec<Value> = events(&sse)
            .into_iter()
            .filter(|(n, _)| n == "content_block_start")
            .map(|(_, d)| d["content_block"]["type"].clone())
            .collect();
        assert_eq!(starts, [json!("thinking"), json!("text")]);
        // 6 uncached × $0.55 + 4 cached × $0.14 + 2 out × $2.19 per 1M, three times.
        let logs = gw.wait_logs(&user.id, 6).await;
        let ds: Vec<_> = logs
            .iter()
            .filter(|l| l.model == "deepseek-reasoner")
            .collect();
        assert_eq!(ds.len(), 3);
        assert!(
            ds.iter()
                .all(|l| l.tokens_cached == 4 && l.cost == 6 * 550 + 4 * 140 + 2 * 2190),
            "{ds:?}"
        );

        // A preset fills in the base URL the operator left out.
        let local = gw
            .state
            .store
            .channel_by_name("local")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(local.base_url, "http://127.0.0.1:11434/v1");
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn endpoints_a_format_cannot_carry_pass_its_channels_over() {
    for b in backends() {
        let gw = TestGateway::start_with(
            b,
            with(
                r#"
[[channels]]
name = "gemini-first"
kind = "gemini"
base_url = "{sim}/gemini"
keys = ["sim-gemini-key"]
models = ["text-embedding-3-small", "gemini-embed-only"]
priority = 10

[[prices]]
model = "gemini-embed-only"
input_per_mtok = 0.1
"#,
            ),
        )
        .await;
        let (_, key) = gw.user_with_key(USD, NewKey::default()).await;
        // Served by the OpenAI channel further down the list.
        let (status, body) = send(
            gw.post("/v1/embeddings", &key),
            &json!({"model": "text-embedding-3-small", "input": "hi"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["object"], "list");
        // Nothing else can: a clear 400, and no hold kept.
        let (status, body) = send(
            gw.post("/v1/embeddings", &key),
            &json!({"model": "gemini-embed-only", "input": "hi"}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("Gemini API"), "{message}");
        assert_eq!(
            gw.sim
                .requests("/gemini/v1beta/models/gemini-embed-only:generateContent"),
            0
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn the_admin_api_lists_kinds_and_presets_fill_the_form() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let kinds: Value = gw
            .get("/api/channels/kinds", common::ROOT_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let by_kind = |k: &str| {
            kinds["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["kind"] == k)
                .cloned()
                .unwrap()
        };
        assert_eq!(by_kind("anthropic")["wire"], "anthropic");
        assert_eq!(by_kind("gemini")["wire"], "gemini");
        assert_eq!(by_kind("azure")["wire"], "openai");
        assert_eq!(by_kind("veo")["wire"], "video");
        assert_eq!(
            by_kind("deepseek")["base_url"],
            "https://api.deepseek.com/v1"
        );
        assert_eq!(by_kind("ollama")["key_required"], false);
        assert!(by_kind("mistral")["notes"]
            .as_str()
            .unwrap()
            .contains("stream_options"));
        let (_, user_key) = gw.user_with_key(USD, NewKey::default()).await;
        assert_eq!(
            gw.get("/api/channels/kinds", &user_key)
                .send()
                .await
                .unwrap()
                .status(),
            403
        );

        // A preset channel created without a base URL gets the preset's; others must give one.
        let (status, c) = send(
            gw.post("/api/channels", common::ROOT_KEY),
            &json!({"name": "ds", "kind": "deepseek", "keys": ["sk-ds"], "models": ["deepseek-chat"]}),
        )
        .await;
        assert_eq!(status, 201, "{c}");
        assert_eq!(c["base_url"], "https://api.deepseek.com/v1");
        let (status, e) = send(
            gw.post("/api/channels", common::ROOT_KEY),
            &json!({"name": "claude", "kind": "anthropic", "keys": ["k"], "models": ["claude-x"]}),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(e["error"]["param"], "base_url");
        gw.shutdown().await;
    }
}
