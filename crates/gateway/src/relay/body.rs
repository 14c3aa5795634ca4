//! Reading what callers send: JSON with the parser's own message on failure, bodies over the
//! size limit as a 413, multipart forms, and the request id every answer carries.

use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

use crate::error::ApiError;
use crate::upstream::FormPart;

/// The id of this request, set by the request-id layer, sent back as `x-request-id`, and the
/// id of its usage-log row.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub fn bytes_or_error(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<Bytes, ApiError> {
    body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large(limit)
        } else {
            ApiError::bad_request(format!("Could not read the request body: {r}"))
        }
    })
}

/// A JSON object, or a 400 that quotes the parser.
pub fn json_object(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::invalid_json(
            "The request body is empty; send a JSON object.",
        ));
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::invalid_json(format!(
            "We could not parse the JSON body of your request: {e}."
        ))
    })?;
    if !v.is_object() {
        return Err(ApiError::invalid_json(
            "The request body must be a JSON object.",
        ));
    }
    Ok(v)
}

/// What the relay reads of a chat or completions body: the members it prices and routes by,
/// as the caller sent them (`null` kept: present, unlike absent), and the JSON type of the
/// ones it only checks. Everything else (`messages`' contents, `tools`, …, usually nearly
/// all of the body) is parsed past without being built, and so are the member names: a
/// body the relay passes on unchanged never needs its `Value`.
#[derive(Debug, Default, PartialEq, Deserialize)]
pub struct Head {
    #[serde(default, deserialize_with = "present")]
    pub model: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub stream: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub n: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub max_tokens: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub max_completion_tokens: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub stream_options: Option<Value>,
    /// Kept as the empty value of their JSON type: only their presence and type are checked.
    #[serde(default, deserialize_with = "skeleton")]
    pub messages: Option<Value>,
    #[serde(default, deserialize_with = "skeleton")]
    pub prompt: Option<Value>,
}

/// A member that is there, `null` included.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

fn skeleton<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Skeleton::deserialize(d).map(|s| Some(s.0))
}

impl Head {
    /// `needs`, the member a chat (`messages`) or a completion (`prompt`) cannot go without.
    pub fn needed(&self, needs: &str) -> Option<&Value> {
        match needs {
            "messages" => self.messages.as_ref(),
            _ => self.prompt.as_ref(),
        }
    }
}

/// A JSON object body as `json_object` checks it (the same errors, word for word), read
/// into its `Head`. Building a whole body's `Value` was 5% of a relayed chat's
/// instructions, and the head as a small `Value` (every member name a `String`, a map)
/// another 4%.
pub fn json_head(bytes: &[u8]) -> Result<Head, ApiError> {
    // Only an object: a struct's derive would read an array too, member by position.
    if bytes.trim_ascii_start().first() == Some(&b'{') {
        if let Ok(head) = serde_json::from_slice::<Head>(bytes) {
            return Ok(head);
        }
    }
    // Not an object, not JSON, or a member named twice (which the derive refuses, and a
    // `Value` keeps the last of): the full parse decides, and words any error as the
    // caller would otherwise get it.
    let whole = json_object(bytes)?;
    Head::deserialize(&whole).map_err(|e| ApiError::invalid_json(e.to_string()))
}

/// Any JSON value, parsed past and kept as the empty value of its type.
struct Skeleton(Value);

impl<'de> Deserialize<'de> for Skeleton {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkeletonVisitor)
    }
}

struct SkeletonVisitor;

impl<'de> Visitor<'de> for SkeletonVisitor {
    type Value = Skeleton;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Skeleton, E> {
        Ok(Skeleton(Value::Bool(b)))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skeleton, E> {
        Ok(Skeleton(Value::from(0)))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skeleton, E> {
        Ok(Skeleton(Value::from(0)))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skeleton, E> {
        Ok(Skeleton(Value::from(0)))
    }
    fn visit_str<E>(self, _: &str) -> Result<Skeleton, E> {
        Ok(Skeleton(Value::String(String::new())))
    }
    fn visit_unit<E>(self) -> Result<Skeleton, E> {
        Ok(Skeleton(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skeleton, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Skeleton(Value::Array(Vec::new())))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skeleton, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Skeleton(Value::Object(serde_json::Map::new())))
    }
}

pub fn required_str<'a>(v: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    required_member(v.get(field), field)
}

/// A member that must be a non-empty string (`required_str` on a member already found).
pub fn required_member<'a>(member: Option<&'a Value>, field: &str) -> Result<&'a str, ApiError> {
    match member {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(ApiError::bad_request(format!(
            "you must provide a {field} parameter"
        ))
        .with_param(field)),
        Some(_) => {
            Err(ApiError::bad_request(format!("'{field}' must be a string")).with_param(field))
        }
    }
}

pub fn optional_int(v: &Value, field: &str) -> Result<Option<i64>, ApiError> {
    optional_int_member(v.get(field), field)
}

/// `optional_int` on a member already found.
pub fn optional_int_member(member: Option<&Value>, field: &str) -> Result<Option<i64>, ApiError> {
    match member {
        None | Some(Value::Null) => Ok(None),
        Some(n) => match n.as_i64() {
            Some(i) if i >= 0 => Ok(Some(i)),
            _ => Err(
                ApiError::bad_request(format!("'{field}' must be a non-negative integer"))
                    .with_param(field),
            ),
        },
    }
}

pub async fn form_parts(mut form: Multipart, limit: usize) -> Result<Vec<FormPart>, ApiError> {
    let bad = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large(limit)
        } else {
            ApiError::bad_request(format!(
                "Could not read the multipart form: {}",
                e.body_text()
            ))
        }
    };
    let mut parts = Vec::new();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(str::to_string);
        let data = field.bytes().await.map_err(bad)?;
        parts.push(FormPart {
            name,
            file_name,
            content_type,
            data,
        });
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head agrees with the whole parse: on every member it keeps, on the JSON type of
    /// `messages` and `prompt`, and on the error a bad body gets.
    #[test]
    fn the_head_checks_as_the_whole_body_does() {
        let bodies = [
            r#"{"model": "m", "messages": [{"role": "user", "content": "hi \u00e9"}], "stream": true,
                "stream_options": {"include_usage": true}, "n": 2, "max_tokens": 7,
                "max_completion_tokens": null, "tools": [], "temperature": 0.5, "user": "u",
                "logprobs": false, "metadata": {"a": [1, {"b": null}]}}"#,
            r#"  {"model": 5, "messages": "x", "stream": "yes", "n": -1.5}  "#,
            r#"{"model": "a", "model": "b", "prompt": null}"#,
            r#"{"mo\"del": "escaped key", "\u006dodel": "m", "max_tokens": 1, "max_tokens": "2"}"#,
            r#"{"prompt": ["a", "b"], "messages": {"x": 1}, "stream_options": null}"#,
            r#"{"prompt": 3, "messages": true, "model": {"name": "m"}, "n": [1]}"#,
            r#"{"prompt": "text", "messages": false, "max_completion_tokens": 18446744073709551615}"#,
            "{}",
            "",
            "[]",
            "  \"text\"",
            r#"{"model": "m", "messages": ["#,
            r#"{"model": "m"} trailing"#,
            r#"{"model": "m",}"#,
            r#"{"model": "m" "n": 1}"#,
        ];
        // The head as the whole parse has it, read by hand.
        let of = |whole: &Value| {
            let member = |name| whole.get(name).cloned();
            let kind = |name| {
                whole.get(name).map(|v| match v {
                    Value::Number(_) => Value::from(0),
                    Value::String(_) => Value::String(String::new()),
                    Value::Array(_) => Value::Array(Vec::new()),
                    Value::Object(_) => Value::Object(serde_json::Map::new()),
                    scalar => scalar.clone(),
                })
            };
            Head {
                model: member("model"),
                stream: member("stream"),
                n: member("n"),
                max_tokens: member("max_tokens"),
                max_completion_tokens: member("max_completion_tokens"),
                stream_options: member("stream_options"),
                messages: kind("messages"),
                prompt: kind("prompt"),
            }
        };
        for b in bodies {
            match (json_head(b.as_bytes()), json_object(b.as_bytes())) {
                (Ok(head), Ok(whole)) => assert_eq!(head, of(&whole), "{b}"),
                (Err(h), Err(w)) => assert_eq!(h.message, w.message, "{b}"),
                (h, w) => panic!("{b}: head {:?}, whole {:?}", h.is_ok(), w.is_ok()),
            }
        }
        let head = json_head(bodies[0].as_bytes()).unwrap();
        assert_eq!(head.model, Some(Value::from("m")));
        assert_eq!(head.needed("messages"), Some(&Value::Array(Vec::new())));
        assert_eq!(head.needed("prompt"), None);
        assert_eq!(head.max_completion_tokens, Some(Value::Null));
    }
}
