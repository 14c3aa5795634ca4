//! `POST /v1/completions` (legacy text completions), plain or streamed.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};

use super::{bad_request, now, prepare, Req};
use crate::reply;
use crate::sse::{self, Frame};
use crate::Sim;

const MAX_CHOICES: u64 = 128;
/// OpenAI's default `max_tokens` for this endpoint.
const DEFAULT_MAX_TOKENS: u64 = 16;

pub async fn handle(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    match answer(&sim, &headers, &body).await {
        Ok(resp) | Err(resp) => resp,
    }
}

async fn answer(sim: &Sim, headers: &HeaderMap, body: &[u8]) -> Result<Response, Response> {
    let req = prepare(sim, headers, body).await?;
    req.require_model()?;
    let prompts = prompts(req.body.get("prompt"))
        .ok_or_else(|| bad_request("'prompt' must be a string or an array", Some("prompt")))?;
    let completion = Completion::new(sim, &req, &prompts);
    Ok(if req.flag("stream") {
        completion.stream(&req)
    } else {
        completion.json(&req)
    })
}

enum Prompt {
    Text(String),
    /// A pre-tokenised prompt; only its length matters.
    Tokens(usize),
}

impl Prompt {
    fn tokens(&self) -> u64 {
        match self {
            Prompt::Text(t) => reply::approx_tokens(t),
            Prompt::Tokens(n) => *n as u64,
        }
    }

    fn text(&self) -> &str {
        match self {
            Prompt::Text(t) => t,
            Prompt::Tokens(_) => "",
        }
    }
}

/// A string, strings, one token array or several token arrays.
fn prompts(value: Option<&Value>) -> Option<Vec<Prompt>> {
    let items = match value? {
        Value::String(s) => return Some(vec![Prompt::Text(s.clone())]),
        Value::Array(items) if !items.is_empty() => items,
        _ => return None,
    };
    if items.iter().all(Value::is_number) {
        return Some(vec![Prompt::Tokens(items.len())]);
    }
    let one = |v: &Value| match v {
        Value::String(s) => Some(Prompt::Text(s.clone())),
        Value::Array(tokens) => Some(Prompt::Tokens(tokens.len())),
        _ => None,
    };
    items.iter().map(one).collect()
}

struct Choice {
    words: Vec<String>,
    finish: &'static str,
}

struct Completion {
    id: String,
    created: u64,
    model: String,
    /// `n` choices per prompt, in prompt order, as OpenAI indexes them.
    choices: Vec<Choice>,
    prompt_tokens: u64,
}

impl Completion {
    fn new(sim: &Sim, req: &Req, prompts: &[Prompt]) -> Completion {
        let n = req.u64("n").unwrap_or(1).clamp(1, MAX_CHOICES);
        let max = req.u64("max_tokens").unwrap_or(DEFAULT_MAX_TOKENS);
        let mut choices = Vec::new();
        for prompt in prompts {
            let words = reply::words("Simulated completion of:", prompt.text(), req.words());
            let (words, finish) = reply::limit(words, Some(max));
            for _ in 0..n {
                choices.push(Choice {
                    words: words.clone(),
                    finish,
                });
            }
        }
        Completion {
            id: format!("cmpl-sim{:016x}", sim.next_id()),
            created: now(),
            model: req.model.clone(),
            choices,
            prompt_tokens: prompts.iter().map(Prompt::tokens).sum(),
        }
    }

    fn usage(&self) -> Value {
        let completion: u64 = self.choices.iter().map(|c| c.words.len() as u64).sum();
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        })
    }

    fn envelope(&self, choices: Value) -> Value {
        json!({
            "id": self.id, "object": "text_completion", "created": self.created,
            "model": self.model, "choices": choices,
        })
    }

    fn json(&self, req: &Req) -> Response {
        let choices: Vec<Value> = self
            .choices
            .iter()
            .enumerate()
            .map(|(i, c)| choice(i, &c.words.join(" "), Some(c.finish)))
            .collect();
        let mut body = self.envelope(json!(choices));
        if !req.faults.no_usage {
            body["usage"] = self.usage();
        }
        Json(body).into_response()
    }

    fn stream(&self, req: &Req) -> Response {
        let with_usage = req.stream_usage();
        let chunk = |choice: Value, content: bool| {
            let mut c = self.envelope(json!([choice]));
            if with_usage {
                c["usage"] = Value::Null;
            }
            Frame::json(&c, content)
        };
        let longest = self
            .choices
            .iter()
            .map(|c| c.words.len())
            .max()
            .unwrap_or(0);
        let mut frames = Vec::new();
        for w in 0..longest {
            for (i, c) in self.choices.iter().enumerate() {
                if let Some(word) = c.words.get(w) {
                    frames.push(chunk(choice(i, &reply::piece(w, word), None), true));
                }
            }
        }
        for (i, c) in self.choices.iter().enumerate() {
            frames.push(chunk(choice(i, "", Some(c.finish)), false));
        }
        if with_usage {
            let mut last = self.envelope(json!([]));
            last["usage"] = self.usage();
            frames.push(Frame::json(&last, false));
        }
        frames.push(Frame::done());
        sse::response(frames, &req.faults)
    }
}

fn choice(index: usize, text: &str, finish: Option<&str>) -> Value {
    json!({"text": text, "index": index, "logprobs": null, "finish_reason": finish})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_shapes() {
        let count = |v: Value| prompts(Some(&v)).map(|p| p.len());
        assert_eq!(count(json!("hi")), Some(1));
        assert_eq!(count(json!(["a", "b"])), Some(2));
        assert_eq!(count(json!([1, 2, 3])), Some(1));
        assert_eq!(count(json!([[1, 2], [3]])), Some(2));
        assert_eq!(count(json!([])), None);
        assert_eq!(count(json!(5)), None);
        let tokens = prompts(Some(&json!([1, 2, 3]))).unwrap();
        assert_eq!(tokens[0].tokens(), 3);
    }
}
