//! Anthropic's Messages API: `POST /v1/messages`, plain or streamed (named SSE events),
//! with tools (parallel calls, results), images, thinking, stop sequences, prompt-cache
//! usage and Anthropic's error shapes. Checks what the real API checks where a bad
//! translation would show: `x-api-key` and `anthropic-version`, `max_tokens`, roles,
//! non-empty text, decodable images, and every `tool_use` answered by a `tool_result`
//! in the next turn.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::assistant::{self, Finish, Prompt, Tool, ToolMode, Turn};
use crate::fault::{self, Faults};
use crate::openai::INVALID_KEY;
use crate::reply;
use crate::sse::{self, Frame};
use crate::Sim;

/// Tokens an image costs in the simulated count.
const IMAGE_TOKENS: u64 = 100;

const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];

pub fn routes() -> Router<Sim> {
    Router::new().route("/v1/messages", post(messages))
}

/// Anthropic's error envelope.
pub fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    (status, Json(body)).into_response()
}

fn invalid(message: impl AsRef<str>) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        message.as_ref(),
    )
}

fn fault_error(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (kind, message) = match code {
        401 => ("authentication_error", "invalid x-api-key (simulated)"),
        403 => (
            "permission_error",
            "Your API key does not have permission to use the specified resource. (simulated)",
        ),
        404 => (
            "not_found_error",
            "The requested resource could not be found. (simulated)",
        ),
        429 => (
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit (simulated)",
        ),
        529 => ("overloaded_error", "Overloaded (simulated)"),
        500..=599 => ("api_error", "Internal server error (simulated)"),
        _ => ("invalid_request_error", "Simulated error."),
    };
    error(status, kind, message)
}

async fn messages(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    match answer(&sim, &headers, &body).await {
        Ok(r) | Err(r) => r,
    }
}

async fn answer(sim: &Sim, headers: &HeaderMap, body: &[u8]) -> Result<Response, Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match header("x-api-key") {
        None | Some("") => {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "x-api-key header is required",
            ))
        }
        Some(INVALID_KEY) => {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "invalid x-api-key",
            ))
        }
        Some(_) => {}
    }
    if header("anthropic-version").is_none() {
        return Err(invalid("anthropic-version: header is required"));
    }
    let req: Value = serde_json::from_slice(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| invalid("There was an issue with your request body: not a JSON object"))?;
    let raw_model = req.get("model").and_then(Value::as_str).unwrap_or("");
    let (model, spec) = fault::split_model(raw_model);
    let faults = sim.faults_for(header("x-sim-fault"), spec);
    faults.wait_latency().await;
    if let Some(code) = faults.status {
        return Err(fault_error(code));
    }
    if model.is_empty() {
        return Err(invalid("model: Field required"));
    }
    let max_tokens = req
        .get("max_tokens")
        .and_then(Value::as_u64)
        .filter(|m| *m >= 1)
        .ok_or_else(|| invalid("max_tokens: Field required"))?;
    let turns = req
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| invalid("messages: Field required"))?;
    validate(turns)?;
    let prompt = prompt(&req, turns, max_tokens, &faults);
    let turn = assistant::respond(&prompt);
    let usage = Usage::of(&req, turns);
    let message = Message {
        id: format!("msg_sim{:016x}", sim.next_id()),
        model: model.to_owned(),
        turn,
        usage,
        faults,
    };
    Ok(
        if req.get("stream").and_then(Value::as_bool) == Some(true) {
            message.stream()
        } else {
            Json(message.json()).into_response()
        },
    )
}

fn blocks(content: Option<&Value>) -> Vec<Value> {
    match content {
        Some(Value::String(s)) => vec![json!({"type": "text", "text": s})],
        Some(Value::Array(b)) => b.clone(),
        _ => Vec::new(),
    }
}

fn validate(turns: &[Value]) -> Result<(), Response> {
    let mut open_calls: Vec<String> = Vec::new();
    for (i, m) in turns.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if role != "user" && role != "assistant" {
            return Err(invalid(format!(
                "messages.{i}.role: Input should be 'user' or 'assistant'"
            )));
        }
        let content = blocks(m.get("content"));
        if content.is_empty() && role == "user" {
            return Err(invalid(format!(
                "messages.{i}: user messages must have non-empty content"
            )));
        }
        let mut answered = Vec::new();
        for (j, b) in content.iter().enumerate() {
            let at = format!("messages.{i}.content.{j}");
            match b.get("type").and_then(Value::as_str).unwrap_or("") {
                "text" => {
                    if b.get("text")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                    {
                        return Err(invalid(format!(
                            "{at}: text content blocks must be non-empty"
                        )));
                    }
                }
                "image" => check_image(&at, b.get("source"))?,
                "tool_use" if role == "assistant" => {
                    if !b.get("input").is_some_and(Value::is_object) {
                        return Err(invalid(format!("{at}.input: Input should be an object")));
                    }
                }
                "tool_result" if role == "user" => {
                    let id = b.get("tool_use_id").and_then(Value::as_str).unwrap_or("");
                    if !open_calls.iter().any(|c| c == id) {
                        return Err(invalid(format!(
                            "{at}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                        )));
                    }
                    answered.push(id.to_owned());
                }
                "thinking" | "redacted_thinking" | "document" => {}
                other => {
                    return Err(invalid(format!(
                        "{at}.type: unexpected block type {other:?} in a {role} message"
                    )))
                }
            }
        }
        if role == "user" {
            if let Some(missing) = open_calls.iter().find(|c| !answered.contains(c)) {
                return Err(invalid(format!(
                    "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {missing}. Each `tool_use` block must have a corresponding `tool_result` block in the next message."
                )));
            }
            open_calls.clear();
        } else {
            open_calls = content
                .iter()
                .filter(|b| b["type"] == "tool_use")
                .filter_map(|b| b.get("id")?.as_str().map(str::to_owned))
                .collect();
        }
    }
    Ok(())
}

fn check_image(at: &str, source: Option<&Value>) -> Result<(), Response> {
    let source = source.ok_or_else(|| invalid(format!("{at}.source: Field required")))?;
    match source.get("type").and_then(Value::as_str) {
        Some("base64") => {
            let media = source
                .get("media_type")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !IMAGE_TYPES.contains(&media) {
                return Err(invalid(format!("{at}.source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'")));
            }
            let data = source.get("data").and_then(Value::as_str).unwrap_or("");
            if base64::engine::general_purpose::STANDARD
                .decode(data)
                .is_err()
            {
                return Err(invalid(format!("{at}.source.base64: invalid base64 data")));
            }
            Ok(())
        }
        Some("url") => {
            let url = source.get("url").and_then(Value::as_str).unwrap_or("");
            if url.starts_with("http://") || url.starts_with("https://") {
                Ok(())
            } else {
                Err(invalid(format!("{at}.source.url: must be an http(s) URL")))
            }
        }
        _ => Err(invalid(format!(
            "{at}.source.type: Input should be 'base64' or 'url'"
        ))),
    }
}

fn prompt(req: &Value, turns: &[Value], max_tokens: u64, faults: &Faults) -> Prompt {
    let last_user = turns.iter().rev().find(|m| m["role"] == "user");
    let content = blocks(last_user.and_then(|m| m.get("content")));
    let text: Vec<&str> = content
        .iter()
        .filter(|b| b["type"] == "text")
        .filter_map(|b| b.get("text")?.as_str())
        .collect();
    let tools = req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some(Tool {
                name: t.get("name")?.as_str()?.to_owned(),
                schema: t.get("input_schema").cloned(),
            })
        })
        .collect();
    let choice = req.get("tool_choice");
    let mode = match choice.and_then(|c| c.get("type")).and_then(Value::as_str) {
        Some("none") => ToolMode::None,
        Some("any") => ToolMode::Any,
        Some("tool") => ToolMode::Named(
            choice
                .and_then(|c| c.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        ),
        _ => ToolMode::Auto,
    };
    let parallel = choice
        .and_then(|c| c.get("disable_parallel_tool_use"))
        .and_then(Value::as_bool)
        != Some(true);
    let stop = req
        .get("stop_sequences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();
    Prompt {
        text: text.join(" "),
        images: content.iter().filter(|b| b["type"] == "image").count(),
        after_tool_result: content.iter().any(|b| b["type"] == "tool_result"),
        tools,
        mode,
        parallel,
        thinking: req.pointer("/thinking/type").and_then(Value::as_str) == Some("enabled"),
        max_tokens: Some(max_tokens),
        stop,
        words: faults.words.unwrap_or(reply::DEFAULT_WORDS),
    }
}

/// Input tokens as Anthropic splits them: uncached, read from the cache (a system prompt
/// marked `cache_control`), written to it (message blocks marked `cache_control`).
#[derive(Clone, Copy)]
struct Usage {
    input: u64,
    cache_read: u64,
    cache_write: u64,
}

impl Usage {
    fn of(req: &Value, turns: &[Value]) -> Usage {
        let mut u = Usage {
            input: 0,
            cache_read: 0,
            cache_write: 0,
        };
        match req.get("system") {
            Some(Value::String(s)) => u.input += reply::approx_tokens(s),
            Some(Value::Array(b)) => {
                for block in b {
                    let n = block_tokens(block);
                    if block.get("cache_control").is_some() {
                        u.cache_read += n;
                    } else {
                        u.input += n;
                    }
                }
            }
            _ => {}
        }
        for m in turns {
            u.input += 3;
            for b in blocks(m.get("content")) {
                let n = block_tokens(&b);
                if b.get("cache_control").is_some() {
                    u.cache_write += n;
                } else {
                    u.input += n;
                }
            }
        }
        u
    }
}

fn block_tokens(b: &Value) -> u64 {
    match b.get("type").and_then(Value::as_str).unwrap_or("") {
        "text" => reply::approx_tokens(b.get("text").and_then(Value::as_str).unwrap_or("")),
        "image" => IMAGE_TOKENS,
        "tool_use" => {
            reply::approx_tokens(&b.get("input").map(Value::to_string).unwrap_or_default())
        }
        "tool_result" => match b.get("content") {
            Some(Value::String(s)) => reply::approx_tokens(s),
            Some(Value::Array(inner)) => inner.iter().map(block_tokens).sum(),
            _ => 0,
        },
        _ => 0,
    }
}

struct Message {
    id: String,
    model: String,
    turn: Turn,
    usage: Usage,
    faults: Faults,
}

impl Message {
    fn stop(&self) -> (&'static str, Value) {
        match &self.turn.finish {
            Finish::Stop => ("end_turn", Value::Null),
            Finish::Length => ("max_tokens", Value::Null),
            Finish::ToolCalls => ("tool_use", Value::Null),
            Finish::StopSequence(s) => ("stop_sequence", json!(s)),
        }
    }

    fn usage(&self, output: u64) -> Value {
        json!({
            "input_tokens": self.usage.input,
            "cache_creation_input_tokens": self.usage.cache_write,
            "cache_read_input_tokens": self.usage.cache_read,
            "output_tokens": output,
        })
    }

    fn content(&self) -> Vec<Value> {
        let mut content = Vec::new();
        if !self.turn.thinking.is_empty() {
            content.push(json!({"type": "thinking", "thinking": self.turn.thinking(), "signature": signature(&self.turn.thinking())}));
        }
        if !self.turn.text.is_empty() {
            content.push(json!({"type": "text", "text": self.turn.text()}));
        }
        for c in &self.turn.calls {
            content.push(json!({"type": "tool_use", "id": format!("toolu_{}", c.id), "name": c.name, "input": c.arguments_json()}));
        }
        content
    }

    fn json(&self) -> Value {
        let (stop_reason, stop_sequence) = self.stop();
        let mut m = json!({
            "id": self.id, "type": "message", "role": "assistant", "model": self.model,
            "content": self.content(), "stop_reason": stop_reason, "stop_sequence": stop_sequence,
        });
        if !self.faults.no_usage {
            m["usage"] = self.usage(self.turn.output_tokens());
        }
        m
    }

    fn stream(&self) -> Response {
        let mut frames = Vec::new();
        let event = |name: &str, v: Value, content: bool| Frame::event(name, &v, content);
        let mut start = json!({"id": self.id, "type": "message", "role": "assistant", "content": [],
            "model": self.model, "stop_reason": null, "stop_sequence": null});
        if !self.faults.no_usage {
            start["usage"] = self.usage(1);
        }
        frames.push(event(
            "message_start",
            json!({"type": "message_start", "message": start}),
            false,
        ));
        frames.push(event("ping", json!({"type": "ping"}), false));
        let mut index = 0;
        let mut block = |frames: &mut Vec<Frame>, start: Value, deltas: Vec<Value>| {
            frames.push(event(
                "content_block_start",
                json!({"type": "content_block_start", "index": index, "content_block": start}),
                false,
            ));
            for d in deltas {
                frames.push(event(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index, "delta": d}),
                    true,
                ));
            }
            frames.push(event(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": index}),
                false,
            ));
            index += 1;
        };
        let t = &self.turn;
        if !t.thinking.is_empty() {
            let mut deltas: Vec<Value> = pieces(&t.thinking)
                .map(|w| json!({"type": "thinking_delta", "thinking": w}))
                .collect();
            deltas.push(json!({"type": "signature_delta", "signature": signature(&t.thinking())}));
            block(
                &mut frames,
                json!({"type": "thinking", "thinking": ""}),
                deltas,
            );
        }
        if !t.text.is_empty() {
            let deltas = pieces(&t.text)
                .map(|w| json!({"type": "text_delta", "text": w}))
                .collect();
            block(&mut frames, json!({"type": "text", "text": ""}), deltas);
        }
        for c in &t.calls {
            let start = json!({"type": "tool_use", "id": format!("toolu_{}", c.id), "name": c.name, "input": {}});
            let mut deltas = vec![json!({"type": "input_json_delta", "partial_json": ""})];
            deltas.extend(
                c.fragments()
                    .into_iter()
                    .map(|f| json!({"type": "input_json_delta", "partial_json": f})),
            );
            block(&mut frames, start, deltas);
        }
        let (stop_reason, stop_sequence) = self.stop();
        let mut delta = json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence}});
        if !self.faults.no_usage {
            // Counts here are cumulative and final.
            delta["usage"] = self.usage(t.output_tokens());
        }
        frames.push(event("message_delta", delta, false));
        frames.push(event(
            "message_stop",
            json!({"type": "message_stop"}),
            false,
        ));
        sse::response(frames, &self.faults)
    }
}

/// Words as streamed: every word after the first carries its leading space.
fn pieces(words: &[String]) -> impl Iterator<Item = String> + '_ {
    words.iter().enumerate().map(|(i, w)| reply::piece(i, w))
}

fn signature(thinking: &str) -> String {
    use sha2::{Digest, Sha256};
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(thinking))
}
