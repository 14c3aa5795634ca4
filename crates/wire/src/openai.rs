//! Pieces of OpenAI's chat format that every translation builds or reads: chunks, choices,
//! usage, message text and `data:` image URIs.

use serde_json::{json, Map, Value};

/// One `chat.completion.chunk`.
pub fn chunk(id: &str, model: &str, created: i64, choices: Vec<Value>) -> Value {
    json!({
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": choices,
    })
}

/// A streamed choice carrying `delta`.
pub fn delta(index: u64, delta: Value) -> Value {
    json!({"index": index, "delta": delta, "logprobs": null, "finish_reason": null})
}

/// The streamed choice that ends choice `index`.
pub fn finish(index: u64, reason: &str) -> Value {
    json!({"index": index, "delta": {}, "logprobs": null, "finish_reason": reason})
}

/// An error inside a stream, in the shape OpenAI-compatible providers send.
pub fn error_chunk(kind: &str, message: &str) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
}

/// Token counts every format can express. `prompt` includes `cached` and `cache_write`;
/// `completion` includes `reasoning`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt: i64,
    pub completion: i64,
    /// Prompt tokens read from the provider's cache.
    pub cached: i64,
    /// Prompt tokens written to the provider's cache.
    pub cache_write: i64,
    /// Completion tokens spent thinking.
    pub reasoning: i64,
}

impl Usage {
    /// OpenAI's `usage` object, with `prompt_tokens_details.cache_write_tokens` (as OpenRouter
    /// reports it) for the cache writes only Anthropic bills.
    pub fn to_json(self) -> Value {
        json!({
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "total_tokens": self.prompt + self.completion,
            "prompt_tokens_details": {"cached_tokens": self.cached, "cache_write_tokens": self.cache_write},
            "completion_tokens_details": {"reasoning_tokens": self.reasoning},
        })
    }

    /// Read OpenAI's `usage` object (and the names some compatible providers use).
    pub fn from_json(u: &Value) -> Usage {
        let int = |p: &str| u.pointer(p).and_then(Value::as_i64).unwrap_or(0);
        let cached = match u.pointer("/prompt_tokens_details/cached_tokens") {
            Some(v) => v.as_i64().unwrap_or(0),
            // DeepSeek's names.
            None => int("/prompt_cache_hit_tokens"),
        };
        Usage {
            prompt: int("/prompt_tokens"),
            completion: int("/completion_tokens"),
            cached,
            cache_write: int("/prompt_tokens_details/cache_write_tokens"),
            reasoning: int("/completion_tokens_details/reasoning_tokens"),
        }
    }
}

/// The text of a message's `content`: a string, or its text parts joined.
pub fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| match p {
                Value::String(s) => Some(s.as_str()),
                _ => p.get("text").and_then(Value::as_str),
            })
            .collect(),
        _ => String::new(),
    }
}

/// The reasoning text of a message or delta: `reasoning_content` (DeepSeek, xAI, SiliconFlow)
/// or `reasoning` (OpenRouter).
pub fn reasoning_of(m: &Value) -> Option<&str> {
    m.get("reasoning_content")
        .or_else(|| m.get("reasoning"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// `data:image/png;base64,AAAA` → (`image/png`, `AAAA`).
pub fn parse_data_uri(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let mime = meta.strip_suffix(";base64")?;
    Some((if mime.is_empty() { "image/png" } else { mime }, data))
}

pub fn data_uri(mime: &str, data: &str) -> String {
    format!("data:{mime};base64,{}", standard_base64(data))
}

/// Base64 in the standard alphabet: Google's SDKs send the URL-safe one, which Anthropic and
/// OpenAI do not accept.
pub fn standard_base64(data: &str) -> String {
    if data.contains(['-', '_']) {
        data.replace('-', "+").replace('_', "/")
    } else {
        data.to_string()
    }
}

/// The arguments string of a tool call as a JSON object (`{}` when it is not one).
pub fn arguments_object(args: Option<&Value>) -> Value {
    match args {
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => v,
            _ => Value::Object(Map::new()),
        },
        Some(v @ Value::Object(_)) => v.clone(),
        _ => Value::Object(Map::new()),
    }
}

/// The `stop` parameter as a list.
pub fn stop_list(stop: Option<&Value>) -> Option<Vec<Value>> {
    match stop? {
        Value::String(s) => Some(vec![Value::String(s.clone())]),
        Value::Array(a) if !a.is_empty() => Some(a.clone()),
        _ => None,
    }
}

/// `max_completion_tokens`, else `max_tokens`.
pub fn max_tokens(req: &Value) -> Option<i64> {
    req.get("max_completion_tokens")
        .and_then(Value::as_i64)
        .or_else(|| req.get("max_tokens").and_then(Value::as_i64))
}

/// A short, stable id for a tool call a provider sent without one.
pub fn call_id(seed: &str) -> String {
    // FNV-1a, twice with different offsets for 96 bits: ids only need to be unique in a chat.
    let fnv = |offset: u64| {
        seed.bytes().fold(offset, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let (a, b) = (fnv(0xcbf2_9ce4_8422_2325), fnv(0x8422_2325_cbf2_9ce4));
    format!("call_{a:016x}{:08x}", b as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_uris() {
        assert_eq!(
            parse_data_uri("data:image/jpeg;base64,/9j/4A"),
            Some(("image/jpeg", "/9j/4A"))
        );
        assert_eq!(parse_data_uri("https://x/y.png"), None);
        assert_eq!(data_uri("image/png", "ab-_"), "data:image/png;base64,ab+/");
    }

    #[test]
    fn usage_round_trip_and_deepseek_names() {
        let u = Usage {
            prompt: 10,
            completion: 5,
            cached: 4,
            cache_write: 2,
            reasoning: 1,
        };
        assert_eq!(Usage::from_json(&u.to_json()), u);
        let ds = json!({"prompt_tokens": 10, "completion_tokens": 3, "prompt_cache_hit_tokens": 6, "prompt_cache_miss_tokens": 4});
        assert_eq!(Usage::from_json(&ds).cached, 6);
    }

    #[test]
    fn call_ids_are_stable_and_distinct() {
        assert_eq!(call_id("a"), call_id("a"));
        assert_ne!(call_id("a"), call_id("b"));
        assert_eq!(call_id("a").len(), 5 + 24);
    }
}
