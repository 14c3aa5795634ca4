//! Anthropic's Messages API (`POST /v1/messages`), both ways.
//!
//! To an `anthropic` channel: an OpenAI chat request becomes a Messages request, the answer
//! and the event stream come back as OpenAI's. From a caller of `/v1/messages`: the Messages
//! request becomes OpenAI's, and an OpenAI answer or chunk stream goes back as a Message or
//! Anthropic's events.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::openai::{self, Usage};

/// The `anthropic-version` sent when the caller did not name one.
pub const VERSION: &str = "2023-06-01";

/// Extended-thinking budgets for OpenAI's `reasoning_effort`.
fn thinking_budget(effort: &str) -> Option<i64> {
    match effort {
        "low" => Some(1024),
        "medium" => Some(4096),
        "high" => Some(16384),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `max_tokens` is required by Anthropic; this is used when the caller set none.
    pub default_max_tokens: i64,
}

// ---------------------------------------------------------------------------------------
// To an Anthropic channel
// ---------------------------------------------------------------------------------------

/// An OpenAI chat request as a Messages request for `model`.
pub fn request_from_openai(req: &Value, model: &str, opts: &Options) -> Value {
    let mut system: Vec<String> = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    let empty = Vec::new();
    for m in req
        .get("messages")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
    {
        match m.get("role").and_then(Value::as_str).unwrap_or("user") {
            "system" | "developer" => {
                let t = openai::text_of(m.get("content"));
                if !t.is_empty() {
                    system.push(t);
                }
            }
            "assistant" => push_turn(&mut messages, "assistant", assistant_content(m)),
            "tool" | "function" => push_turn(&mut messages, "user", vec![tool_result(m)].into()),
            _ => push_turn(&mut messages, "user", user_content(m.get("content"))),
        }
    }
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    let mut max_tokens = openai::max_tokens(req).unwrap_or(opts.default_max_tokens);
    if !system.is_empty() {
        out.insert("system".into(), json!(system.join("\n\n")));
    }
    out.insert("messages".into(), Value::Array(messages));
    if let Some(stop) = openai::stop_list(req.get("stop")) {
        out.insert("stop_sequences".into(), Value::Array(stop));
    }
    let thinking = req
        .get("thinking")
        .filter(|t| t.is_object())
        .cloned()
        .or_else(|| {
            let budget = thinking_budget(req.get("reasoning_effort")?.as_str()?)?;
            Some(json!({"type": "enabled", "budget_tokens": budget}))
        });
    match &thinking {
        Some(t) => {
            // Thinking needs room beyond its budget, and takes no sampling parameters.
            if let Some(budget) = t.get("budget_tokens").and_then(Value::as_i64) {
                if max_tokens <= budget {
                    max_tokens = budget + opts.default_max_tokens;
                }
            }
            out.insert("thinking".into(), t.clone());
        }
        None => {
            if let Some(t) = req.get("temperature").and_then(Value::as_f64) {
                // OpenAI's range is 0–2, Anthropic's 0–1.
                out.insert("temperature".into(), json!(t.clamp(0.0, 1.0)));
            }
            if let Some(p) = req.get("top_p").filter(|v| v.is_number()) {
                out.insert("top_p".into(), p.clone());
            }
            if let Some(k) = req.get("top_k").filter(|v| v.is_number()) {
                out.insert("top_k".into(), k.clone());
            }
        }
    }
    out.insert("max_tokens".into(), json!(max_tokens));
    let tools: Vec<Value> = req
        .get("tools")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
        .iter()
        .filter_map(tool_from_openai)
        .collect();
    if !tools.is_empty() {
        out.insert("tools".into(), Value::Array(tools));
        let parallel = req.get("parallel_tool_calls").and_then(Value::as_bool);
        if let Some(choice) = tool_choice_from_openai(req.get("tool_choice"), parallel) {
            out.insert("tool_choice".into(), choice);
        }
    }
    if req.get("stream").and_then(Value::as_bool) == Some(true) {
        out.insert("stream".into(), json!(true));
    }
    if let Some(user) = req.get("user").and_then(Value::as_str) {
        out.insert("metadata".into(), json!({"user_id": user}));
    }
    Value::Object(out)
}

/// Append a turn, merging it into the previous one of the same role (parallel tool results
/// go back as one user turn, as Anthropic asks).
fn push_turn(messages: &mut Vec<Value>, role: &str, content: Content) {
    if content.is_empty() {
        return;
    }
    if let Some(last) = messages.last_mut() {
        if last["role"] == role {
            let mut blocks = Content::from(last["content"].take()).into_blocks();
            blocks.extend(content.into_blocks());
            last["content"] = Value::Array(blocks);
            return;
        }
    }
    messages.push(json!({"role": role, "content": content.into_value()}));
}

/// A message's content: a plain string (kept as one, as callers wrote it) or blocks.
enum Content {
    Text(String),
    Blocks(Vec<Value>),
}

impl From<Vec<Value>> for Content {
    fn from(b: Vec<Value>) -> Self {
        Content::Blocks(b)
    }
}

impl From<Value> for Content {
    fn from(v: Value) -> Self {
        match v {
            Value::String(s) => Content::Text(s),
            Value::Array(a) => Content::Blocks(a),
            _ => Content::Blocks(Vec::new()),
        }
    }
}

impl Content {
    fn is_empty(&self) -> bool {
        match self {
            Content::Text(s) => s.is_empty(),
            Content::Blocks(b) => b.is_empty(),
        }
    }
    fn into_blocks(self) -> Vec<Value> {
        match self {
            Content::Text(s) => vec![json!({"type": "text", "text": s})],
            Content::Blocks(b) => b,
        }
    }
    fn into_value(self) -> Value {
        match self {
            Content::Text(s) => Value::String(s),
            Content::Blocks(b) => Value::Array(b),
        }
    }
}

fn user_content(content: Option<&Value>) -> Content {
    match content {
        Some(Value::String(s)) => Content::Text(s.clone()),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(block_from_part)
            .collect::<Vec<_>>()
            .into(),
        _ => Content::Blocks(Vec::new()),
    }
}

/// One OpenAI content part as an Anthropic block: text, or an image by URL or inline.
fn block_from_part(p: &Value) -> Option<Value> {
    match p.get("type").and_then(Value::as_str)? {
        "text" => {
            let t = p
                .get("text")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())?;
            Some(json!({"type": "text", "text": t}))
        }
        "image_url" => {
            let url = p
                .pointer("/image_url/url")
                .or_else(|| p.get("image_url"))
                .and_then(Value::as_str)?;
            Some(json!({"type": "image", "source": image_source(url)}))
        }
        "file" => {
            let (mime, data) = openai::parse_data_uri(p.pointer("/file/file_data")?.as_str()?)?;
            Some(
                json!({"type": "document", "source": {"type": "base64", "media_type": mime, "data": data}}),
            )
        }
        _ => None,
    }
}

fn image_source(url: &str) -> Value {
    match openai::parse_data_uri(url) {
        Some((mime, data)) => {
            json!({"type": "base64", "media_type": mime, "data": openai::standard_base64(data)})
        }
        None => json!({"type": "url", "url": url}),
    }
}

fn assistant_content(m: &Value) -> Content {
    let mut blocks = Vec::new();
    let text = openai::text_of(m.get("content"));
    let calls = m
        .get("tool_calls")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty());
    if calls.is_none() {
        return Content::Text(text);
    }
    if !text.is_empty() {
        blocks.push(json!({"type": "text", "text": text}));
    }
    for c in calls.into_iter().flatten() {
        blocks.push(json!({
            "type": "tool_use",
            "id": c.get("id").cloned().unwrap_or(json!("")),
            "name": c.pointer("/function/name").cloned().unwrap_or(json!("")),
            "input": openai::arguments_object(c.pointer("/function/arguments")),
        }));
    }
    Content::Blocks(blocks)
}

fn tool_result(m: &Value) -> Value {
    let content = match m.get("content") {
        Some(Value::Array(parts)) => {
            Value::Array(parts.iter().filter_map(block_from_part).collect())
        }
        other => Value::String(openai::text_of(other)),
    };
    json!({
        "type": "tool_result",
        "tool_use_id": m.get("tool_call_id").cloned().unwrap_or(json!("")),
        "content": content,
    })
}

fn tool_from_openai(t: &Value) -> Option<Value> {
    let f = t.get("function")?;
    let mut out = Map::new();
    out.insert("name".into(), f.get("name")?.clone());
    if let Some(d) = f.get("description").filter(|d| d.is_string()) {
        out.insert("description".into(), d.clone());
    }
    let schema = f
        .get("parameters")
        .filter(|p| p.is_object())
        .cloned()
        .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    out.insert("input_schema".into(), schema);
    Some(Value::Object(out))
}

fn tool_choice_from_openai(choice: Option<&Value>, parallel: Option<bool>) -> Option<Value> {
    let mut out = match choice {
        Some(Value::String(s)) => match s.as_str() {
            "none" => json!({"type": "none"}),
            "required" => json!({"type": "any"}),
            _ => json!({"type": "auto"}),
        },
        Some(c) if c.pointer("/function/name").is_some() => {
            json!({"type": "tool", "name": c.pointer("/function/name")})
        }
        _ if parallel == Some(false) => json!({"type": "auto"}),
        _ => return None,
    };
    if parallel == Some(false) && out["type"] != "none" {
        out["disable_parallel_tool_use"] = json!(true);
    }
    Some(out)
}

/// Anthropic's `stop_reason` as OpenAI's `finish_reason`.
pub fn finish_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    }
}

/// Anthropic's `usage` in OpenAI's terms (OpenAI's prompt count includes cached tokens).
pub fn usage_from(u: &Value) -> Usage {
    let int = |k: &str| u.get(k).and_then(Value::as_i64).unwrap_or(0);
    let (input, read, write) = (
        int("input_tokens"),
        int("cache_read_input_tokens"),
        int("cache_creation_input_tokens"),
    );
    Usage {
        prompt: input + read + write,
        completion: int("output_tokens"),
        cached: read,
        cache_write: write,
        reasoning: 0,
    }
}

/// A Message as an OpenAI chat completion.
pub fn answer_to_openai(ans: &Value, created: i64) -> Value {
    let mut text = String::new();
    let mut thinking = String::new();
    let mut calls = Vec::new();
    for b in ans
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match b.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("thinking") => {
                thinking.push_str(b.get("thinking").and_then(Value::as_str).unwrap_or(""))
            }
            Some("tool_use") => calls.push(json!({
                "id": b.get("id"),
                "type": "function",
                "function": {
                    "name": b.get("name"),
                    "arguments": b.get("input").unwrap_or(&json!({})).to_string(),
                },
            })),
            _ => {}
        }
    }
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) },
    });
    if !thinking.is_empty() {
        message["reasoning_content"] = json!(thinking);
    }
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    let reason = finish_reason(ans.get("stop_reason").and_then(Value::as_str).unwrap_or(""));
    let mut out = json!({
        "id": ans.get("id").and_then(Value::as_str).unwrap_or(""),
        "object": "chat.completion",
        "created": created,
        "model": ans.get("model").and_then(Value::as_str).unwrap_or(""),
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": reason}],
    });
    if let Some(u) = ans.get("usage").filter(|u| u.is_object()) {
        out["usage"] = usage_from(u).to_json();
    }
    out
}

/// Anthropic's event stream, event by event, as OpenAI chunks.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    id: String,
    model: String,
    created: i64,
    /// Usage from `message_start`, updated by `message_delta` (whose counts are cumulative).
    usage: Map<String, Value>,
    usage_sent: bool,
    /// Content block index → OpenAI tool call index.
    tools: HashMap<u64, u64>,
}

impl StreamDecoder {
    pub fn new(created: i64) -> Self {
        StreamDecoder {
            created,
            ..Default::default()
        }
    }

    fn chunk(&self, choice: Value) -> Value {
        openai::chunk(&self.id, &self.model, self.created, vec![choice])
    }

    fn delta(&self, d: Value) -> Vec<Value> {
        vec![self.chunk(openai::delta(0, d))]
    }

    /// One event's `data` payload; returns the chunks it amounts to.
    pub fn event(&mut self, data: &Value) -> Vec<Value> {
        let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
        match data.get("type").and_then(Value::as_str).unwrap_or("") {
            "message_start" => {
                let m = &data["message"];
                self.id = m.get("id").and_then(Value::as_str).unwrap_or("").into();
                self.model = m.get("model").and_then(Value::as_str).unwrap_or("").into();
                if let Some(u) = m.get("usage").and_then(Value::as_object) {
                    self.usage = u.clone();
                }
                self.delta(json!({"role": "assistant", "content": ""}))
            }
            "content_block_start" => {
                let b = &data["content_block"];
                match b.get("type").and_then(Value::as_str) {
                    Some("tool_use") => {
                        let n = self.tools.len() as u64;
                        self.tools.insert(index, n);
                        self.delta(json!({"tool_calls": [{
                            "index": n, "id": b.get("id"), "type": "function",
                            "function": {"name": b.get("name"), "arguments": ""},
                        }]}))
                    }
                    Some("text") => self.text(b.get("text")),
                    Some("thinking") => self.thinking(b.get("thinking")),
                    _ => Vec::new(),
                }
            }
            "content_block_delta" => {
                let d = &data["delta"];
                match d.get("type").and_then(Value::as_str) {
                    Some("text_delta") => self.text(d.get("text")),
                    Some("thinking_delta") => self.thinking(d.get("thinking")),
                    Some("input_json_delta") => {
                        let part = d.get("partial_json").and_then(Value::as_str).unwrap_or("");
                        match self.tools.get(&index) {
                            Some(n) if !part.is_empty() => self.delta(
                                json!({"tool_calls": [{"index": n, "function": {"arguments": part}}]}),
                            ),
                            _ => Vec::new(),
                        }
                    }
                    _ => Vec::new(),
                }
            }
            "message_delta" => {
                if let Some(u) = data.get("usage").and_then(Value::as_object) {
                    self.usage
                        .extend(u.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                match data.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    Some(r) => vec![self.chunk(openai::finish(0, finish_reason(r)))],
                    None => Vec::new(),
                }
            }
            "message_stop" => self.usage_chunk(),
            "error" => {
                let e = &data["error"];
                vec![openai::error_chunk(
                    e.get("type").and_then(Value::as_str).unwrap_or("api_error"),
                    e.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("upstream error"),
                )]
            }
            _ => Vec::new(),
        }
    }

    fn text(&self, t: Option<&Value>) -> Vec<Value> {
        match t.and_then(Value::as_str).filter(|t| !t.is_empty()) {
            Some(t) => self.delta(json!({"content": t})),
            None => Vec::new(),
        }
    }

    fn thinking(&self, t: Option<&Value>) -> Vec<Value> {
        match t.and_then(Value::as_str).filter(|t| !t.is_empty()) {
            Some(t) => self.delta(json!({"reasoning_content": t})),
            None => Vec::new(),
        }
    }

    /// The usage chunk (`choices: []`), once, if the provider sent usage.
    fn usage_chunk(&mut self) -> Vec<Value> {
        if self.usage_sent || self.usage.is_empty() {
            return Vec::new();
        }
        self.usage_sent = true;
        let mut c = openai::chunk(&self.id, &self.model, self.created, Vec::new());
        c["usage"] = usage_from(&Value::Object(self.usage.clone())).to_json();
        vec![c]
    }

    /// The upstream ended: anything still owed.
    pub fn finish(&mut self) -> Vec<Value> {
        self.usage_chunk()
    }
}

// ---------------------------------------------------------------------------------------
// From a caller of /v1/messages
// ---------------------------------------------------------------------------------------

/// A Messages request as an OpenAI chat request (the gateway's canonical form).
pub fn request_to_openai(req: &Value) -> Result<Value, String> {
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or("model: field required")?;
    let turns = req
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("messages: field required")?;
    let mut messages = Vec::new();
    match req.get("system") {
        Some(Value::String(s)) if !s.is_empty() => {
            messages.push(json!({"role": "system", "content": s}))
        }
        Some(Value::Array(blocks)) => {
            let text: Vec<&str> = blocks
                .iter()
                .filter_map(|b| b.get("text")?.as_str())
                .collect();
            if !text.is_empty() {
                messages.push(json!({"role": "system", "content": text.join("\n\n")}));
            }
        }
        _ => {}
    }
    for (i, m) in turns.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        match role {
            "user" => user_to_openai(m.get("content"), &mut messages),
            "assistant" => messages.push(assistant_to_openai(m.get("content"))),
            _ => {
                return Err(format!(
                    "messages.{i}.role: must be \"user\" or \"assistant\""
                ))
            }
        }
    }
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    out.insert("messages".into(), Value::Array(messages));
    if let Some(n) = req.get("max_tokens").filter(|v| v.is_number()) {
        out.insert("max_tokens".into(), n.clone());
    }
    for k in ["temperature", "top_p"] {
        if let Some(v) = req.get(k).filter(|v| v.is_number()) {
            out.insert(k.into(), v.clone());
        }
    }
    if let Some(s) = req
        .get("stop_sequences")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
    {
        out.insert("stop".into(), Value::Array(s.clone()));
    }
    let tools: Vec<Value> = req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("input_schema").is_some())
        .map(|t| {
            let mut f = json!({"name": t.get("name"), "parameters": t.get("input_schema")});
            if let Some(d) = t.get("description").filter(|d| d.is_string()) {
                f["description"] = d.clone();
            }
            json!({"type": "function", "function": f})
        })
        .collect();
    if !tools.is_empty() {
        out.insert("tools".into(), Value::Array(tools));
        if let Some(c) = req.get("tool_choice") {
            let choice = match c.get("type").and_then(Value::as_str) {
                Some("any") => json!("required"),
                Some("none") => json!("none"),
                Some("tool") => json!({"type": "function", "function": {"name": c.get("name")}}),
                _ => json!("auto"),
            };
            out.insert("tool_choice".into(), choice);
            if c.get("disable_parallel_tool_use").and_then(Value::as_bool) == Some(true) {
                out.insert("parallel_tool_calls".into(), json!(false));
            }
        }
    }
    if let Some(t) = req.get("thinking").filter(|t| t["type"] == "enabled") {
        let budget = t.get("budget_tokens").and_then(Value::as_i64).unwrap_or(0);
        let effort = match budget {
            ..4096 => "low",
            4096..16384 => "medium",
            _ => "high",
        };
        out.insert("reasoning_effort".into(), json!(effort));
    }
    if let Some(u) = req.pointer("/metadata/user_id").and_then(Value::as_str) {
        out.insert("user".into(), json!(u));
    }
    if req.get("stream").and_then(Value::as_bool) == Some(true) {
        out.insert("stream".into(), json!(true));
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Ok(Value::Object(out))
}

/// A user turn: its tool results become `tool` messages (first, as OpenAI needs them right
/// after the assistant's calls), the rest one `user` message.
fn user_to_openai(content: Option<&Value>, out: &mut Vec<Value>) {
    let blocks = match content {
        Some(Value::String(s)) => {
            out.push(json!({"role": "user", "content": s}));
            return;
        }
        Some(Value::Array(b)) => b,
        _ => return,
    };
    let mut parts = Vec::new();
    for b in blocks {
        match b.get("type").and_then(Value::as_str) {
            Some("tool_result") => {
                let content = match b.get("content") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Array(inner)) => inner
                        .iter()
                        .filter_map(|i| i.get("text").and_then(Value::as_str))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    _ => String::new(),
                };
                out.push(json!({"role": "tool", "tool_call_id": b.get("tool_use_id"), "content": content}));
            }
            _ => parts.extend(part_from_block(b)),
        }
    }
    match parts.as_slice() {
        [] => {}
        [only] if only["type"] == "text" => {
            out.push(json!({"role": "user", "content": only["text"]}))
        }
        _ => out.push(json!({"role": "user", "content": parts})),
    }
}

fn part_from_block(b: &Value) -> Option<Value> {
    match b.get("type").and_then(Value::as_str)? {
        "text" => Some(json!({"type": "text", "text": b.get("text")?})),
        "image" => {
            let s = b.get("source")?;
            let url = match s.get("type").and_then(Value::as_str)? {
                "base64" => openai::data_uri(
                    s.get("media_type")
                        .and_then(Value::as_str)
                        .unwrap_or("image/png"),
                    s.get("data")?.as_str()?,
                ),
                "url" => s.get("url")?.as_str()?.to_string(),
                _ => return None,
            };
            Some(json!({"type": "image_url", "image_url": {"url": url}}))
        }
        "document" => {
            let s = b.get("source")?;
            let data = s.get("data")?.as_str()?;
            let mime = s
                .get("media_type")
                .and_then(Value::as_str)
                .unwrap_or("application/pdf");
            Some(
                json!({"type": "file", "file": {"filename": "document.pdf", "file_data": openai::data_uri(mime, data)}}),
            )
        }
        _ => None,
    }
}

fn assistant_to_openai(content: Option<&Value>) -> Value {
    let blocks = match content {
        Some(Value::String(s)) => return json!({"role": "assistant", "content": s}),
        Some(Value::Array(b)) => b.as_slice(),
        _ => &[],
    };
    let mut text = String::new();
    let mut calls = Vec::new();
    for b in blocks {
        match b.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use") => calls.push(json!({
                "id": b.get("id"),
                "type": "function",
                "function": {"name": b.get("name"), "arguments": b.get("input").unwrap_or(&json!({})).to_string()},
            })),
            // Thinking goes unsent: OpenAI-compatible providers reject it in history.
            _ => {}
        }
    }
    let mut m = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) }});
    if !calls.is_empty() {
        m["tool_calls"] = Value::Array(calls);
    }
    m
}

/// OpenAI's `finish_reason` as Anthropic's `stop_reason`.
pub fn stop_reason(finish_reason: &str) -> &'static str {
    match finish_reason {
        "length" => "max_tokens",
        "tool_calls" | "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    }
}

/// OpenAI usage as Anthropic's (whose `input_tokens` leaves out cache reads and writes).
pub fn usage_to(u: &Usage) -> Value {
    json!({
        "input_tokens": (u.prompt - u.cached - u.cache_write).max(0),
        "output_tokens": u.completion,
        "cache_creation_input_tokens": u.cache_write,
        "cache_read_input_tokens": u.cached,
    })
}

/// An OpenAI chat completion as a Message.
pub fn answer_from_openai(ans: &Value) -> Value {
    let choice = ans.pointer("/choices/0").unwrap_or(&Value::Null);
    let m = choice.get("message").unwrap_or(&Value::Null);
    let mut content = Vec::new();
    if let Some(r) = openai::reasoning_of(m) {
        content.push(json!({"type": "thinking", "thinking": r, "signature": ""}));
    }
    let text = openai::text_of(m.get("content"));
    if !text.is_empty() {
        content.push(json!({"type": "text", "text": text}));
    }
    for c in m
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        content.push(json!({
            "type": "tool_use",
            "id": c.get("id"),
            "name": c.pointer("/function/name"),
            "input": openai::arguments_object(c.pointer("/function/arguments")),
        }));
    }
    let finish = choice
        .get("finish_reason")
        .and_then(Value::as_str)
        .unwrap_or("stop");
    let usage = Usage::from_json(ans.get("usage").unwrap_or(&Value::Null));
    json!({
        "id": ans.get("id").and_then(Value::as_str).unwrap_or(""),
        "type": "message",
        "role": "assistant",
        "model": ans.get("model").and_then(Value::as_str).unwrap_or(""),
        "content": content,
        "stop_reason": stop_reason(finish),
        "stop_sequence": null,
        "usage": usage_to(&usage),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    /// A tool_use block for this OpenAI tool call index.
    Tool(u64),
}

/// OpenAI chunks, one by one, as Anthropic's event stream.
#[derive(Debug, Default)]
pub struct StreamEncoder {
    model: String,
    started: bool,
    open: Option<(Open, u64)>,
    next_block: u64,
    stop_reason: Option<&'static str>,
    usage: Option<Usage>,
    ended: bool,
}

/// An SSE event: its name and its data.
pub type Event = (&'static str, Value);

impl StreamEncoder {
    /// `model`: the name to report until the provider names its own.
    pub fn new(model: &str) -> Self {
        StreamEncoder {
            model: model.to_string(),
            ..Default::default()
        }
    }

    fn start(&mut self, id: &str, out: &mut Vec<Event>) {
        if self.started {
            return;
        }
        self.started = true;
        // Input tokens are only known at the end (OpenAI sends usage last); `message_delta`
        // carries the real counts, which the SDKs take over.
        out.push((
            "message_start",
            json!({"type": "message_start", "message": {
                "id": id, "type": "message", "role": "assistant", "content": [],
                "model": self.model, "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 0, "output_tokens": 0},
            }}),
        ));
    }

    fn close(&mut self, out: &mut Vec<Event>) {
        if let Some((_, index)) = self.open.take() {
            out.push((
                "content_block_stop",
                json!({"type": "content_block_stop", "index": index}),
            ));
        }
    }

    fn open(&mut self, kind: Open, block: Value, out: &mut Vec<Event>) -> u64 {
        match self.open {
            Some((k, index)) if k == kind => index,
            _ => {
                self.close(out);
                let index = self.next_block;
                self.next_block += 1;
                self.open = Some((kind, index));
                out.push((
                    "content_block_start",
                    json!({"type": "content_block_start", "index": index, "content_block": block}),
                ));
                index
            }
        }
    }

    fn delta(index: u64, delta: Value) -> Event {
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index, "delta": delta}),
        )
    }

    /// One OpenAI chunk; returns the events it amounts to.
    pub fn chunk(&mut self, c: &Value) -> Vec<Event> {
        let mut out = Vec::new();
        if let Some(e) = c.get("error") {
            let message = e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("upstream error");
            out.push(error_event("api_error", message));
            return out;
        }
        if let Some(m) = c
            .get("model")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
        {
            if !self.started {
                self.model = m.to_string();
            }
        }
        self.start(c.get("id").and_then(Value::as_str).unwrap_or(""), &mut out);
        if let Some(u) = c.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(Usage::from_json(u));
        }
        let Some(choice) = c.pointer("/choices/0") else {
            return out;
        };
        let d = choice.get("delta").unwrap_or(&Value::Null);
        if let Some(r) = openai::reasoning_of(d) {
            let i = self.open(
                Open::Thinking,
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                &mut out,
            );
            out.push(Self::delta(
                i,
                json!({"type": "thinking_delta", "thinking": r}),
            ));
        }
        if let Some(t) = d
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            let i = self.open(Open::Text, json!({"type": "text", "text": ""}), &mut out);
            out.push(Self::delta(i, json!({"type": "text_delta", "text": t})));
        }
        for call in d
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let n = call.get("index").and_then(Value::as_u64).unwrap_or(0);
            let block = json!({
                "type": "tool_use",
                "id": call.get("id").and_then(Value::as_str).unwrap_or(""),
                "name": call.pointer("/function/name").and_then(Value::as_str).unwrap_or(""),
                "input": {},
            });
            let i = self.open(Open::Tool(n), block, &mut out);
            if let Some(a) = call
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .filter(|a| !a.is_empty())
            {
                out.push(Self::delta(
                    i,
                    json!({"type": "input_json_delta", "partial_json": a}),
                ));
            }
        }
        if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
            self.close(&mut out);
            self.stop_reason = Some(stop_reason(f));
        }
        out
    }

    /// The OpenAI stream ended (`[DONE]` or the end of the body): close the message.
    pub fn finish(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        if self.ended {
            return out;
        }
        self.ended = true;
        self.start("", &mut out);
        self.close(&mut out);
        let usage = self
            .usage
            .map(|u| usage_to(&u))
            .unwrap_or_else(|| json!({"output_tokens": 0}));
        out.push((
            "message_delta",
            json!({"type": "message_delta",
                "delta": {"stop_reason": self.stop_reason.unwrap_or("end_turn"), "stop_sequence": null},
                "usage": usage}),
        ));
        out.push(("message_stop", json!({"type": "message_stop"})));
        out
    }
}

/// An `error` event (sent mid-stream, when headers have gone out already).
pub fn error_event(kind: &str, message: &str) -> Event {
    (
        "error",
        json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

// ---------------------------------------------------------------------------------------
// Errors and model lists
// ---------------------------------------------------------------------------------------

/// Anthropic's error `type` for an HTTP status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

/// `{"type":"error","error":{"type","message"}}`.
pub fn error_body(status: u16, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type(status), "message": message}})
}

/// `GET /v1/models` as Anthropic answers it.
pub fn model_list(ids: &[String]) -> Value {
    let data: Vec<Value> = ids.iter().map(|id| model_object(id)).collect();
    json!({
        "data": data,
        "has_more": false,
        "first_id": ids.first(),
        "last_id": ids.last(),
    })
}

pub fn model_object(id: &str) -> Value {
    json!({"type": "model", "id": id, "display_name": id, "created_at": "2023-11-14T22:13:20Z"})
}
