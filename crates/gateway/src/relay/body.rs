//! Reading what callers send: JSON with the parser's own message on failure, bodies over the
//! size limit as a 413, multipart forms, and the request id every answer carries.

use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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

/// The members of a request body the relay reads itself; `json_head` builds only these.
const HEAD: [&str; 6] = [
    "model",
    "stream",
    "n",
    "max_tokens",
    "max_completion_tokens",
    "stream_options",
];

/// A JSON object body as `json_object` checks it, with only the `HEAD` members built: every
/// other member (`messages`, `tools`, …, usually nearly all of the body) is parsed past and
/// kept as an empty value of its own JSON type, so checks of its presence and type still
/// hold. Building a whole body's `Value` was 5% of a relayed chat's instructions; a body
/// the relay passes on unchanged never needs it. Never send the head anywhere.
pub fn json_head(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return json_object(bytes);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match de
        .deserialize_map(HeadVisitor)
        .and_then(|v| de.end().map(|()| v))
    {
        Ok(v) => Ok(v),
        // The full parse words the error as the caller would otherwise get it.
        Err(_) => json_object(bytes),
    }
}

struct HeadVisitor;

impl<'de> Visitor<'de> for HeadVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = if HEAD.contains(&key.as_str()) {
                map.next_value::<Value>()?
            } else {
                map.next_value::<Skeleton>()?.0
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
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
    match v.get(field) {
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
    match v.get(field) {
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

    /// The head agrees with the whole parse: on every `HEAD` member, on the JSON type of
    /// every other member, and on the error a bad body gets.
    #[test]
    fn the_head_checks_as_the_whole_body_does() {
        let bodies = [
            r#"{"model": "m", "messages": [{"role": "user", "content": "hi \u00e9"}], "stream": true,
                "stream_options": {"include_usage": true}, "n": 2, "max_tokens": 7,
                "max_completion_tokens": null, "tools": [], "temperature": 0.5, "user": "u",
                "logprobs": false, "metadata": {"a": [1, {"b": null}]}}"#,
            r#"  {"model": 5, "messages": "x", "stream": "yes", "n": -1.5}  "#,
            r#"{"model": "a", "model": "b", "prompt": null}"#,
            r#"{"mo\"del": "escaped key", "\u006dodel": "m"}"#,
            "{}",
            "",
            "[]",
            "  \"text\"",
            r#"{"model": "m", "messages": ["#,
            r#"{"model": "m"} trailing"#,
            r#"{"model": "m",}"#,
        ];
        for b in bodies {
            let (head, whole) = (json_head(b.as_bytes()), json_object(b.as_bytes()));
            let (head, whole) = match (head, whole) {
                (Ok(h), Ok(w)) => (h, w),
                (Err(h), Err(w)) => {
                    assert_eq!(h.message, w.message, "{b}");
                    continue;
                }
                (h, w) => panic!("{b}: head {:?}, whole {:?}", h.is_ok(), w.is_ok()),
            };
            let (head, whole) = (head.as_object().unwrap(), whole.as_object().unwrap());
            assert_eq!(
                head.keys().collect::<Vec<_>>(),
                whole.keys().collect::<Vec<_>>(),
                "{b}"
            );
            for (k, w) in whole {
                let h = &head[k];
                if HEAD.contains(&k.as_str()) {
                    assert_eq!(h, w, "{b}: {k}");
                } else {
                    let kind = |v: &Value| std::mem::discriminant(v);
                    assert_eq!(kind(h), kind(w), "{b}: {k}");
                }
            }
        }
    }
}
