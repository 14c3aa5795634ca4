//! `POST /v1/embeddings`: deterministic unit vectors seeded from the input.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{bad_request, prepare};
use crate::reply;
use crate::Sim;

/// Larger than any real embedding model, to bound work per request.
const MAX_DIMENSIONS: u64 = 8192;

pub async fn handle(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    match answer(&sim, &headers, &body).await {
        Ok(resp) | Err(resp) => resp,
    }
}

async fn answer(sim: &Sim, headers: &HeaderMap, body: &[u8]) -> Result<Response, Response> {
    let req = prepare(sim, headers, body).await?;
    req.require_model()?;
    let inputs = inputs(req.body.get("input"))
        .ok_or_else(|| bad_request("'input' must be a non-empty string or array", Some("input")))?;
    let dims = req
        .u64("dimensions")
        .unwrap_or_else(|| default_dimensions(&req.model));
    if dims == 0 || dims > MAX_DIMENSIONS {
        return Err(bad_request("Invalid 'dimensions'", Some("dimensions")));
    }
    let base64 = match req.str("encoding_format").unwrap_or("float") {
        "float" => false,
        "base64" => true,
        _ => {
            return Err(bad_request(
                "Invalid 'encoding_format'",
                Some("encoding_format"),
            ))
        }
    };
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let v = vector(&input.seed, dims as usize);
            let embedding = if base64 { encode(&v) } else { json!(v) };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let mut body = json!({"object": "list", "data": data, "model": req.model});
    if !req.faults.no_usage {
        let tokens: u64 = inputs.iter().map(|i| i.tokens).sum();
        body["usage"] = json!({"prompt_tokens": tokens, "total_tokens": tokens});
    }
    Ok(Json(body).into_response())
}

fn default_dimensions(model: &str) -> u64 {
    if model.ends_with("-large") {
        3072
    } else {
        1536
    }
}

struct Input {
    /// Bytes hashed to seed the vector.
    seed: Vec<u8>,
    tokens: u64,
}

fn text_input(text: &str) -> Input {
    Input {
        seed: text.as_bytes().to_vec(),
        tokens: reply::approx_tokens(text),
    }
}

fn token_input(tokens: &[Value]) -> Input {
    Input {
        seed: Value::from(tokens.to_vec()).to_string().into_bytes(),
        tokens: tokens.len() as u64,
    }
}

/// A string, strings, one token array or several token arrays.
fn inputs(value: Option<&Value>) -> Option<Vec<Input>> {
    let items = match value? {
        Value::String(s) if !s.is_empty() => return Some(vec![text_input(s)]),
        Value::Array(items) if !items.is_empty() => items,
        _ => return None,
    };
    if items.iter().all(Value::is_number) {
        return Some(vec![token_input(items)]);
    }
    let one = |v: &Value| match v {
        Value::String(s) => Some(text_input(s)),
        Value::Array(tokens) if !tokens.is_empty() => Some(token_input(tokens)),
        _ => None,
    };
    items.iter().map(one).collect()
}

/// Unit-norm vector from a splitmix64 stream seeded by sha256(seed): cheap
/// enough for 3072 dimensions, identical for identical input.
fn vector(seed: &[u8], dims: usize) -> Vec<f32> {
    let digest = Sha256::digest(seed);
    let mut state = u64::from_le_bytes(digest[..8].try_into().unwrap_or_default());
    let mut v: Vec<f32> = (0..dims)
        .map(|_| {
            let x = splitmix64(&mut state);
            // Top 24 bits give an exact f32 in [0, 1); map to [-1, 1).
            (x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What the OpenAI SDKs expect for `encoding_format: "base64"`.
fn encode(v: &[f32]) -> Value {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_deterministic_unit_norm() {
        let a = vector(b"hello", 64);
        assert_eq!(a, vector(b"hello", 64));
        assert_ne!(a, vector(b"world", 64));
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }

    #[test]
    fn input_shapes() {
        let count = |v: Value| inputs(Some(&v)).map(|i| i.len());
        assert_eq!(count(json!("hi")), Some(1));
        assert_eq!(count(json!(["a", "bb"])), Some(2));
        assert_eq!(count(json!([1, 2])), Some(1));
        assert_eq!(count(json!([[1], [2, 3]])), Some(2));
        assert_eq!(count(json!("")), None);
        assert_eq!(count(json!([])), None);
    }
}
