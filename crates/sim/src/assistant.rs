//! What a simulated chat model "decides", independent of the wire format it is asked in:
//! think (when asked to), call tools (when it may), or answer with deterministic text.
//! The Anthropic and Gemini formats decode their requests into a [`Prompt`] and encode
//! the [`Turn`] back; one word (or tool-argument fragment) is one output token.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::reply;

/// Tool-call arguments are streamed (and counted) in fragments of this many characters.
pub const FRAGMENT_CHARS: usize = 6;

/// Words of simulated thinking, when a request enables it.
const THINKING_WORDS: usize = 8;

/// A declared tool: its name and JSON schema.
pub struct Tool {
    pub name: String,
    pub schema: Option<Value>,
}

/// Which tools the request allows.
pub enum ToolMode {
    None,
    Auto,
    /// At least one tool must be called.
    Any,
    Named(String),
}

/// The parts of a request that decide the answer.
pub struct Prompt {
    /// Text of the last user turn.
    pub text: String,
    /// Images in the last user turn; the reply mentions them, proving they arrived.
    pub images: usize,
    /// The last user turn carries tool results: answer in text, so agent loops end.
    pub after_tool_result: bool,
    pub tools: Vec<Tool>,
    pub mode: ToolMode,
    pub parallel: bool,
    pub thinking: bool,
    pub max_tokens: Option<u64>,
    pub stop: Vec<String>,
    /// Reply length in words (the `words` fault).
    pub words: usize,
}

pub struct Call {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

impl Call {
    pub fn fragments(&self) -> Vec<String> {
        let chars: Vec<char> = self.arguments.chars().collect();
        chars
            .chunks(FRAGMENT_CHARS)
            .map(|c| c.iter().collect())
            .collect()
    }

    pub fn arguments_json(&self) -> Value {
        serde_json::from_str(&self.arguments).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Stop,
    Length,
    StopSequence(String),
    ToolCalls,
}

pub struct Turn {
    pub thinking: Vec<String>,
    pub text: Vec<String>,
    pub calls: Vec<Call>,
    pub finish: Finish,
}

impl Turn {
    pub fn output_tokens(&self) -> u64 {
        let calls: usize = self.calls.iter().map(|c| c.fragments().len()).sum();
        (self.thinking.len() + self.text.len() + calls) as u64
    }

    pub fn text(&self) -> String {
        self.text.join(" ")
    }

    pub fn thinking(&self) -> String {
        self.thinking.join(" ")
    }
}

pub fn respond(p: &Prompt) -> Turn {
    let thinking = if p.thinking {
        reply::words("Simulated thinking about:", &p.text, THINKING_WORDS)
    } else {
        Vec::new()
    };
    let calls = calls(p);
    if !calls.is_empty() {
        let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
        let text = format!("Calling {}.", names.join(" and "));
        return Turn {
            thinking,
            text: text.split(' ').map(str::to_owned).collect(),
            calls,
            finish: Finish::ToolCalls,
        };
    }
    let prompt = match p.images {
        0 => p.text.clone(),
        1 => format!("[1 image] {}", p.text),
        n => format!("[{n} images] {}", p.text),
    };
    let mut words = reply::words("Simulated reply to:", &prompt, p.words);
    let stopped = words.iter().enumerate().find_map(|(i, w)| {
        Some((
            i,
            p.stop
                .iter()
                .find(|s| !s.is_empty() && w.contains(s.as_str()))?,
        ))
    });
    if let Some((i, stop)) = stopped {
        words.truncate(i);
        if p.max_tokens.is_none_or(|m| m as usize >= i) {
            return Turn {
                thinking,
                text: words,
                calls: Vec::new(),
                finish: Finish::StopSequence(stop.clone()),
            };
        }
    }
    let (text, finish) = reply::limit(words, p.max_tokens);
    Turn {
        thinking,
        text,
        calls: Vec::new(),
        finish: if finish == "length" {
            Finish::Length
        } else {
            Finish::Stop
        },
    }
}

/// The tools to call: the one named by the request; else every tool the user's text
/// mentions (several make a parallel call); else the first. None after a tool result.
fn calls(p: &Prompt) -> Vec<Call> {
    if p.tools.is_empty() || p.after_tool_result || matches!(p.mode, ToolMode::None) {
        return Vec::new();
    }
    let mut chosen: Vec<&Tool> = match &p.mode {
        ToolMode::Named(n) => p.tools.iter().filter(|t| &t.name == n).take(1).collect(),
        _ => p
            .tools
            .iter()
            .filter(|t| p.text.contains(&t.name))
            .collect(),
    };
    if chosen.is_empty() && !matches!(p.mode, ToolMode::Named(_)) {
        chosen.push(&p.tools[0]);
    }
    if !p.parallel {
        chosen.truncate(1);
    }
    chosen
        .into_iter()
        .map(|t| {
            let arguments = Value::Object(reply::tool_arguments(t.schema.as_ref())).to_string();
            let digest = Sha256::digest(format!("{}:{arguments}", t.name));
            Call {
                id: hex::encode(digest)[..24].to_string(),
                name: t.name.clone(),
                arguments,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prompt(text: &str) -> Prompt {
        Prompt {
            text: text.into(),
            images: 0,
            after_tool_result: false,
            tools: Vec::new(),
            mode: ToolMode::Auto,
            parallel: true,
            thinking: false,
            max_tokens: None,
            stop: Vec::new(),
            words: 12,
        }
    }

    fn tool(name: &str) -> Tool {
        Tool {
            name: name.into(),
            schema: Some(
                json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
            ),
        }
    }

    #[test]
    fn text_stop_sequences_and_length() {
        let t = respond(&prompt("hello there"));
        assert_eq!(t.text.len(), 12);
        assert_eq!(t.finish, Finish::Stop);
        let mut p = prompt("hello there");
        p.stop = vec!["lorem".into()];
        let t = respond(&p);
        assert_eq!(t.text(), "Simulated reply to: hello there");
        assert_eq!(t.finish, Finish::StopSequence("lorem".into()));
        p.max_tokens = Some(2);
        assert_eq!(respond(&p).finish, Finish::Length);
    }

    #[test]
    fn tools_named_in_the_prompt_are_called_together() {
        let mut p = prompt("use get_time and get_weather");
        p.tools = vec![tool("get_weather"), tool("get_time"), tool("other")];
        let t = respond(&p);
        let names: Vec<&str> = t.calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["get_weather", "get_time"]);
        assert_eq!(t.calls[0].arguments, r#"{"city":"sim-city"}"#);
        p.parallel = false;
        assert_eq!(respond(&p).calls.len(), 1);
        p.mode = ToolMode::Named("other".into());
        assert_eq!(respond(&p).calls[0].name, "other");
        p.after_tool_result = true;
        assert!(respond(&p).calls.is_empty());
    }

    #[test]
    fn images_are_acknowledged_and_thinking_counts() {
        let mut p = prompt("what is this");
        p.images = 1;
        p.thinking = true;
        let t = respond(&p);
        assert!(t
            .text()
            .starts_with("Simulated reply to: [1 image] what is this"));
        assert_eq!(t.output_tokens(), 12 + 8);
    }
}
