//! Server-sent events as the three formats write them. Every provider here puts one JSON
//! payload on one `data:` line, so a stream can be read line by line.

use serde_json::Value;

/// `data: {json}` and a blank line (OpenAI, Gemini).
pub fn data(v: &Value) -> String {
    format!("data: {v}\n\n")
}

/// `event: name`, `data: {json}` and a blank line (Anthropic).
pub fn event(name: &str, v: &Value) -> String {
    format!("event: {name}\ndata: {v}\n\n")
}

/// The end of an OpenAI stream.
pub const DONE: &str = "data: [DONE]\n\n";

/// The payload of a `data:` line (without the line end), if it is one.
pub fn data_payload(line: &[u8]) -> Option<&[u8]> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let payload = line.strip_prefix(b"data:")?;
    Some(payload.strip_prefix(b" ").unwrap_or(payload))
}

/// Every `data:` payload of a whole SSE text, in order (for tests and small bodies).
pub fn payloads(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|p| p.strip_prefix(' ').unwrap_or(p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(data_payload(b"data: {}\r\n"), Some(&b"{}"[..]));
        assert_eq!(data_payload(b"data:[DONE]\n"), Some(&b"[DONE]"[..]));
        assert_eq!(data_payload(b"event: ping\n"), None);
        assert_eq!(
            payloads("event: a\ndata: 1\n\ndata: 2\r\n\r\n"),
            vec!["1", "2"]
        );
    }
}
