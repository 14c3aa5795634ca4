//! Fixture loading and comparison for the golden tests.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// The `created` time the tests pass to translations that need one.
pub const CREATED: i64 = 1_700_000_000;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn text(name: &str) -> String {
    std::fs::read_to_string(path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

pub fn json(name: &str) -> Value {
    serde_json::from_str(&text(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The JSON payloads of an SSE fixture, in order (`[DONE]` left out).
pub fn events(name: &str) -> Vec<Value> {
    switchyard_wire::sse::payloads(&text(name))
        .into_iter()
        .filter(|p| *p != "[DONE]")
        .map(|p| serde_json::from_str(p).unwrap_or_else(|e| panic!("{name}: {e}: {p}")))
        .collect()
}

/// An SSE fixture as (event name, payload) pairs.
pub fn named_events(name: &str) -> Vec<(String, Value)> {
    let text = text(name);
    let mut out = Vec::new();
    let mut event = None;
    for line in text.lines() {
        if let Some(e) = line.strip_prefix("event: ") {
            event = Some(e.to_string());
        } else if let Some(d) = line.strip_prefix("data: ") {
            out.push((
                event.take().unwrap_or_default(),
                serde_json::from_str(d).unwrap(),
            ));
        }
    }
    out
}

/// Equal field by field; on a difference, say where.
pub fn assert_same(actual: &Value, expected: &Value, what: &str) {
    if let Some(diff) = first_difference(actual, expected, String::new()) {
        panic!(
            "{what}: {diff}\nactual:   {}\nexpected: {}",
            serde_json::to_string_pretty(actual).unwrap(),
            serde_json::to_string_pretty(expected).unwrap()
        );
    }
}

fn first_difference(a: &Value, e: &Value, at: String) -> Option<String> {
    match (a, e) {
        (Value::Object(ao), Value::Object(eo)) => {
            for k in eo.keys().chain(ao.keys()) {
                let here = format!("{at}/{k}");
                match (ao.get(k), eo.get(k)) {
                    (Some(av), Some(ev)) => {
                        if let Some(d) = first_difference(av, ev, here) {
                            return Some(d);
                        }
                    }
                    (None, Some(ev)) => return Some(format!("{here} missing (expected {ev})")),
                    (Some(av), None) => return Some(format!("{here} unexpected ({av})")),
                    (None, None) => {}
                }
            }
            None
        }
        (Value::Array(aa), Value::Array(ea)) => {
            if aa.len() != ea.len() {
                return Some(format!("{at}: {} items, expected {}", aa.len(), ea.len()));
            }
            aa.iter()
                .zip(ea)
                .enumerate()
                .find_map(|(i, (av, ev))| first_difference(av, ev, format!("{at}/{i}")))
        }
        (Value::Number(an), Value::Number(en)) if an.as_f64() == en.as_f64() => None,
        _ if a == e => None,
        _ => Some(format!("{at}: {a}, expected {e}")),
    }
}
