//! Reading what callers send: JSON with the parser's own message on failure, bodies over the
//! size limit as a 413, multipart forms, and the request id every answer carries.

use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::Value;

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
