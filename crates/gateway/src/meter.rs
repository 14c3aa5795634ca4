//! Counting what a request used: from the provider's `usage` when it sends one, else with
//! a tokenizer over the text. Streams are scanned event by event as they pass; text kept
//! for counting is tokenized in slices, so memory stays bounded whatever the output length.

use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use tiktoken_rs::CoreBPE;

use crate::price::Usage;

fn bpe() -> &'static CoreBPE {
    static BPE: OnceLock<CoreBPE> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::o200k_base().expect("bundled o200k encoding"))
}

pub fn count_tokens(text: &str) -> i64 {
    if text.is_empty() {
        return 0;
    }
    bpe().encode_ordinary(text).len() as i64
}

/// OpenAI's `usage` object (chat, completions, embeddings), and where compatible providers
/// put theirs: inside the choice (Moonshot's streams), under `x_groq` (Groq's).
pub fn usage_from(v: &Value) -> Option<Usage> {
    let u = v
        .get("usage")
        .or_else(|| v.pointer("/choices/0/usage"))
        .or_else(|| v.pointer("/x_groq/usage"))
        .filter(|u| u.is_object())?;
    Some(usage_object(u))
}

fn usage_object(u: &Value) -> Usage {
    UsageFields::deserialize(u)
        .map(UsageFields::usage)
        .unwrap_or_default()
}

/// The token counts of a `usage` object, each under OpenAI's name or else another
/// provider's; a name that is present wins even when its value is not a number (then 0).
#[derive(Deserialize)]
struct UsageFields {
    #[serde(default)]
    prompt_tokens: Tokens,
    #[serde(default)]
    input_tokens: Tokens,
    #[serde(default)]
    completion_tokens: Tokens,
    #[serde(default)]
    output_tokens: Tokens,
    #[serde(default)]
    prompt_tokens_details: Field<CachedDetails>,
    /// DeepSeek reports cache hits as `prompt_cache_hit_tokens`.
    #[serde(default)]
    prompt_cache_hit_tokens: Tokens,
}

#[derive(Deserialize)]
struct CachedDetails {
    #[serde(default)]
    cached_tokens: Tokens,
}

impl UsageFields {
    fn usage(self) -> Usage {
        let cached = match self.prompt_tokens_details {
            Field::Object(CachedDetails { cached_tokens: c }) if c.0.is_some() => c,
            _ => self.prompt_cache_hit_tokens,
        };
        Usage {
            input: self.prompt_tokens.or(self.input_tokens),
            output: self.completion_tokens.or(self.output_tokens),
            cached: cached.or(Tokens(None)),
            ..Default::default()
        }
    }
}

/// A token count as `Value::get(..).and_then(Value::as_i64)` reads it: absent (`None`), or
/// present with its integer value (`Some(None)` when it is not an integer).
#[derive(Default)]
struct Tokens(Option<Option<i64>>);

impl Tokens {
    fn or(self, other: Tokens) -> i64 {
        self.0.or(other.0).flatten().unwrap_or(0)
    }
}

/// A field that is used only when it is an object: absent, the object parsed as `T`, or
/// anything else (parsed past without being built).
#[derive(Default)]
enum Field<T> {
    #[default]
    Absent,
    Object(T),
    Other,
}

impl<'de> Deserialize<'de> for Tokens {
    /// By `Value::as_i64`'s rule (an integer that fits an `i64`; anything else is `None`),
    /// without building the `Value`: a string or an object is parsed past, not kept.
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TokensVisitor).map(|n| Tokens(Some(n)))
    }
}

struct TokensVisitor;

impl<'de> Visitor<'de> for TokensVisitor {
    type Value = Option<i64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Option<i64>, E> {
        Ok(Some(n))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Option<i64>, E> {
        Ok(i64::try_from(n).ok())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<i64>, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<i64>, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<i64>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<i64>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<i64>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// Keeps an object (as `T`) and parses past anything else without building it.
struct FieldVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for FieldVisitor<T> {
    type Value = Field<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Field::Object)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Field<T>, E> {
        Ok(Field::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Field<T>, E> {
        Ok(Field::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Field<T>, E> {
        Ok(Field::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Field<T>, E> {
        Ok(Field::Other)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Field<T>, E> {
        Ok(Field::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Field<T>, E> {
        Ok(Field::Other)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor(PhantomData))
    }
}

/// All the text a request sends: chat messages (string or text parts), `prompt`, `input`.
pub fn request_text(body: &Value) -> String {
    let mut out = String::new();
    if let Some(msgs) = body.get("messages").and_then(Value::as_array) {
        for m in msgs {
            push_text(&mut out, m.get("content"));
        }
    }
    push_text(&mut out, body.get("prompt"));
    push_text(&mut out, body.get("input"));
    out
}

fn push_text(out: &mut String, v: Option<&Value>) {
    match v {
        Some(Value::String(s)) => {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(s);
        }
        Some(Value::Array(items)) => {
            for it in items {
                match it {
                    Value::String(_) => push_text(out, Some(it)),
                    Value::Object(_) => push_text(out, it.get("text")),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// Text generated in a non-streamed answer (chat message content, tool arguments, completion text).
pub fn answer_text(v: &Value) -> String {
    let mut out = String::new();
    for c in v
        .get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        push_text(&mut out, c.pointer("/message/content"));
        push_text(&mut out, c.get("text"));
        for t in c
            .pointer("/message/tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            push_text(&mut out, t.pointer("/function/arguments"));
        }
    }
    out
}

/// Usage of a non-streamed answer: the provider's, or counted.
pub fn usage_of_answer(request: &Value, answer: &Value) -> Usage {
    usage_from(answer).unwrap_or_else(|| Usage {
        input: count_tokens(&request_text(request)),
        output: count_tokens(&answer_text(answer)),
        ..Default::default()
    })
}

/// The only parts of an OpenAI answer `usage_from` reads; everything else is skipped by the
/// parser without being built.
#[derive(Deserialize)]
struct UsageOnly {
    #[serde(default)]
    usage: Field<UsageFields>,
    #[serde(default)]
    choices: Option<Vec<ChoiceUsage>>,
    #[serde(default)]
    x_groq: Option<ChoiceUsage>,
}

#[derive(Deserialize)]
struct ChoiceUsage {
    #[serde(default)]
    usage: Field<UsageFields>,
}

/// Usage of a non-streamed OpenAI answer read straight from its bytes: the same result as
/// `usage_of_answer(request, &parsed)`, without building the whole answer as a `Value` when
/// the provider reported usage (the common case). Anything unusual takes the full path.
/// `request` is asked for only when the answer has no usage (to count its tokens), so a
/// body the relay passed on unchanged is not parsed for nothing.
pub fn usage_of_answer_bytes<'a>(request: impl FnOnce() -> &'a Value, answer: &[u8]) -> Usage {
    if let Some(u) = root_usage_from_the_end(answer) {
        return u;
    }
    if let Ok(a) = serde_json::from_slice::<UsageOnly>(answer) {
        // The first present of the three, as `usage_from` picks it.
        let found = match a.usage {
            Field::Absent => match a.choices.and_then(|c| c.into_iter().next()) {
                Some(first) if !matches!(first.usage, Field::Absent) => first.usage,
                _ => a.x_groq.map(|x| x.usage).unwrap_or_default(),
            },
            present => present,
        };
        if let Field::Object(u) = found {
            return u.usage();
        }
    }
    let v: Value = serde_json::from_slice(answer).unwrap_or_default();
    usage_of_answer(request(), &v)
}

/// The answer's root-level `usage` object, found from the end without reading the rest: the
/// last `"usage"` key, if its value is an object followed only by the root's remaining
/// members and its closing brace. (A key inside a string is escaped, so it cannot match;
/// one in a nested object is followed by more than the root's end.) `None` sends the caller
/// to the full parse.
fn root_usage_from_the_end(answer: &[u8]) -> Option<Usage> {
    const KEY: &[u8] = br#""usage""#;
    // Built once: `memmem::rfind` builds its searcher on every call.
    static FINDER: OnceLock<memchr::memmem::FinderRev<'static>> = OnceLock::new();
    let at = FINDER
        .get_or_init(|| memchr::memmem::FinderRev::new(KEY))
        .rfind(answer)?;
    let value = answer[at + KEY.len()..]
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start();
    if !value.starts_with(b"{") {
        return None;
    }
    let mut parsed = serde_json::Deserializer::from_slice(value).into_iter::<UsageFields>();
    let fields = parsed.next()?.ok()?;
    closes_root(&value[parsed.byte_offset()..]).then(|| fields.usage())
}

/// Whether `rest` is the end of the root object: `(, "key": value)*` then `}` and nothing
/// but whitespace.
fn closes_root(mut rest: &[u8]) -> bool {
    /// One JSON value at the start of `s` (skipped, not built), and what follows it.
    fn skip_value(s: &[u8]) -> Option<&[u8]> {
        let mut it = serde_json::Deserializer::from_slice(s).into_iter::<IgnoredAny>();
        it.next()?.ok()?;
        Some(&s[it.byte_offset()..])
    }
    loop {
        rest = rest.trim_ascii_start();
        match rest.split_first() {
            Some((b'}', after)) => return after.trim_ascii().is_empty(),
            Some((b',', member)) => {
                let member = member.trim_ascii_start();
                if !member.starts_with(b"\"") {
                    return false;
                }
                let Some(value) = skip_value(member)
                    .and_then(|m| m.trim_ascii_start().strip_prefix(b":"))
                    .and_then(skip_value)
                else {
                    return false;
                };
                rest = value;
            }
            _ => return false,
        }
    }
}

/// Text is tokenized in slices of this size so a long stream never piles up in memory.
const SLICE: usize = 16 * 1024;

/// The most raw payload a stream keeps unparsed (see `StreamMeter::deferred`).
const DEFER: usize = 32 * 1024;

/// Whether a chunk can matter only for its text: its usage, error and finish reasons are
/// absent or `null` (OpenAI sends `"usage":null` in every chunk but the last). A chunk that
/// merely mentions these words in its text is parsed like any other, so the check can err
/// only towards parsing.
fn only_text(payload: &[u8]) -> bool {
    use memchr::memmem::Finder;
    static KEYS: OnceLock<[Finder<'static>; 4]> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        [
            r#""usage""#,
            r#""error""#,
            r#""x_groq""#,
            r#""finish_reason""#,
        ]
        .map(Finder::new)
    });
    keys.iter().all(|key| {
        key.find_iter(payload).all(|at| {
            let rest = payload[at + key.needle().len()..].trim_ascii_start();
            rest.strip_prefix(b":")
                .is_some_and(|v| v.trim_ascii_start().starts_with(b"null"))
        })
    })
}

/// Watches an OpenAI-format SSE stream go by, one `data:` payload at a time.
#[derive(Debug, Default)]
pub struct StreamMeter {
    pub usage: Option<Usage>,
    counted_output: i64,
    pending_text: String,
    /// Payloads that can only add text, kept as received (newline-separated, at most
    /// `DEFER` bytes) and parsed only if the provider never reports usage. Providers asked for
    /// usage send it last, so most streams end without these ever being parsed.
    deferred: Vec<u8>,
    pub chunks: u64,
    pub saw_done: bool,
    /// Some choice reported a `finish_reason`: the answer is complete even without `[DONE]`.
    pub finished: bool,
}

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    choices: Vec<ChunkChoice<'a>>,
    #[serde(default)]
    usage: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
    /// Groq's usage, in streams that predate `stream_options`.
    #[serde(default)]
    x_groq: Option<Value>,
}

#[derive(Deserialize)]
struct ChunkChoice<'a> {
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
    #[serde(borrow, default)]
    text: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    finish_reason: Option<Value>,
    /// Moonshot's usage, inside the last choice.
    #[serde(default)]
    usage: Option<Value>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow, default)]
    content: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    tool_calls: Option<Value>,
}

/// What the meter learned from one event, for the stream to act on.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    Data,
    /// A chunk carrying only usage (`choices: []`): the caller may not have asked for it.
    UsageOnly,
    Done,
    Error,
}

impl StreamMeter {
    /// One `data:` payload of an OpenAI stream.
    pub fn observe(&mut self, payload: &[u8]) -> Seen {
        if payload == b"[DONE]" {
            self.saw_done = true;
            return Seen::Done;
        }
        self.chunks += 1;
        if only_text(payload) {
            // Once the provider has reported usage, counting is moot.
            if self.usage.is_none() {
                if self.deferred.len() + payload.len() >= DEFER {
                    self.parse_deferred();
                }
                self.deferred.extend_from_slice(payload);
                self.deferred.push(b'\n');
            }
            return Seen::Data;
        }
        self.parse(payload)
    }

    fn parse(&mut self, payload: &[u8]) -> Seen {
        match serde_json::from_slice::<Chunk>(payload) {
            Ok(chunk) => self.take(chunk),
            Err(_) => Seen::Data,
        }
    }

    /// Count the text of the payloads put aside (the usage did not come, or the buffer is
    /// full).
    fn parse_deferred(&mut self) {
        let deferred = std::mem::take(&mut self.deferred);
        for payload in deferred.split(|b| *b == b'\n').filter(|p| !p.is_empty()) {
            self.parse(payload);
        }
        self.deferred = deferred;
        self.deferred.clear();
    }

    /// One chunk already parsed (translated from another provider's stream).
    pub fn observe_value(&mut self, chunk: &Value) -> Seen {
        self.chunks += 1;
        match Chunk::deserialize(chunk) {
            Ok(chunk) => self.take(chunk),
            Err(_) => Seen::Data,
        }
    }

    fn take(&mut self, chunk: Chunk) -> Seen {
        if chunk.error.is_some() {
            return Seen::Error;
        }
        let usage = chunk
            .usage
            .as_ref()
            .or_else(|| chunk.choices.iter().find_map(|c| c.usage.as_ref()))
            .or_else(|| chunk.x_groq.as_ref().and_then(|x| x.get("usage")))
            .filter(|u| u.is_object());
        if let Some(u) = usage {
            self.usage = Some(usage_object(u));
            if chunk.choices.is_empty() {
                return Seen::UsageOnly;
            }
        }
        for c in &chunk.choices {
            if c.finish_reason.as_ref().is_some_and(|f| !f.is_null()) {
                self.finished = true;
            }
            if let Some(t) = &c.text {
                self.add_text(t);
            }
            if let Some(d) = &c.delta {
                if let Some(t) = &d.content {
                    self.add_text(t);
                }
                if let Some(calls) = d.tool_calls.as_ref().and_then(Value::as_array) {
                    for call in calls {
                        if let Some(a) = call.pointer("/function/arguments").and_then(Value::as_str)
                        {
                            self.add_text(a);
                        }
                    }
                }
            }
        }
        Seen::Data
    }

    fn add_text(&mut self, t: &str) {
        // Once the provider has reported usage, counting is moot.
        if self.usage.is_some() {
            return;
        }
        self.pending_text.push_str(t);
        if self.pending_text.len() >= SLICE {
            self.counted_output += count_tokens(&self.pending_text);
            self.pending_text.clear();
        }
    }

    /// Final usage: the provider's if it sent one, else counted (input from the request).
    pub fn finish(&mut self, request: &Value) -> Usage {
        if let Some(u) = self.usage {
            return u;
        }
        self.parse_deferred();
        if let Some(u) = self.usage {
            return u;
        }
        self.counted_output += count_tokens(&self.pending_text);
        self.pending_text.clear();
        Usage {
            input: count_tokens(&request_text(request)),
            output: self.counted_output,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_usage_and_counts_without_it() {
        let req =
            json!({"messages":[{"role":"user","content":[{"type":"text","text":"hello world"}]}]});
        let ans = json!({"choices":[{"message":{"content":"hi there"}}],"usage":{"prompt_tokens":9,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":4}}});
        assert_eq!(
            usage_of_answer(&req, &ans),
            Usage {
                input: 9,
                output: 2,
                cached: 4,
                ..Default::default()
            }
        );
        let bare = json!({"choices":[{"message":{"content":"hi there"}}]});
        let u = usage_of_answer(&req, &bare);
        assert_eq!((u.input, u.output), (2, 2));
    }

    #[test]
    fn usage_from_bytes_matches_the_full_parse() {
        let req = json!({"messages":[{"role":"user","content":"hello world"}]});
        for ans in [
            r#"{"id":"x","choices":[{"message":{"content":"hi there"}}],"usage":{"prompt_tokens":9,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":4}}}"#,
            r#"{"choices":[{"message":{"content":"hi there"}}]}"#,
            r#"{"choices":[{"message":{"content":"hi there"}}],"usage":null}"#,
            r#"{"choices":[{"message":{"content":"hi"},"usage":{"prompt_tokens":3,"completion_tokens":1}}]}"#,
            r#"{"choices":[],"x_groq":{"usage":{"prompt_tokens":4,"completion_tokens":2}}}"#,
            r#"{"choices":[{"message":{"content":"a"}}],"x_groq":{"usage":{"prompt_tokens":4,"completion_tokens":2}}}"#,
            r#"{"choices":{"0":{"usage":{"prompt_tokens":5,"completion_tokens":5}}}}"#,
            r#"{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}"#,
            r#"{"usage":"none","choices":[{"text":"some words"}]}"#,
            r#"{"usage":{"input_tokens":7,"output_tokens":3,"prompt_cache_hit_tokens":2}}"#,
            r#"{"usage":{"prompt_tokens":null,"input_tokens":7,"completion_tokens":1.5,"prompt_tokens_details":null,"prompt_cache_hit_tokens":6}}"#,
            r#"{"usage":{"prompt_tokens":"9","completion_tokens":18446744073709551615,"prompt_tokens_details":{"cached_tokens":null},"prompt_cache_hit_tokens":6}}"#,
            r#"{"usage":{"prompt_tokens":[1],"completion_tokens":{"a":1},"prompt_tokens_details":{"audio_tokens":1},"prompt_cache_hit_tokens":6,"extra":{"x":[1,{"y":2}]}}}"#,
            r#"{"usage":{"prompt_tokens":-4,"prompt_tokens_details":[1,2]}}"#,
            r#"{"choices":[{"usage":null}],"x_groq":{"usage":{"prompt_tokens":4}}}"#,
            r#"{"choices":[{"message":{}}],"x_groq":{"usage":[1]}}"#,
            r#"{"id":"x","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4},"service_tier":"default","system_fingerprint":"fp_1","n":[1,{"a":"}"}],"z":null}"#,
            r#"{"choices":[{"message":{"content":"say \"usage\": {\"prompt_tokens\": 99}"}}],"usage":{"prompt_tokens":2}}"#,
            r#"{"usage":{"prompt_tokens":1},"meta":{"usage":{"prompt_tokens":50}}}"#,
            r#"{"usage":{"prompt_tokens":1},"list":[{"usage":{"prompt_tokens":50}}]}"#,
            r#"{"choices":[{"message":{"content":"x"},"usage":{"prompt_tokens":6}}],"y":1}"#,
            r#"{"usage":{"prompt_tokens":1}} trailing"#,
            r#"{"usage":{"prompt_tokens":1},}"#,
            r#"{"usage":{"prompt_tokens":1}, 5: 1}"#,
            r#"{"usage" : {"prompt_tokens":8} , "k" : "v" }  "#,
            r#"[1,2]"#,
            r#"not json"#,
            "",
        ] {
            let parsed: Value = serde_json::from_str(ans).unwrap_or_default();
            // The shortcut answers only for a root-level usage object, and then agrees.
            if let Some(u) = root_usage_from_the_end(ans.as_bytes()) {
                assert_eq!(Some(u), usage_from(&parsed), "{ans}");
            }
            assert_eq!(
                usage_of_answer_bytes(|| &req, ans.as_bytes()),
                usage_of_answer(&req, &parsed),
                "{ans}"
            );
        }
    }

    /// A token count reads as `Value::as_i64` reads the same value, from bytes and from a
    /// `Value` alike.
    #[test]
    fn a_count_follows_value_as_i64() {
        for s in [
            "0",
            "12",
            "-4",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "1.5",
            "12.0",
            "1e3",
            "\"9\"",
            "true",
            "null",
            "[1]",
            "{\"a\":[1,{\"b\":2}]}",
        ] {
            let v: Value = serde_json::from_str(s).unwrap();
            let from_bytes: Tokens = serde_json::from_str(s).unwrap();
            let from_value = Tokens::deserialize(&v).unwrap();
            assert_eq!(from_bytes.0, Some(v.as_i64()), "{s}");
            assert_eq!(from_value.0, Some(v.as_i64()), "{s}");
        }
    }

    #[test]
    fn root_usage_is_found_from_the_end() {
        let found = |s: &str| root_usage_from_the_end(s.as_bytes()).map(|u| u.input);
        assert_eq!(
            found(
                r#"{"choices":[],"usage":{"prompt_tokens":3},"service_tier":"default","system_fingerprint":"fp"}"#
            ),
            Some(3)
        );
        assert_eq!(
            found(r#"{"usage" : {"prompt_tokens":8} , "k" : [1, {"}": "{"}] }  "#),
            Some(8)
        );
        assert_eq!(
            found(r#"{"usage":{"prompt_tokens":1},"meta":{"usage":{"prompt_tokens":50}}}"#),
            None
        );
        assert_eq!(
            found(r#"{"choices":[{"usage":{"prompt_tokens":6}}]}"#),
            None
        );
        assert_eq!(found(r#"{"usage":null}"#), None);
    }

    #[test]
    fn stream_meter() {
        let req = json!({"messages":[{"role":"user","content":"hello"}]});
        let mut m = StreamMeter::default();
        assert_eq!(
            m.observe(br#"{"choices":[{"delta":{"content":"Hello"}}]}"#),
            Seen::Data
        );
        assert_eq!(
            m.observe(br#"{"choices":[{"delta":{"content":" world"}}]}"#),
            Seen::Data
        );
        let mut counted = StreamMeter::default();
        counted.observe(br#"{"choices":[{"delta":{"content":"Hello world"}}]}"#);
        assert_eq!(counted.finish(&req).output, 2);
        assert_eq!(
            m.observe(br#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#),
            Seen::UsageOnly
        );
        assert_eq!(m.observe(b"[DONE]"), Seen::Done);
        assert_eq!(
            m.finish(&req),
            Usage {
                input: 5,
                output: 2,
                ..Default::default()
            }
        );
        assert_eq!(m.observe(br#"{"error":{"message":"x"}}"#), Seen::Error);
    }

    /// Chunks put aside unparsed count exactly as parsed ones do, however long the stream
    /// (past the buffer's limit), and a chunk that finishes or errs is never put aside.
    #[test]
    fn deferred_chunks_count_as_parsed_ones() {
        let req = json!({"messages":[{"role":"user","content":"hello"}]});
        let (mut fast, mut parsed) = (StreamMeter::default(), StreamMeter::default());
        for i in 0..3000 {
            let chunk = json!({"id": "c", "choices": [{"index": 0, "delta": {"content": format!("word{i} \"usage\" ")}, "finish_reason": null}]});
            assert_eq!(fast.observe(chunk.to_string().as_bytes()), Seen::Data);
            parsed.observe_value(&chunk);
        }
        assert!(fast.deferred.len() < DEFER);
        assert_eq!(fast.finish(&req), parsed.finish(&req));
        assert!(parsed.finish(&req).output > 3000);

        assert!(only_text(
            br#"{"choices":[{"delta":{"content":"a"},"finish_reason" : null}],"usage":null}"#
        ));
        for decisive in [
            &br#"{"choices":[{"delta":{},"finish_reason" : "stop"}]}"#[..],
            br#"{"choices":[{"delta":{},"finish_reason":null},{"finish_reason":"length"}]}"#,
            br#"{"choices":[],"usage":{"prompt_tokens":1}}"#,
            br#"{"error":{"message":"x"}}"#,
            br#"{"choices":[],"x_groq":{}}"#,
        ] {
            assert!(
                !only_text(decisive),
                "{}",
                String::from_utf8_lossy(decisive)
            );
        }
        let mut m = StreamMeter::default();
        m.observe(br#"{"choices":[{"delta":{"content":"hi"},"finish_reason": "stop"}]}"#);
        assert!(m.finished);
    }

    #[test]
    fn usage_where_compatible_providers_put_it() {
        // Moonshot: inside the last choice; Groq: under x_groq; DeepSeek: cache hits.
        let mut m = StreamMeter::default();
        m.observe(br#"{"choices":[{"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":7,"completion_tokens":3}}]}"#);
        assert_eq!(
            (m.finish(&json!({})).input, m.finish(&json!({})).output),
            (7, 3)
        );
        let mut g = StreamMeter::default();
        let chunk = json!({"choices":[{"delta":{},"finish_reason":"stop"}],"x_groq":{"usage":{"prompt_tokens":4,"completion_tokens":2}}});
        g.observe_value(&chunk);
        assert_eq!(g.finish(&json!({})).input, 4);
        let ds = json!({"usage": {"prompt_tokens": 10, "completion_tokens": 1, "prompt_cache_hit_tokens": 6}});
        assert_eq!(usage_from(&ds).unwrap().cached, 6);
    }

    #[test]
    fn long_text_counted_in_slices() {
        let mut m = StreamMeter::default();
        let word =
            serde_json::to_vec(&json!({"choices":[{"delta":{"content":" lorem"}}]})).unwrap();
        for _ in 0..20_000 {
            m.observe(&word);
        }
        assert!(m.pending_text.len() < SLICE);
        assert_eq!(m.finish(&json!({})).output, 20_000);
    }
}
