//! Google's Gemini API (`models/{model}:generateContent`, `:streamGenerateContent?alt=sse`),
//! both ways.
//!
//! To a `gemini` channel: an OpenAI chat request becomes a `GenerateContentRequest` (the model
//! goes in the URL), the answer and the SSE stream come back as OpenAI's. From a caller of
//! the Gemini front door: the request becomes OpenAI's, and an OpenAI answer or chunk stream
//! goes back as `GenerateContentResponse`s.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::openai::{self, Usage};

/// The path of a call, to append to the channel's base URL.
pub fn path(model: &str, stream: bool) -> String {
    if stream {
        format!("/v1beta/models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("/v1beta/models/{model}:generateContent")
    }
}

/// A base URL (`https://generativelanguage.googleapis.com`, with or without `/v1beta`) and
/// a path from [`path`].
pub fn url(base: &str, model: &str, stream: bool) -> String {
    let base = base.trim_end_matches('/');
    let base = base.strip_suffix("/v1beta").unwrap_or(base);
    format!("{base}{}", path(model, stream))
}

/// Thinking budgets for OpenAI's `reasoning_effort`.
fn thinking_budget(effort: &str) -> Option<i64> {
    match effort {
        "none" | "minimal" => Some(0),
        "low" => Some(1024),
        "medium" => Some(8192),
        "high" => Some(24576),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// To a Gemini channel
// ---------------------------------------------------------------------------------------

/// An OpenAI chat request as a `GenerateContentRequest`.
pub fn request_from_openai(req: &Value) -> Value {
    let mut system = Vec::new();
    let mut contents: Vec<Value> = Vec::new();
    // Function responses name the function; OpenAI's tool messages only carry the call id.
    let mut call_names: HashMap<String, String> = HashMap::new();
    for m in req
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match m.get("role").and_then(Value::as_str).unwrap_or("user") {
            "system" | "developer" => {
                let t = openai::text_of(m.get("content"));
                if !t.is_empty() {
                    system.push(json!({"text": t}));
                }
            }
            "assistant" => {
                for c in m
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let (Some(id), Some(name)) = (
                        c.get("id").and_then(Value::as_str),
                        c.pointer("/function/name").and_then(Value::as_str),
                    ) {
                        call_names.insert(id.to_string(), name.to_string());
                    }
                }
                // Thoughts stay out of the history: Gemini wants its own signed ones back or none.
                push_content(&mut contents, "model", parts_of_message(m, false));
            }
            "tool" | "function" => {
                let id = m.get("tool_call_id").and_then(Value::as_str).unwrap_or("");
                let name = call_names
                    .get(id)
                    .map(String::as_str)
                    .or_else(|| m.get("name").and_then(Value::as_str))
                    .unwrap_or("function");
                let text = openai::text_of(m.get("content"));
                let response = match serde_json::from_str::<Value>(&text) {
                    Ok(v @ Value::Object(_)) => v,
                    Ok(v) => json!({"result": v}),
                    Err(_) => json!({"result": text}),
                };
                let part = json!({"functionResponse": {"name": name, "response": response}});
                push_content(&mut contents, "user", vec![part]);
            }
            _ => {
                let parts = match m.get("content") {
                    Some(Value::Array(items)) => {
                        items.iter().filter_map(part_from_openai).collect()
                    }
                    other => {
                        let t = openai::text_of(other);
                        if t.is_empty() {
                            Vec::new()
                        } else {
                            vec![json!({"text": t})]
                        }
                    }
                };
                push_content(&mut contents, "user", parts);
            }
        }
    }
    let mut out = Map::new();
    out.insert("contents".into(), Value::Array(contents));
    if !system.is_empty() {
        out.insert("systemInstruction".into(), json!({"parts": system}));
    }
    let config = generation_config(req);
    if !config.is_empty() {
        out.insert("generationConfig".into(), Value::Object(config));
    }
    let declarations: Vec<Value> = req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let f = t.get("function")?;
            let mut d = json!({"name": f.get("name")?});
            if let Some(desc) = f.get("description").filter(|d| d.is_string()) {
                d["description"] = desc.clone();
            }
            if let Some(p) = f.get("parameters").filter(|p| p.is_object()) {
                d["parameters"] = clean_schema(p);
            }
            Some(d)
        })
        .collect();
    if !declarations.is_empty() {
        out.insert(
            "tools".into(),
            json!([{"functionDeclarations": declarations}]),
        );
        let mode = match req.get("tool_choice") {
            Some(Value::String(s)) if s == "none" => Some(json!({"mode": "NONE"})),
            Some(Value::String(s)) if s == "required" => Some(json!({"mode": "ANY"})),
            Some(Value::String(s)) if s == "auto" => Some(json!({"mode": "AUTO"})),
            Some(c) => c
                .pointer("/function/name")
                .map(|n| json!({"mode": "ANY", "allowedFunctionNames": [n]})),
            None => None,
        };
        if let Some(mode) = mode {
            out.insert("toolConfig".into(), json!({"functionCallingConfig": mode}));
        }
    }
    Value::Object(out)
}

/// Append a content, merging it into the previous one of the same role (parallel function
/// responses must come back together).
fn push_content(contents: &mut Vec<Value>, role: &str, parts: Vec<Value>) {
    if parts.is_empty() {
        return;
    }
    if let Some(last) = contents.last_mut() {
        if last["role"] == role {
            if let Some(p) = last["parts"].as_array_mut() {
                p.extend(parts);
                return;
            }
        }
    }
    contents.push(json!({"role": role, "parts": parts}));
}

fn part_from_openai(p: &Value) -> Option<Value> {
    match p.get("type").and_then(Value::as_str)? {
        "text" => Some(json!({"text": p.get("text")?})),
        "image_url" => {
            let url = p
                .pointer("/image_url/url")
                .or_else(|| p.get("image_url"))
                .and_then(Value::as_str)?;
            Some(match openai::parse_data_uri(url) {
                Some((mime, data)) => json!({"inlineData": {"mimeType": mime, "data": data}}),
                None => json!({"fileData": {"mimeType": mime_of_url(url), "fileUri": url}}),
            })
        }
        "input_audio" => {
            let a = p.get("input_audio")?;
            let format = a.get("format").and_then(Value::as_str).unwrap_or("wav");
            Some(
                json!({"inlineData": {"mimeType": format!("audio/{format}"), "data": a.get("data")?}}),
            )
        }
        "file" => {
            let (mime, data) = openai::parse_data_uri(p.pointer("/file/file_data")?.as_str()?)?;
            Some(json!({"inlineData": {"mimeType": mime, "data": data}}))
        }
        _ => None,
    }
}

fn mime_of_url(url: &str) -> &'static str {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    match path.rsplit('.').next().unwrap_or("") {
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "pdf" => "application/pdf",
        _ => "image/jpeg",
    }
}

fn generation_config(req: &Value) -> Map<String, Value> {
    let mut c = Map::new();
    let copy = |c: &mut Map<String, Value>, from: &str, to: &str| {
        if let Some(v) = req.get(from).filter(|v| v.is_number()) {
            c.insert(to.into(), v.clone());
        }
    };
    copy(&mut c, "temperature", "temperature");
    copy(&mut c, "top_p", "topP");
    copy(&mut c, "top_k", "topK");
    copy(&mut c, "n", "candidateCount");
    copy(&mut c, "presence_penalty", "presencePenalty");
    copy(&mut c, "frequency_penalty", "frequencyPenalty");
    copy(&mut c, "seed", "seed");
    if let Some(m) = openai::max_tokens(req) {
        c.insert("maxOutputTokens".into(), json!(m));
    }
    if let Some(stop) = openai::stop_list(req.get("stop")) {
        c.insert("stopSequences".into(), Value::Array(stop));
    }
    match req.pointer("/response_format/type").and_then(Value::as_str) {
        Some("json_object") => {
            c.insert("responseMimeType".into(), json!("application/json"));
        }
        Some("json_schema") => {
            c.insert("responseMimeType".into(), json!("application/json"));
            if let Some(s) = req.pointer("/response_format/json_schema/schema") {
                c.insert("responseJsonSchema".into(), s.clone());
            }
        }
        _ => {}
    }
    if let Some(b) = req
        .get("reasoning_effort")
        .and_then(Value::as_str)
        .and_then(thinking_budget)
    {
        c.insert(
            "thinkingConfig".into(),
            json!({"thinkingBudget": b, "includeThoughts": b > 0}),
        );
    }
    c
}

/// JSON Schema as Gemini's `parameters` (an OpenAPI subset) takes it: without the keywords it
/// rejects, and string formats other than `enum` and `date-time`.
pub fn clean_schema(s: &Value) -> Value {
    match s {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, v) in o {
                match k.as_str() {
                    "$schema" | "$id" | "additionalProperties" | "strict" => {}
                    "format" if !matches!(v.as_str(), Some("enum" | "date-time")) => {}
                    // Property names are data, not keywords.
                    "properties" => {
                        let props = v.as_object().map(|p| {
                            p.iter()
                                .map(|(name, schema)| (name.clone(), clean_schema(schema)))
                                .collect()
                        });
                        out.insert(k.clone(), props.map(Value::Object).unwrap_or(Value::Null));
                    }
                    _ => {
                        out.insert(k.clone(), clean_schema(v));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(clean_schema).collect()),
        other => other.clone(),
    }
}

/// Gemini's `finishReason` as OpenAI's `finish_reason`.
pub fn finish_reason(reason: &str) -> &'static str {
    match reason {
        "MAX_TOKENS" => "length",
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "LANGUAGE" => "content_filter",
        _ => "stop",
    }
}

/// `usageMetadata` in OpenAI's terms: thoughts are billed as output.
pub fn usage_from(u: &Value) -> Usage {
    let int = |k: &str| u.get(k).and_then(Value::as_i64).unwrap_or(0);
    let thoughts = int("thoughtsTokenCount");
    Usage {
        prompt: int("promptTokenCount") + int("toolUsePromptTokenCount"),
        completion: int("candidatesTokenCount") + thoughts,
        cached: int("cachedContentTokenCount"),
        cache_write: 0,
        reasoning: thoughts,
    }
}

/// One candidate's parts as OpenAI message fields: (text, thoughts, tool calls).
fn read_parts(parts: &[Value], call_seed: &str) -> (String, String, Vec<Value>) {
    let (mut text, mut thoughts, mut calls) = (String::new(), String::new(), Vec::new());
    for p in parts {
        if let Some(f) = p.get("functionCall") {
            let n = calls.len();
            calls.push(tool_call(f, &format!("{call_seed}/{n}")));
        } else if let Some(t) = p.get("text").and_then(Value::as_str) {
            if p.get("thought").and_then(Value::as_bool) == Some(true) {
                thoughts.push_str(t);
            } else {
                text.push_str(t);
            }
        }
    }
    (text, thoughts, calls)
}

fn tool_call(f: &Value, seed: &str) -> Value {
    let name = f.get("name").and_then(Value::as_str).unwrap_or("");
    let args = f.get("args").cloned().unwrap_or_else(|| json!({}));
    let id = f
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| openai::call_id(&format!("{seed}/{name}/{args}")));
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}})
}

/// A `GenerateContentResponse` as an OpenAI chat completion. `model` is used when the
/// answer does not name its `modelVersion`.
pub fn answer_to_openai(ans: &Value, model: &str, created: i64) -> Value {
    let id = ans.get("responseId").and_then(Value::as_str).unwrap_or("");
    let mut choices = Vec::new();
    for (i, c) in ans
        .get("candidates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let index = c.get("index").and_then(Value::as_u64).unwrap_or(i as u64);
        let parts = c
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let (text, thoughts, calls) = read_parts(parts, &format!("{id}/{index}"));
        let mut message = json!({
            "role": "assistant",
            "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) },
        });
        if !thoughts.is_empty() {
            message["reasoning_content"] = json!(thoughts);
        }
        let reason = if calls.is_empty() {
            finish_reason(
                c.get("finishReason")
                    .and_then(Value::as_str)
                    .unwrap_or("STOP"),
            )
        } else {
            message["tool_calls"] = Value::Array(calls);
            "tool_calls"
        };
        choices.push(
            json!({"index": index, "message": message, "logprobs": null, "finish_reason": reason}),
        );
    }
    if choices.is_empty() {
        // The prompt itself was blocked (`promptFeedback.blockReason`): an empty answer that
        // says why it is empty.
        choices.push(json!({"index": 0, "message": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": "content_filter"}));
    }
    let mut out = json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": ans.get("modelVersion").and_then(Value::as_str).unwrap_or(model),
        "choices": choices,
    });
    if let Some(u) = ans
        .get("usageMetadata")
        .filter(|u| u.get("promptTokenCount").is_some())
    {
        out["usage"] = usage_from(u).to_json();
    }
    out
}

/// Gemini's SSE stream (one `GenerateContentResponse` per event) as OpenAI chunks.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    id: String,
    model: String,
    created: i64,
    /// Per candidate: the role chunk went out, and how many tool calls it made.
    started: HashMap<u64, u64>,
    usage: Option<Value>,
    events: u64,
}

impl StreamDecoder {
    pub fn new(model: &str, created: i64) -> Self {
        StreamDecoder {
            model: model.to_string(),
            created,
            ..Default::default()
        }
    }

    fn chunk(&self, choice: Value) -> Value {
        openai::chunk(&self.id, &self.model, self.created, vec![choice])
    }

    pub fn event(&mut self, data: &Value) -> Vec<Value> {
        let mut out = Vec::new();
        if let Some(e) = data.get("error") {
            let status = e
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("INTERNAL");
            let message = e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("upstream error");
            out.push(openai::error_chunk(status, message));
            return out;
        }
        if self.events == 0 {
            if let Some(id) = data.get("responseId").and_then(Value::as_str) {
                self.id = id.to_string();
            }
            if let Some(m) = data.get("modelVersion").and_then(Value::as_str) {
                self.model = m.to_string();
            }
        }
        self.events += 1;
        if let Some(u) = data
            .get("usageMetadata")
            .filter(|u| u.get("promptTokenCount").is_some())
        {
            self.usage = Some(u.clone());
        }
        let candidates = data
            .get("candidates")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if candidates.is_empty() && data.pointer("/promptFeedback/blockReason").is_some() {
            self.begin(0, &mut out);
            out.push(self.chunk(openai::finish(0, "content_filter")));
        }
        for (i, c) in candidates.iter().enumerate() {
            let index = c.get("index").and_then(Value::as_u64).unwrap_or(i as u64);
            self.begin(index, &mut out);
            for p in c
                .pointer("/content/parts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(f) = p.get("functionCall") {
                    let n = self.started[&index];
                    self.started.insert(index, n + 1);
                    let mut call = tool_call(f, &format!("{}/{index}/{n}", self.id));
                    call["index"] = json!(n);
                    out.push(self.chunk(openai::delta(index, json!({"tool_calls": [call]}))));
                } else if let Some(t) = p
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                {
                    let field = if p.get("thought").and_then(Value::as_bool) == Some(true) {
                        "reasoning_content"
                    } else {
                        "content"
                    };
                    out.push(self.chunk(openai::delta(index, json!({ field: t }))));
                }
            }
            if let Some(r) = c.get("finishReason").and_then(Value::as_str) {
                let reason = if self.started[&index] > 0 {
                    "tool_calls"
                } else {
                    finish_reason(r)
                };
                out.push(self.chunk(openai::finish(index, reason)));
            }
        }
        out
    }

    fn begin(&mut self, index: u64, out: &mut Vec<Value>) {
        if let std::collections::hash_map::Entry::Vacant(e) = self.started.entry(index) {
            e.insert(0);
            let role = openai::delta(index, json!({"role": "assistant", "content": ""}));
            out.push(self.chunk(role));
        }
    }

    /// The upstream ended: the usage chunk (Gemini repeats usage on every event; the last
    /// one is the total).
    pub fn finish(&mut self) -> Vec<Value> {
        match self.usage.take() {
            Some(u) => {
                let mut c = openai::chunk(&self.id, &self.model, self.created, Vec::new());
                c["usage"] = usage_from(&u).to_json();
                vec![c]
            }
            None => Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// From a caller of the Gemini front door
// ---------------------------------------------------------------------------------------

/// A field by its REST (camelCase) name, or the proto (snake_case) name also accepted.
fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel).or_else(|| v.get(snake))
}

/// A `GenerateContentRequest` for `model` as an OpenAI chat request.
pub fn request_to_openai(req: &Value, model: &str, stream: bool) -> Result<Value, String> {
    let contents = req
        .get("contents")
        .and_then(Value::as_array)
        .ok_or("contents: field required")?;
    let mut messages = Vec::new();
    if let Some(s) = field(req, "systemInstruction", "system_instruction") {
        let text = texts(s.get("parts"));
        if !text.is_empty() {
            messages.push(json!({"role": "system", "content": text}));
        }
    }
    // Gemini matches responses to calls by name (and order); OpenAI by id.
    let mut pending: Vec<(String, String)> = Vec::new();
    for (i, c) in contents.iter().enumerate() {
        let parts = c
            .get("parts")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        match c.get("role").and_then(Value::as_str).unwrap_or("user") {
            "model" => {
                let mut text = String::new();
                let mut calls = Vec::new();
                for (n, p) in parts.iter().enumerate() {
                    if let Some(f) = field(p, "functionCall", "function_call") {
                        let call = tool_call(f, &format!("req/{i}/{n}"));
                        let name = f
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                        pending.push((name, call["id"].as_str().unwrap_or("").to_string()));
                        calls.push(call);
                    } else if p.get("thought").and_then(Value::as_bool) != Some(true) {
                        text.push_str(p.get("text").and_then(Value::as_str).unwrap_or(""));
                    }
                }
                let mut m = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) }});
                if !calls.is_empty() {
                    m["tool_calls"] = Value::Array(calls);
                }
                messages.push(m);
            }
            _ => {
                let mut user = Vec::new();
                for p in parts {
                    if let Some(r) = field(p, "functionResponse", "function_response") {
                        let name = r.get("name").and_then(Value::as_str).unwrap_or("");
                        let id = match r.get("id").and_then(Value::as_str) {
                            Some(id) => id.to_string(),
                            None => match pending.iter().position(|(n, _)| n == name) {
                                Some(at) => pending.remove(at).1,
                                None => openai::call_id(&format!("resp/{i}/{name}")),
                            },
                        };
                        let response = r.get("response").cloned().unwrap_or(Value::Null);
                        messages.push(json!({"role": "tool", "tool_call_id": id, "content": response.to_string()}));
                    } else if let Some(part) = part_to_openai(p) {
                        user.push(part);
                    }
                }
                match user.as_slice() {
                    [] => {}
                    [only] if only["type"] == "text" => {
                        messages.push(json!({"role": "user", "content": only["text"]}))
                    }
                    _ => messages.push(json!({"role": "user", "content": user})),
                }
            }
        }
    }
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    out.insert("messages".into(), Value::Array(messages));
    if let Some(g) = field(req, "generationConfig", "generation_config") {
        let copy = |out: &mut Map<String, Value>, camel: &str, snake: &str, to: &str| {
            if let Some(v) = field(g, camel, snake).filter(|v| !v.is_null()) {
                out.insert(to.into(), v.clone());
            }
        };
        copy(&mut out, "temperature", "temperature", "temperature");
        copy(&mut out, "topP", "top_p", "top_p");
        copy(
            &mut out,
            "maxOutputTokens",
            "max_output_tokens",
            "max_tokens",
        );
        copy(&mut out, "candidateCount", "candidate_count", "n");
        copy(
            &mut out,
            "presencePenalty",
            "presence_penalty",
            "presence_penalty",
        );
        copy(
            &mut out,
            "frequencyPenalty",
            "frequency_penalty",
            "frequency_penalty",
        );
        copy(&mut out, "seed", "seed", "seed");
        copy(&mut out, "stopSequences", "stop_sequences", "stop");
        let mime = field(g, "responseMimeType", "response_mime_type").and_then(Value::as_str);
        if mime == Some("application/json") {
            let schema = field(g, "responseJsonSchema", "response_json_schema")
                .or_else(|| field(g, "responseSchema", "response_schema"));
            let format = match schema {
                Some(s) => {
                    json!({"type": "json_schema", "json_schema": {"name": "response", "schema": s}})
                }
                None => json!({"type": "json_object"}),
            };
            out.insert("response_format".into(), format);
        }
        if let Some(b) = field(g, "thinkingConfig", "thinking_config")
            .and_then(|t| field(t, "thinkingBudget", "thinking_budget"))
            .and_then(Value::as_i64)
        {
            let effort = match b {
                ..=0 => "minimal",
                1..=2048 => "low",
                2049..=16384 => "medium",
                _ => "high",
            };
            out.insert("reasoning_effort".into(), json!(effort));
        }
    }
    let tools: Vec<Value> = req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| field(t, "functionDeclarations", "function_declarations")?.as_array())
        .flatten()
        .map(|d| {
            let mut f = json!({"name": d.get("name")});
            if let Some(desc) = d.get("description") {
                f["description"] = desc.clone();
            }
            let params = field(d, "parametersJsonSchema", "parameters_json_schema")
                .or_else(|| d.get("parameters"))
                .map(lower_types)
                .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
            f["parameters"] = params;
            json!({"type": "function", "function": f})
        })
        .collect();
    if !tools.is_empty() {
        out.insert("tools".into(), Value::Array(tools));
        let config = field(req, "toolConfig", "tool_config")
            .and_then(|t| field(t, "functionCallingConfig", "function_calling_config"));
        if let Some(cfg) = config {
            let allowed = field(cfg, "allowedFunctionNames", "allowed_function_names")
                .and_then(Value::as_array)
                .filter(|a| a.len() == 1);
            let choice = match (cfg.get("mode").and_then(Value::as_str), allowed) {
                (Some("NONE"), _) => json!("none"),
                (Some("ANY"), Some(one)) => {
                    json!({"type": "function", "function": {"name": one[0]}})
                }
                (Some("ANY"), None) => json!("required"),
                _ => json!("auto"),
            };
            out.insert("tool_choice".into(), choice);
        }
    }
    if stream {
        out.insert("stream".into(), json!(true));
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Ok(Value::Object(out))
}

/// Gemini's schema types are upper case (`OBJECT`); JSON Schema's are lower case.
fn lower_types(s: &Value) -> Value {
    match s {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("type", Value::String(t)) => json!(t.to_ascii_lowercase()),
                        _ => lower_types(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(lower_types).collect()),
        other => other.clone(),
    }
}

fn texts(parts: Option<&Value>) -> String {
    parts
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n")
}

fn part_to_openai(p: &Value) -> Option<Value> {
    if p.get("thought").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    if let Some(t) = p.get("text").and_then(Value::as_str) {
        return Some(json!({"type": "text", "text": t}));
    }
    if let Some(d) = field(p, "inlineData", "inline_data") {
        let mime = field(d, "mimeType", "mime_type")
            .and_then(Value::as_str)
            .unwrap_or("image/png");
        let data = d.get("data")?.as_str()?;
        let uri = openai::data_uri(mime, data);
        return Some(if mime.starts_with("image/") {
            json!({"type": "image_url", "image_url": {"url": uri}})
        } else {
            json!({"type": "file", "file": {"filename": "file", "file_data": uri}})
        });
    }
    if let Some(f) = field(p, "fileData", "file_data") {
        let uri = field(f, "fileUri", "file_uri")?.as_str()?;
        return Some(json!({"type": "image_url", "image_url": {"url": uri}}));
    }
    None
}

/// OpenAI's `finish_reason` as Gemini's `finishReason`.
pub fn finish_reason_to(reason: &str) -> &'static str {
    match reason {
        "length" => "MAX_TOKENS",
        "content_filter" => "SAFETY",
        _ => "STOP",
    }
}

/// OpenAI usage as `usageMetadata`.
pub fn usage_to(u: &Usage) -> Value {
    let mut m = json!({
        "promptTokenCount": u.prompt,
        "candidatesTokenCount": u.completion - u.reasoning,
        "totalTokenCount": u.prompt + u.completion,
    });
    if u.cached > 0 {
        m["cachedContentTokenCount"] = json!(u.cached);
    }
    if u.reasoning > 0 {
        m["thoughtsTokenCount"] = json!(u.reasoning);
    }
    m
}

/// An OpenAI assistant message as Gemini parts: thoughts (if wanted), text, function calls.
fn parts_of_message(m: &Value, thoughts: bool) -> Vec<Value> {
    let mut parts = Vec::new();
    if let Some(r) = openai::reasoning_of(m).filter(|_| thoughts) {
        parts.push(json!({"text": r, "thought": true}));
    }
    let text = openai::text_of(m.get("content"));
    if !text.is_empty() {
        parts.push(json!({"text": text}));
    }
    for c in m
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        parts.push(json!({"functionCall": {
            "name": c.pointer("/function/name"),
            "args": openai::arguments_object(c.pointer("/function/arguments")),
        }}));
    }
    parts
}

/// An OpenAI chat completion as a `GenerateContentResponse`.
pub fn answer_from_openai(ans: &Value) -> Value {
    let candidates: Vec<Value> = ans
        .get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let m = c.get("message").unwrap_or(&Value::Null);
            let finish = c
                .get("finish_reason")
                .and_then(Value::as_str)
                .unwrap_or("stop");
            json!({
                "content": {"role": "model", "parts": parts_of_message(m, true)},
                "finishReason": finish_reason_to(finish),
                "index": c.get("index").cloned().unwrap_or(json!(0)),
            })
        })
        .collect();
    let mut out = json!({"candidates": candidates});
    if let Some(u) = ans.get("usage").filter(|u| u.is_object()) {
        out["usageMetadata"] = usage_to(&Usage::from_json(u));
    }
    out["modelVersion"] = ans.get("model").cloned().unwrap_or(json!(""));
    out["responseId"] = ans.get("id").cloned().unwrap_or(json!(""));
    out
}

/// OpenAI chunks as Gemini's stream: text as it comes, whole function calls (Gemini never
/// splits one) and the finish reason with the usage in a last event.
#[derive(Debug, Default)]
pub struct StreamEncoder {
    id: String,
    model: String,
    /// Per choice: tool calls being assembled (name, arguments), by OpenAI index.
    calls: HashMap<u64, Vec<(String, String)>>,
    finish: HashMap<u64, &'static str>,
    usage: Option<Usage>,
    ended: bool,
}

impl StreamEncoder {
    pub fn new(model: &str) -> Self {
        StreamEncoder {
            model: model.to_string(),
            ..Default::default()
        }
    }

    fn response(&self, candidates: Vec<Value>) -> Value {
        json!({"candidates": candidates, "modelVersion": self.model, "responseId": self.id})
    }

    pub fn chunk(&mut self, c: &Value) -> Vec<Value> {
        if let Some(e) = c.get("error") {
            let message = e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("upstream error");
            return vec![error_body(500, message)];
        }
        if self.id.is_empty() {
            self.id = c
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
        }
        if let Some(m) = c
            .get("model")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
        {
            self.model = m.to_string();
        }
        if let Some(u) = c.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(Usage::from_json(u));
        }
        let mut out = Vec::new();
        for choice in c
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let index = choice.get("index").and_then(Value::as_u64).unwrap_or(0);
            let d = choice.get("delta").unwrap_or(&Value::Null);
            let mut parts = Vec::new();
            if let Some(r) = openai::reasoning_of(d) {
                parts.push(json!({"text": r, "thought": true}));
            }
            if let Some(t) = d
                .get("content")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                parts.push(json!({"text": t}));
            }
            for call in d
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let n = call.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
                let calls = self.calls.entry(index).or_default();
                if calls.len() <= n {
                    calls.resize(n + 1, (String::new(), String::new()));
                }
                if let Some(name) = call.pointer("/function/name").and_then(Value::as_str) {
                    calls[n].0.push_str(name);
                }
                if let Some(a) = call.pointer("/function/arguments").and_then(Value::as_str) {
                    calls[n].1.push_str(a);
                }
            }
            if !parts.is_empty() {
                out.push(self.response(vec![
                    json!({"content": {"role": "model", "parts": parts}, "index": index}),
                ]));
            }
            if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
                self.finish.insert(index, finish_reason_to(f));
            }
        }
        out
    }

    /// The OpenAI stream ended: the last event, with function calls, finish reasons and usage.
    pub fn finish(&mut self) -> Vec<Value> {
        if self.ended {
            return Vec::new();
        }
        self.ended = true;
        let mut indexes: Vec<u64> = self
            .finish
            .keys()
            .chain(self.calls.keys())
            .copied()
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        if indexes.is_empty() {
            indexes.push(0);
        }
        let candidates = indexes
            .iter()
            .map(|i| {
                let parts: Vec<Value> = self
                    .calls
                    .get(i)
                    .into_iter()
                    .flatten()
                    .map(|(name, args)| {
                        json!({"functionCall": {"name": name, "args": openai::arguments_object(Some(&json!(args)))}})
                    })
                    .collect();
                let parts = if parts.is_empty() { vec![json!({"text": ""})] } else { parts };
                json!({
                    "content": {"role": "model", "parts": parts},
                    "finishReason": self.finish.get(i).copied().unwrap_or("STOP"),
                    "index": i,
                })
            })
            .collect();
        let mut last = self.response(candidates);
        if let Some(u) = &self.usage {
            last["usageMetadata"] = usage_to(u);
        }
        vec![last]
    }
}

// ---------------------------------------------------------------------------------------
// Errors and model lists
// ---------------------------------------------------------------------------------------

/// Google's canonical status name for an HTTP status.
pub fn status_name(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        413 => "INVALID_ARGUMENT",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        500..=599 => "INTERNAL",
        _ => "FAILED_PRECONDITION",
    }
}

/// `{"error":{"code","message","status"}}`.
pub fn error_body(status: u16, message: &str) -> Value {
    json!({"error": {"code": status, "message": message, "status": status_name(status)}})
}

/// Google's way of saying the API key is wrong (a 400, not a 401).
pub fn is_invalid_key(body: &Value) -> bool {
    body.pointer("/error/details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|d| d.get("reason").and_then(Value::as_str) == Some("API_KEY_INVALID"))
}

/// `GET /v1beta/models` as Google answers it.
pub fn model_list(ids: &[String]) -> Value {
    json!({"models": ids.iter().map(|id| model_object(id)).collect::<Vec<_>>()})
}

pub fn model_object(id: &str) -> Value {
    json!({
        "name": format!("models/{id}"),
        "baseModelId": id,
        "version": "001",
        "displayName": id,
        "description": "",
        "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"],
    })
}
