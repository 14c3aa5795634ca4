//! Google's Gemini API, under `/gemini` (the root `/v1beta/models/…` is left to the Veo
//! task routes): `POST /gemini/v1beta/models/{model}:generateContent` and
//! `:streamGenerateContent` (`?alt=sse` for SSE, else a JSON array), with function
//! declarations and calls, inline images, thoughts, safety blocks (`[unsafe]` in the prompt
//! ends the candidate with SAFETY, `[blocked]` blocks the prompt) and `usageMetadata`.
//! Checks what the real API checks where a bad translation would show: the key
//! (`x-goog-api-key` or `?key=`; a wrong one is Google's 400 `API_KEY_INVALID`), roles,
//! decodable inline data, and as many function responses as the calls they answer.

use axum::extract::{Path, Query, State};
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
use crate::Sim;

/// What an image costs, as Gemini counts it.
const IMAGE_TOKENS: u64 = 258;

pub fn routes() -> Router<Sim> {
    Router::new().route("/gemini/v1beta/models/{target}", post(models_action))
}

/// Google's error envelope.
pub fn error(code: u16, status: &str, message: &str) -> Response {
    let http = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"error": {"code": code, "message": message, "status": status}});
    (http, Json(body)).into_response()
}

fn invalid(message: impl AsRef<str>) -> Response {
    error(400, "INVALID_ARGUMENT", message.as_ref())
}

fn fault_error(code: u16) -> Response {
    let (status, message) = match code {
        400 => (
            "INVALID_ARGUMENT",
            "Request contains an invalid argument. (simulated)",
        ),
        401 => (
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. (simulated)",
        ),
        403 => (
            "PERMISSION_DENIED",
            "The caller does not have permission. (simulated)",
        ),
        404 => ("NOT_FOUND", "Requested entity was not found. (simulated)"),
        429 => (
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota). (simulated)",
        ),
        503 => (
            "UNAVAILABLE",
            "The model is overloaded. Please try again later. (simulated)",
        ),
        504 => (
            "DEADLINE_EXCEEDED",
            "Deadline expired before operation could complete. (simulated)",
        ),
        500..=599 => ("INTERNAL", "An internal error has occurred. (simulated)"),
        _ => ("FAILED_PRECONDITION", "Simulated error."),
    };
    error(code, status, message)
}

async fn models_action(
    State(sim): State<Sim>,
    Path(target): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match answer(&sim, &target, &query, &headers, &body).await {
        Ok(r) | Err(r) => r,
    }
}

async fn answer(
    sim: &Sim,
    target: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Response> {
    let q = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let key = headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| q("key"));
    match key {
        None | Some("") => {
            return Err(error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."))
        }
        Some(INVALID_KEY) => {
            let body = json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"}}]}});
            return Err((StatusCode::BAD_REQUEST, Json(body)).into_response());
        }
        Some(_) => {}
    }
    let (raw_model, action) = target
        .rsplit_once(':')
        .ok_or_else(|| error(404, "NOT_FOUND", "Method not found."))?;
    let stream = match action {
        "generateContent" => false,
        "streamGenerateContent" => true,
        _ => {
            return Err(error(
                404,
                "NOT_FOUND",
                &format!("Method {action} not found."),
            ))
        }
    };
    let (model, spec) = fault::split_model(raw_model);
    let faults = sim.faults_for(
        headers.get("x-sim-fault").and_then(|v| v.to_str().ok()),
        spec,
    );
    faults.wait_latency().await;
    if let Some(code) = faults.status {
        return Err(fault_error(code));
    }
    let req: Value = serde_json::from_slice(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| invalid("Invalid JSON payload received."))?;
    let contents = req
        .get("contents")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| invalid("* GenerateContentRequest.contents: contents is not specified"))?;
    validate(contents)?;
    let gen = Generation {
        id: format!("sim{:016x}", sim.next_id()),
        model: model.to_owned(),
        prompt_tokens: prompt_tokens(&req, contents),
        outcome: outcome(&req, contents, &faults),
        faults,
    };
    let sse = q("alt") == Some("sse");
    Ok(match (stream, sse) {
        (false, _) => Json(gen.whole()).into_response(),
        (true, true) => gen.sse(),
        (true, false) => Json(Value::Array(gen.events())).into_response(),
    })
}

fn parts(c: &Value) -> &[Value] {
    c.get("parts")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A field by its REST name or its proto (snake_case) name.
fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel).or_else(|| v.get(snake))
}

fn validate(contents: &[Value]) -> Result<(), Response> {
    let mut calls_before = 0;
    for (i, c) in contents.iter().enumerate() {
        let role = c.get("role").and_then(Value::as_str).unwrap_or("user");
        if !["user", "model", "function"].contains(&role) {
            return Err(invalid(format!("* GenerateContentRequest.contents[{i}].role: Please use a valid role: user, model.")));
        }
        let ps = parts(c);
        if ps.is_empty() {
            return Err(invalid(format!(
                "* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
            )));
        }
        for (j, p) in ps.iter().enumerate() {
            if let Some(d) = field(p, "inlineData", "inline_data") {
                let data = d.get("data").and_then(Value::as_str).unwrap_or("");
                let ok = base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .is_ok()
                    || base64::engine::general_purpose::URL_SAFE
                        .decode(data)
                        .is_ok();
                if !ok || field(d, "mimeType", "mime_type").is_none() {
                    return Err(invalid(format!("Invalid value at 'contents[{i}].parts[{j}].inline_data.data' (TYPE_BYTES), Base64 decoding failed")));
                }
            }
        }
        let responses = ps
            .iter()
            .filter(|p| field(p, "functionResponse", "function_response").is_some())
            .count();
        if responses > 0 && responses != calls_before {
            return Err(invalid("Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn."));
        }
        calls_before = ps
            .iter()
            .filter(|p| field(p, "functionCall", "function_call").is_some())
            .count();
    }
    Ok(())
}

fn prompt_tokens(req: &Value, contents: &[Value]) -> u64 {
    let part_tokens = |p: &Value| -> u64 {
        if let Some(t) = p.get("text").and_then(Value::as_str) {
            reply::approx_tokens(t)
        } else if field(p, "inlineData", "inline_data").is_some()
            || field(p, "fileData", "file_data").is_some()
        {
            IMAGE_TOKENS
        } else {
            let other = field(p, "functionCall", "function_call")
                .or_else(|| field(p, "functionResponse", "function_response"));
            reply::approx_tokens(&other.map(Value::to_string).unwrap_or_default())
        }
    };
    let system: u64 = field(req, "systemInstruction", "system_instruction")
        .map(|s| parts(s).iter().map(part_tokens).sum())
        .unwrap_or(0);
    system
        + contents
            .iter()
            .map(|c| 3 + parts(c).iter().map(part_tokens).sum::<u64>())
            .sum::<u64>()
}

enum Outcome {
    Answer(Turn),
    /// The candidate was stopped by the safety filters.
    Unsafe,
    /// The prompt was refused outright.
    Blocked,
}

fn outcome(req: &Value, contents: &[Value], faults: &Faults) -> Outcome {
    let last_user = contents.iter().rev().find(|c| c["role"] != "model");
    let ps = last_user.map(parts).unwrap_or(&[]);
    let text: Vec<&str> = ps
        .iter()
        .filter(|p| p.get("thought").and_then(Value::as_bool) != Some(true))
        .filter_map(|p| p.get("text")?.as_str())
        .collect();
    let text = text.join(" ");
    if text.contains("[blocked]") {
        return Outcome::Blocked;
    }
    if text.contains("[unsafe]") {
        return Outcome::Unsafe;
    }
    let tools = req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| field(t, "functionDeclarations", "function_declarations")?.as_array())
        .flatten()
        .filter_map(|d| {
            Some(Tool {
                name: d.get("name")?.as_str()?.to_owned(),
                schema: field(d, "parametersJsonSchema", "parameters_json_schema")
                    .or_else(|| d.get("parameters"))
                    .cloned(),
            })
        })
        .collect();
    let calling = field(req, "toolConfig", "tool_config")
        .and_then(|t| field(t, "functionCallingConfig", "function_calling_config"));
    let allowed = calling
        .and_then(|c| field(c, "allowedFunctionNames", "allowed_function_names"))
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str);
    let mode = match (
        calling.and_then(|c| c.get("mode")).and_then(Value::as_str),
        allowed,
    ) {
        (Some("NONE"), _) => ToolMode::None,
        (Some("ANY"), Some(name)) => ToolMode::Named(name.to_owned()),
        (Some("ANY"), None) => ToolMode::Any,
        _ => ToolMode::Auto,
    };
    let config = field(req, "generationConfig", "generation_config");
    let get = |camel: &str, snake: &str| config.and_then(|c| field(c, camel, snake));
    let stop = get("stopSequences", "stop_sequences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();
    let thinking = get("thinkingConfig", "thinking_config")
        .and_then(|t| field(t, "includeThoughts", "include_thoughts"))
        .and_then(Value::as_bool)
        == Some(true);
    let prompt = Prompt {
        text,
        images: ps
            .iter()
            .filter(|p| {
                field(p, "inlineData", "inline_data").is_some()
                    || field(p, "fileData", "file_data").is_some()
            })
            .count(),
        after_tool_result: ps
            .iter()
            .any(|p| field(p, "functionResponse", "function_response").is_some()),
        tools,
        mode,
        parallel: true,
        thinking,
        max_tokens: get("maxOutputTokens", "max_output_tokens").and_then(Value::as_u64),
        stop,
        words: faults.words.unwrap_or(reply::DEFAULT_WORDS),
    };
    Outcome::Answer(assistant::respond(&prompt))
}

struct Generation {
    id: String,
    model: String,
    prompt_tokens: u64,
    outcome: Outcome,
    faults: Faults,
}

impl Generation {
    fn usage(&self, done: bool) -> Value {
        let p = self.prompt_tokens;
        let mut u = json!({"promptTokenCount": p, "totalTokenCount": p,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": p}]});
        if let (true, Outcome::Answer(t)) = (done, &self.outcome) {
            let thoughts = t.thinking.len() as u64;
            let candidates = t.output_tokens() - thoughts;
            u["candidatesTokenCount"] = json!(candidates);
            u["totalTokenCount"] = json!(p + candidates + thoughts);
            if thoughts > 0 {
                u["thoughtsTokenCount"] = json!(thoughts);
            }
        }
        u
    }

    fn response(&self, candidates: Option<Value>, done: bool) -> Value {
        let mut r = json!({"modelVersion": self.model, "responseId": self.id});
        match candidates {
            Some(c) => r["candidates"] = c,
            None => {
                r["promptFeedback"] = json!({"blockReason": "SAFETY", "safetyRatings": [
                    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]})
            }
        }
        if !self.faults.no_usage {
            r["usageMetadata"] = self.usage(done);
        }
        r
    }

    fn finish_reason(t: &Turn) -> &'static str {
        match t.finish {
            Finish::Length => "MAX_TOKENS",
            _ => "STOP",
        }
    }

    fn unsafe_candidate() -> Value {
        json!([{"finishReason": "SAFETY", "index": 0, "safetyRatings": [
            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]}])
    }

    fn candidate(parts: Vec<Value>, finish: Option<&str>) -> Value {
        let mut c = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
        if let Some(f) = finish {
            c["finishReason"] = json!(f);
        }
        json!([c])
    }

    fn call_part(c: &assistant::Call) -> Value {
        json!({"functionCall": {"name": c.name, "args": c.arguments_json()}})
    }

    fn whole(&self) -> Value {
        match &self.outcome {
            Outcome::Blocked => self.response(None, true),
            Outcome::Unsafe => self.response(Some(Self::unsafe_candidate()), true),
            Outcome::Answer(t) => {
                let mut parts = Vec::new();
                if !t.thinking.is_empty() {
                    parts.push(json!({"text": t.thinking(), "thought": true}));
                }
                if !t.text.is_empty() {
                    parts.push(json!({"text": t.text()}));
                }
                parts.extend(t.calls.iter().map(Self::call_part));
                self.response(
                    Some(Self::candidate(parts, Some(Self::finish_reason(t)))),
                    true,
                )
            }
        }
    }

    /// The streamed responses: thoughts and text a word at a time, calls whole, the
    /// finish reason and the final usage on the last.
    fn events(&self) -> Vec<Value> {
        let t = match &self.outcome {
            Outcome::Answer(t) => t,
            _ => return vec![self.whole()],
        };
        let mut parts: Vec<Value> = Vec::new();
        for (i, w) in t.thinking.iter().enumerate() {
            parts.push(json!({"text": reply::piece(i, w), "thought": true}));
        }
        for (i, w) in t.text.iter().enumerate() {
            parts.push(json!({"text": reply::piece(i, w)}));
        }
        let calls: Vec<Value> = t.calls.iter().map(Self::call_part).collect();
        let mut out: Vec<Value> = parts
            .into_iter()
            .map(|p| self.response(Some(Self::candidate(vec![p], None)), false))
            .collect();
        let last_parts = if calls.is_empty() {
            vec![json!({"text": ""})]
        } else {
            calls
        };
        out.push(self.response(
            Some(Self::candidate(last_parts, Some(Self::finish_reason(t)))),
            true,
        ));
        out
    }

    fn sse(&self) -> Response {
        // Every text event is content (for `cut_after`); Google separates events with CRLFs.
        let frames = self
            .events()
            .into_iter()
            .map(|e| {
                let content = e.pointer("/candidates/0/finishReason").is_none();
                crate::sse::Frame::raw(format!("data: {e}\r\n\r\n"), content)
            })
            .collect();
        crate::sse::response(frames, &self.faults)
    }
}
