//! `POST /v1/chat/completions`: text, JSON mode and tool-call answers, plain
//! or streamed, with usage that tests can predict exactly.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{bad_request, now, prepare, Req};
use crate::reply;
use crate::sse::{self, Frame};
use crate::Sim;

/// Upper bound on `n`, so a typo cannot make the sim allocate wildly.
const MAX_CHOICES: u64 = 128;
/// Tool-call arguments are streamed in fragments of this many characters.
const FRAGMENT_CHARS: usize = 6;

pub async fn handle(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    match answer(&sim, &headers, &body).await {
        Ok(resp) | Err(resp) => resp,
    }
}

async fn answer(sim: &Sim, headers: &HeaderMap, body: &[u8]) -> Result<Response, Response> {
    let req = prepare(sim, headers, body).await?;
    req.require_model()?;
    let messages = req.body.get("messages").and_then(Value::as_array);
    let messages = messages
        .filter(|m| !m.is_empty())
        .ok_or_else(|| bad_request("'messages' is a required property", Some("messages")))?;
    let chat = Chat::new(sim, &req, messages);
    Ok(if req.flag("stream") {
        chat.stream(&req)
    } else {
        chat.json(&req)
    })
}

enum Answer {
    Text {
        words: Vec<String>,
        finish: &'static str,
    },
    Tool {
        id: String,
        name: String,
        fragments: Vec<String>,
    },
}

impl Answer {
    /// One token per word or per argument fragment, streamed or not.
    fn tokens(&self) -> u64 {
        match self {
            Answer::Text { words, .. } => words.len() as u64,
            Answer::Tool { fragments, .. } => fragments.len() as u64,
        }
    }

    fn finish(&self) -> &'static str {
        match self {
            Answer::Text { finish, .. } => finish,
            Answer::Tool { .. } => "tool_calls",
        }
    }

    fn message(&self) -> Value {
        match self {
            Answer::Text { words, .. } => {
                json!({"role": "assistant", "content": words.join(" "), "refusal": null})
            }
            Answer::Tool {
                id,
                name,
                fragments,
            } => {
                let call = json!({"id": id, "type": "function",
                    "function": {"name": name, "arguments": fragments.concat()}});
                json!({"role": "assistant", "content": null, "tool_calls": [call], "refusal": null})
            }
        }
    }
}

struct Chat {
    id: String,
    created: u64,
    model: String,
    n: u64,
    answer: Answer,
    prompt_tokens: u64,
}

impl Chat {
    fn new(sim: &Sim, req: &Req, messages: &[Value]) -> Chat {
        let answer = match pick_tool(&req.body, messages) {
            Some(tool) => tool_answer(tool),
            None => text_answer(req, &last_user_text(messages)),
        };
        Chat {
            id: format!("chatcmpl-sim{:016x}", sim.next_id()),
            created: now(),
            model: req.model.clone(),
            n: req.u64("n").unwrap_or(1).clamp(1, MAX_CHOICES),
            answer,
            prompt_tokens: messages
                .iter()
                .map(|m| reply::approx_tokens(&text_of(m)) + 3)
                .sum(),
        }
    }

    fn usage(&self) -> Value {
        let completion = self.answer.tokens() * self.n;
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        })
    }

    fn json(&self, req: &Req) -> Response {
        let message = self.answer.message();
        let finish = self.answer.finish();
        let choices: Vec<Value> = (0..self.n)
            .map(|i| json!({"index": i, "message": message, "logprobs": null, "finish_reason": finish}))
            .collect();
        let mut body = json!({
            "id": self.id, "object": "chat.completion", "created": self.created,
            "model": self.model, "choices": choices, "system_fingerprint": "fp_sim",
        });
        if !req.faults.no_usage {
            body["usage"] = self.usage();
        }
        Json(body).into_response()
    }

    fn stream(&self, req: &Req) -> Response {
        let with_usage = req.stream_usage();
        let chunk = |choices: Value, content: bool| {
            let mut c = self.chunk(choices);
            if with_usage {
                c["usage"] = Value::Null;
            }
            Frame::json(&c, content)
        };
        let mut frames = Vec::new();
        for i in 0..self.n {
            frames.push(chunk(json!([choice(i, self.first_delta(), None)]), false));
        }
        for delta in self.deltas() {
            for i in 0..self.n {
                frames.push(chunk(json!([choice(i, delta.clone(), None)]), true));
            }
        }
        for i in 0..self.n {
            frames.push(chunk(
                json!([choice(i, json!({}), Some(self.answer.finish()))]),
                false,
            ));
        }
        if with_usage {
            frames.push(Frame::json(&self.usage_chunk(), false));
        }
        frames.push(Frame::done());
        sse::response(frames, &req.faults)
    }

    /// The last chunk of a stream that asked for usage: no choices.
    fn usage_chunk(&self) -> Value {
        let mut c = self.chunk(json!([]));
        c["usage"] = self.usage();
        c
    }

    fn chunk(&self, choices: Value) -> Value {
        json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "system_fingerprint": "fp_sim", "choices": choices,
        })
    }

    fn first_delta(&self) -> Value {
        match &self.answer {
            Answer::Text { .. } => json!({"role": "assistant", "content": ""}),
            Answer::Tool { id, name, .. } => json!({
                "role": "assistant", "content": null,
                "tool_calls": [{"index": 0, "id": id, "type": "function",
                    "function": {"name": name, "arguments": ""}}],
            }),
        }
    }

    /// The content-carrying deltas: one word, or one argument fragment, each.
    fn deltas(&self) -> Vec<Value> {
        match &self.answer {
            Answer::Text { words, .. } => words
                .iter()
                .enumerate()
                .map(|(i, w)| json!({"content": reply::piece(i, w)}))
                .collect(),
            Answer::Tool { fragments, .. } => fragments
                .iter()
                .map(|f| json!({"tool_calls": [{"index": 0, "function": {"arguments": f}}]}))
                .collect(),
        }
    }
}

fn choice(index: u64, delta: Value, finish: Option<&str>) -> Value {
    json!({"index": index, "delta": delta, "logprobs": null, "finish_reason": finish})
}

fn text_answer(req: &Req, prompt: &str) -> Answer {
    let mut words = reply::words("Simulated reply to:", prompt, req.words());
    let json_mode = req.body.pointer("/response_format/type") == Some(&json!("json_object"));
    if json_mode {
        reply::as_json_object(&mut words);
    }
    let max = req
        .u64("max_completion_tokens")
        .or_else(|| req.u64("max_tokens"));
    let (words, finish) = reply::limit(words, max);
    Answer::Text { words, finish }
}

/// All text of a message: string content or the text parts of an array.
fn text_of(message: &Value) -> String {
    match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

fn last_user_text(messages: &[Value]) -> String {
    messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(text_of)
        .unwrap_or_default()
}

/// The tool to call, if the request allows and the model "wants" one: not
/// after a tool result, so agent loops terminate.
fn pick_tool<'a>(body: &'a Value, messages: &[Value]) -> Option<&'a Value> {
    let tools = body.get("tools")?.as_array()?;
    let choice = body.get("tool_choice");
    if choice.and_then(Value::as_str) == Some("none") {
        return None;
    }
    let last_role = messages
        .last()
        .and_then(|m| m.get("role"))
        .and_then(Value::as_str);
    if last_role == Some("tool") {
        return None;
    }
    let named = choice
        .and_then(|c| c.pointer("/function/name"))
        .and_then(Value::as_str);
    let mut functions = tools.iter().filter_map(|t| t.get("function"));
    match named {
        Some(name) => functions.find(|f| f.get("name").and_then(Value::as_str) == Some(name)),
        None => functions.next(),
    }
}

fn tool_answer(function: &Value) -> Answer {
    let name = function
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("tool");
    let arguments = Value::Object(reply::tool_arguments(function.get("parameters"))).to_string();
    let chars: Vec<char> = arguments.chars().collect();
    let fragments = chars
        .chunks(FRAGMENT_CHARS)
        .map(|c| c.iter().collect())
        .collect();
    let digest = Sha256::digest(format!("{name}:{arguments}"));
    Answer::Tool {
        id: format!("call_{}", &hex::encode(digest)[..24]),
        name: name.to_owned(),
        fragments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_joins_text_parts() {
        let m = json!({"role": "user", "content": [
            {"type": "text", "text": "ab"},
            {"type": "image_url", "image_url": {"url": "x"}},
            {"type": "text", "text": "cd"}]});
        assert_eq!(text_of(&m), "abcd");
    }

    #[test]
    fn tool_choice_none_and_tool_result_disable_calls() {
        let tools = json!([{"type": "function", "function": {"name": "a"}},
                           {"type": "function", "function": {"name": "b"}}]);
        let user = [json!({"role": "user", "content": "hi"})];
        let body = json!({"tools": tools, "tool_choice": "none"});
        assert!(pick_tool(&body, &user).is_none());
        let body = json!({"tools": tools});
        assert!(pick_tool(&body, &[json!({"role": "tool", "content": "r"})]).is_none());
        assert_eq!(pick_tool(&body, &user).unwrap()["name"], "a");
        let body =
            json!({"tools": tools, "tool_choice": {"type": "function", "function": {"name": "b"}}});
        assert_eq!(pick_tool(&body, &user).unwrap()["name"], "b");
    }
}
