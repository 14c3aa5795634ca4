//! Deterministic reply text and token accounting, shared by every wire format
//! so that billing tests can predict usage exactly: one word is one token.

use serde_json::{Map, Value};

/// Reply length in words when no `words` fault is set.
pub const DEFAULT_WORDS: usize = 12;

/// How many prompt words are echoed back, so replies are recognisable.
const ECHOED_PROMPT_WORDS: usize = 5;

/// Padding after the echoed prompt; fixed so replies never vary between runs.
const FILLER: &[&str] = &[
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
];

/// `lead` words, then the first prompt words, then filler, `total` words in all.
pub fn words(lead: &str, prompt: &str, total: usize) -> Vec<String> {
    lead.split_whitespace()
        .chain(prompt.split_whitespace().take(ECHOED_PROMPT_WORDS))
        .chain(FILLER.iter().copied().cycle())
        .take(total)
        .map(str::to_owned)
        .collect()
}

/// Truncate to `max` tokens (= words); the finish reason says whether it did.
pub fn limit(mut words: Vec<String>, max: Option<u64>) -> (Vec<String>, &'static str) {
    match max {
        Some(max) if (max as usize) < words.len() => {
            words.truncate(max as usize);
            (words, "length")
        }
        _ => (words, "stop"),
    }
}

/// Wrap the words as a `{"reply":"..."}` JSON object without changing the
/// word count, so JSON mode streams and bills like plain text.
pub fn as_json_object(words: &mut [String]) {
    for w in words.iter_mut() {
        let quoted = serde_json::Value::from(w.as_str()).to_string();
        *w = quoted[1..quoted.len() - 1].to_owned();
    }
    match words {
        [] => {}
        [only] => *only = format!("{{\"reply\":\"{only}\"}}"),
        [first, .., last] => {
            *first = format!("{{\"reply\":\"{first}");
            *last = format!("{last}\"}}");
        }
    }
}

/// The text of the i-th stream chunk: words after the first carry the space.
pub fn piece(index: usize, word: &str) -> String {
    if index == 0 {
        word.to_owned()
    } else {
        format!(" {word}")
    }
}

/// Tool-call arguments for a JSON schema: one deterministic string per required
/// property, the first enum value if there is one (so validators accept it), else
/// `sim-<name>`.
pub fn tool_arguments(schema: Option<&Value>) -> Map<String, Value> {
    let Some(schema) = schema else {
        return Map::new();
    };
    let required = schema.get("required").and_then(Value::as_array);
    let names = required.into_iter().flatten().filter_map(Value::as_str);
    names
        .map(|name| {
            let first_enum = schema
                .pointer(&format!("/properties/{name}/enum/0"))
                .and_then(Value::as_str);
            let value = first_enum.map_or_else(|| format!("sim-{name}"), str::to_owned);
            (name.to_owned(), Value::String(value))
        })
        .collect()
}

/// Rough tokenizer: one token per started 4 characters.
pub fn approx_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_cover_required() {
        let schema = serde_json::json!({"type": "object",
            "properties": {"unit": {"type": "string", "enum": ["c", "f"]}, "city": {"type": "string"}},
            "required": ["city", "unit"]});
        let args = tool_arguments(Some(&schema));
        assert_eq!(args["city"], "sim-city");
        assert_eq!(args["unit"], "c");
    }

    #[test]
    fn pads_to_total() {
        let w = words("Simulated reply to:", "Hello there", 12);
        assert_eq!(w.len(), 12);
        assert_eq!(w[..5].join(" "), "Simulated reply to: Hello there");
        assert_eq!(w[5], "lorem");
        assert_eq!(words("a b c", "", 2), vec!["a", "b"]);
    }

    #[test]
    fn limits_and_reports_length() {
        let (w, f) = limit(words("x", "", 12), Some(3));
        assert_eq!((w.len(), f), (3, "length"));
        let (w, f) = limit(words("x", "", 12), Some(12));
        assert_eq!((w.len(), f), (12, "stop"));
    }

    #[test]
    fn json_object_is_valid_json() {
        let mut w = words("Simulated reply to:", "say \"hi\"", 6);
        as_json_object(&mut w);
        let v: serde_json::Value = serde_json::from_str(&w.join(" ")).unwrap();
        assert!(v["reply"].as_str().unwrap().contains("\"hi\""));
        let mut one = vec!["x".to_owned()];
        as_json_object(&mut one);
        assert_eq!(one[0], r#"{"reply":"x"}"#);
    }

    #[test]
    fn token_estimate_rounds_up() {
        assert_eq!(approx_tokens(""), 0);
        assert_eq!(approx_tokens("abcd"), 1);
        assert_eq!(approx_tokens("abcde"), 2);
    }
}
