//! The wire formats Switchyard speaks to callers and to providers, and the translations
//! between them. No I/O, no clocks: every function here takes JSON (and, where a timestamp
//! is needed, the time) and returns JSON, so each can be tested on the providers' own
//! documented payloads.
//!
//! The gateway's canonical form of a chat request is OpenAI's chat completion request as a
//! JSON `Value` (unknown fields kept). Each foreign format has the same six pieces:
//!
//! | direction | request | answer | stream |
//! |---|---|---|---|
//! | to a provider (channel adapter) | `request_from_openai` | `answer_to_openai` | `StreamDecoder` |
//! | from a caller (front door) | `request_to_openai` | `answer_from_openai` | `StreamEncoder` |
//!
//! so metering, settling and logging only ever look at OpenAI-shaped answers and chunks.

pub mod anthropic;
pub mod azure;
pub mod gemini;
pub mod openai;
pub mod presets;
pub mod sse;

/// A wire format a caller or a channel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// OpenAI's chat completions (also Azure OpenAI and the OpenAI-compatible providers).
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
    /// Google's Gemini API (`generateContent`).
    Gemini,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::OpenAi => "OpenAI",
            Format::Anthropic => "Anthropic",
            Format::Gemini => "Gemini",
        }
    }
}
