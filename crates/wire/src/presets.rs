//! OpenAI-compatible providers by name: the base URL to fill in when a channel names none,
//! and the request quirks each needs. The operator can override the URL (and anything else)
//! on the channel.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// The channel kind that selects it.
    pub kind: &'static str,
    pub name: &'static str,
    pub base_url: &'static str,
    /// Calls work without a key (a local server).
    pub keyless: bool,
    /// What is different about it, for the docs and the admin API.
    pub notes: &'static str,
}

pub const PRESETS: &[Preset] = &[
    Preset {
        kind: "deepseek",
        name: "DeepSeek",
        base_url: "https://api.deepseek.com/v1",
        keyless: false,
        notes: "deepseek-reasoner answers with reasoning_content; cache hits are reported as prompt_cache_hit_tokens and billed at the cached price; reasoning_content is removed from history sent back (DeepSeek rejects it).",
    },
    Preset {
        kind: "qwen",
        name: "Qwen (DashScope compatible mode)",
        base_url: "https://dashscope.aliyuncs.com/compatible-mode/v1",
        keyless: false,
        notes: "Non-streamed requests get enable_thinking=false unless set (Qwen3 models refuse to think without streaming).",
    },
    Preset {
        kind: "moonshot",
        name: "Moonshot (Kimi)",
        base_url: "https://api.moonshot.cn/v1",
        keyless: false,
        notes: "temperature is capped at 1; streamed usage arrives inside the last choice, where the meter reads it.",
    },
    Preset {
        kind: "zhipu",
        name: "Zhipu (GLM)",
        base_url: "https://open.bigmodel.cn/api/paas/v4",
        keyless: false,
        notes: "Paths live under /api/paas/v4, not /v1; tool_choice supports only \"auto\".",
    },
    Preset {
        kind: "groq",
        name: "Groq",
        base_url: "https://api.groq.com/openai/v1",
        keyless: false,
        notes: "logprobs, top_logprobs and logit_bias are not supported and are dropped.",
    },
    Preset {
        kind: "mistral",
        name: "Mistral",
        base_url: "https://api.mistral.ai/v1",
        keyless: false,
        notes: "stream_options is not accepted (usage always ends the stream); max_completion_tokens is sent as max_tokens.",
    },
    Preset {
        kind: "xai",
        name: "xAI (Grok)",
        base_url: "https://api.x.ai/v1",
        keyless: false,
        notes: "Reasoning models (grok-3-mini, grok-4) answer with reasoning_content and reject presence_penalty, frequency_penalty and stop, which are dropped for them.",
    },
    Preset {
        kind: "openrouter",
        name: "OpenRouter",
        base_url: "https://openrouter.ai/api/v1",
        keyless: false,
        notes: "Reasoning arrives as `reasoning`, read like reasoning_content when translating to Anthropic or Gemini callers.",
    },
    Preset {
        kind: "siliconflow",
        name: "SiliconFlow",
        base_url: "https://api.siliconflow.cn/v1",
        keyless: false,
        notes: "Reasoning models answer with reasoning_content.",
    },
    Preset {
        kind: "ollama",
        name: "Ollama",
        base_url: "http://127.0.0.1:11434/v1",
        keyless: true,
        notes: "A local server: no key needed.",
    },
];

pub fn preset(kind: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.kind == kind)
}

/// Apply the preset's request quirks to an OpenAI chat request about to be sent. Returns
/// whether anything changed (so an unchanged body can be sent as it was serialized).
pub fn adjust_request(kind: &str, body: &mut Value) -> bool {
    let Some(o) = body.as_object_mut() else {
        return false;
    };
    let mut changed = false;
    let mut set = |o: &mut Map<String, Value>, k: &str, v: Option<Value>| {
        changed |= match v {
            Some(v) => o.insert(k.into(), v.clone()).as_ref() != Some(&v),
            None => o.remove(k).is_some(),
        };
    };
    match kind {
        "deepseek" => {
            for m in o
                .get_mut("messages")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(m) = m.as_object_mut() {
                    set(m, "reasoning_content", None);
                }
            }
        }
        "qwen" => {
            let streamed = o.get("stream").and_then(Value::as_bool) == Some(true);
            if !streamed && !o.contains_key("enable_thinking") {
                set(o, "enable_thinking", Some(Value::Bool(false)));
            }
        }
        "moonshot"
            if o.get("temperature")
                .and_then(Value::as_f64)
                .is_some_and(|t| t > 1.0) =>
        {
            set(o, "temperature", Some(Value::from(1.0)));
        }
        "zhipu" if o.get("tool_choice").is_some_and(|c| c != "auto") => {
            set(o, "tool_choice", Some(Value::from("auto")));
        }
        "groq" => {
            for k in ["logprobs", "top_logprobs", "logit_bias"] {
                set(o, k, None);
            }
        }
        "mistral" => {
            set(o, "stream_options", None);
            if let Some(m) = o.remove("max_completion_tokens") {
                set(o, "max_tokens", Some(m));
            }
        }
        "xai" => {
            let model = o.get("model").and_then(Value::as_str).unwrap_or("");
            if model.starts_with("grok-3-mini") || model.starts_with("grok-4") {
                for k in ["presence_penalty", "frequency_penalty", "stop"] {
                    set(o, k, None);
                }
            }
        }
        _ => {}
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quirks() {
        let mut b = json!({"model": "m", "stream_options": {"include_usage": true}, "max_completion_tokens": 5});
        assert!(adjust_request("mistral", &mut b));
        assert_eq!(b, json!({"model": "m", "max_tokens": 5}));
        let mut b = json!({"model": "qwen3-max"});
        assert!(adjust_request("qwen", &mut b));
        assert_eq!(b["enable_thinking"], false);
        let mut s = json!({"model": "qwen3-max", "stream": true});
        assert!(!adjust_request("qwen", &mut s));
        let mut d =
            json!({"messages": [{"role": "assistant", "content": "x", "reasoning_content": "r"}]});
        assert!(adjust_request("deepseek", &mut d));
        assert_eq!(
            d,
            json!({"messages": [{"role": "assistant", "content": "x"}]})
        );
        let mut z = json!({"tool_choice": "required"});
        assert!(adjust_request("zhipu", &mut z));
        assert_eq!(z["tool_choice"], "auto");
        let mut x = json!({"model": "grok-4", "stop": ["x"], "temperature": 0.5});
        assert!(adjust_request("xai", &mut x));
        assert_eq!(x, json!({"model": "grok-4", "temperature": 0.5}));
        let mut m = json!({"temperature": 1.5});
        assert!(adjust_request("moonshot", &mut m));
        assert_eq!(m["temperature"], 1.0);
        let mut plain = json!({"model": "x", "temperature": 1.5});
        assert!(!adjust_request("openai", &mut plain));
        assert!(!adjust_request("groq", &mut plain));
    }

    #[test]
    fn every_preset_has_a_url() {
        for p in PRESETS {
            assert!(p.base_url.starts_with("http"), "{}", p.kind);
            assert_eq!(preset(p.kind).unwrap().kind, p.kind);
        }
    }
}
