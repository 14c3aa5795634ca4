//! Golden tests: Anthropic Messages ⇄ OpenAI chat, both ways, on payloads from the
//! providers' documentation (see tests/fixtures/*/README.md).

mod common;

use common::{assert_same, events, json, named_events, CREATED};
use serde_json::{json, Value};
use switchyard_wire::anthropic::{self, Options, StreamDecoder, StreamEncoder};

const OPTS: Options = Options {
    default_max_tokens: 4096,
};

fn to_anthropic(openai: &Value) -> Value {
    let model = openai["model"].as_str().unwrap();
    anthropic::request_from_openai(openai, model, &OPTS)
}

// --- to an Anthropic channel ------------------------------------------------------------

#[test]
fn streamed_tool_request_becomes_the_documented_request() {
    let got = to_anthropic(&json("anthropic/tools_stream_request.openai.json"));
    assert_same(
        &got,
        &json("anthropic/tools_stream_request.anthropic.json"),
        "request",
    );
}

#[test]
fn conversation_with_images_parallel_tools_and_results() {
    let got = to_anthropic(&json("anthropic/conversation.openai.json"));
    assert_same(
        &got,
        &json("anthropic/conversation.anthropic.json"),
        "request",
    );
}

#[test]
fn max_tokens_default_and_thinking_from_reasoning_effort() {
    let req =
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.2});
    let got = to_anthropic(&req);
    assert_eq!(got["max_tokens"], 4096);
    assert_eq!(got["temperature"], 0.2);
    let req = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1000,
        "reasoning_effort": "medium", "temperature": 0.2});
    let got = to_anthropic(&req);
    assert_eq!(
        got["thinking"],
        json!({"type": "enabled", "budget_tokens": 4096})
    );
    // The budget must fit under max_tokens; thinking takes no temperature.
    assert_eq!(got["max_tokens"], 4096 + 4096);
    assert!(got.get("temperature").is_none());
    // A caller's own `thinking` object passes as it is.
    let req = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20000,
        "thinking": {"type": "enabled", "budget_tokens": 16000}});
    assert_eq!(to_anthropic(&req)["thinking"]["budget_tokens"], 16000);
}

#[test]
fn tool_choice_none_and_auto() {
    let tools = json!([{"type": "function", "function": {"name": "f"}}]);
    for (choice, expected) in [
        (json!("none"), json!({"type": "none"})),
        (json!("auto"), json!({"type": "auto"})),
        (json!("required"), json!({"type": "any"})),
    ] {
        let req = json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": tools, "tool_choice": choice});
        let got = to_anthropic(&req);
        assert_eq!(got["tool_choice"], expected);
        assert_eq!(
            got["tools"][0]["input_schema"],
            json!({"type": "object", "properties": {}})
        );
    }
}

#[test]
fn tool_use_answer_becomes_a_tool_call() {
    let got =
        anthropic::answer_to_openai(&json("anthropic/tool_use_answer.anthropic.json"), CREATED);
    assert_same(
        &got,
        &json("anthropic/tool_use_answer.openai.json"),
        "answer",
    );
}

#[test]
fn thinking_and_cache_usage() {
    let got = anthropic::answer_to_openai(
        &json("anthropic/thinking_cached_answer.anthropic.json"),
        CREATED,
    );
    assert_same(
        &got,
        &json("anthropic/thinking_cached_answer.openai.json"),
        "answer",
    );
}

#[test]
fn stop_reasons() {
    for (stop, finish) in [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
    ] {
        assert_eq!(anthropic::finish_reason(stop), finish, "{stop}");
    }
}

fn decode(fixture: &str) -> Vec<Value> {
    let mut d = StreamDecoder::new(CREATED);
    let mut out: Vec<Value> = events(fixture).iter().flat_map(|e| d.event(e)).collect();
    out.extend(d.finish());
    out
}

#[test]
fn tool_use_stream_becomes_chunks() {
    let got = Value::Array(decode("anthropic/tools_stream.anthropic.sse"));
    assert_same(&got, &json("anthropic/tools_stream.openai.json"), "chunks");
}

#[test]
fn thinking_stream_becomes_reasoning_content() {
    let got = Value::Array(decode("anthropic/thinking_stream.anthropic.sse"));
    assert_same(
        &got,
        &json("anthropic/thinking_stream.openai.json"),
        "chunks",
    );
}

#[test]
fn server_tools_are_skipped_and_final_usage_wins() {
    let got = Value::Array(decode("anthropic/web_search_stream.anthropic.sse"));
    assert_same(
        &got,
        &json("anthropic/web_search_stream.openai.json"),
        "chunks",
    );
}

#[test]
fn error_event_becomes_an_error_chunk() {
    let mut d = StreamDecoder::new(CREATED);
    let got = d.event(
        &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    );
    assert_eq!(
        got,
        vec![
            json!({"error": {"message": "Overloaded", "type": "overloaded_error", "param": null, "code": null}})
        ]
    );
}

// --- from a caller of /v1/messages ------------------------------------------------------

#[test]
fn messages_request_becomes_the_canonical_chat_request() {
    let got = anthropic::request_to_openai(&json("anthropic/conversation.anthropic.json")).unwrap();
    assert_same(
        &got,
        &json("anthropic/conversation.from_anthropic.openai.json"),
        "request",
    );
}

#[test]
fn documented_request_round_trips() {
    // The documented streamed tool request, to OpenAI and back, is the same request.
    let doc = json("anthropic/tools_stream_request.anthropic.json");
    let openai = anthropic::request_to_openai(&doc).unwrap();
    assert_eq!(openai["stream_options"], json!({"include_usage": true}));
    assert_same(&to_anthropic(&openai), &doc, "round trip");
}

#[test]
fn system_blocks_thinking_and_bad_requests() {
    let req = json!({"model": "m", "max_tokens": 10, "system": [{"type": "text", "text": "a"}, {"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}}],
        "thinking": {"type": "enabled", "budget_tokens": 10000}, "metadata": {"user_id": "u"},
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]});
    let got = anthropic::request_to_openai(&req).unwrap();
    assert_eq!(
        got["messages"][0],
        json!({"role": "system", "content": "a\n\nb"})
    );
    assert_eq!(got["messages"][1], json!({"role": "user", "content": "hi"}));
    assert_eq!(got["reasoning_effort"], "medium");
    assert_eq!(got["user"], "u");
    assert!(anthropic::request_to_openai(&json!({"messages": []})).is_err());
    assert!(anthropic::request_to_openai(
        &json!({"model": "m", "messages": [{"role": "system", "content": "x"}]})
    )
    .is_err());
}

#[test]
fn openai_answers_become_messages() {
    let got = anthropic::answer_from_openai(&json("openai/answer.json"));
    assert_same(
        &got,
        &json("anthropic/answer.from_openai.anthropic.json"),
        "message",
    );
    let got = anthropic::answer_from_openai(&json("openai/tool_answer.json"));
    assert_same(
        &got,
        &json("anthropic/tool_answer.from_openai.anthropic.json"),
        "message",
    );
}

fn encode(fixture: &str, model: &str) -> Vec<(String, Value)> {
    let mut e = StreamEncoder::new(model);
    let mut out: Vec<(&str, Value)> = events(fixture).iter().flat_map(|c| e.chunk(c)).collect();
    out.extend(e.finish());
    out.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
}

fn assert_events(got: Vec<(String, Value)>, expected: Vec<(String, Value)>) {
    let names = |v: &[(String, Value)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&got), names(&expected), "event order");
    for (i, ((gn, g), (_, e))) in got.iter().zip(&expected).enumerate() {
        assert_same(g, e, &format!("event {i} ({gn})"));
        assert_eq!(
            g["type"],
            Value::String(gn.clone()),
            "event name = data type"
        );
    }
}

#[test]
fn openai_stream_becomes_anthropic_events() {
    let got = encode("openai/stream.sse", "gpt-4o-mini");
    assert_events(
        got,
        named_events("anthropic/stream.from_openai.anthropic.sse"),
    );
}

#[test]
fn streamed_tool_call_becomes_a_tool_use_block() {
    let got = encode("openai/tool_stream.sse", "gpt-4.1");
    assert_events(
        got,
        named_events("anthropic/tool_stream.from_openai.anthropic.sse"),
    );
}

#[test]
fn reasoning_then_text_then_parallel_calls_are_separate_blocks() {
    let c = |delta: Value, finish: Value| json!({"id": "x", "model": "deepseek-reasoner", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    let chunks = [
        c(
            json!({"role": "assistant", "reasoning_content": "think"}),
            Value::Null,
        ),
        c(json!({"content": "ok"}), Value::Null),
        c(
            json!({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}]}),
            Value::Null,
        ),
        c(
            json!({"tool_calls": [{"index": 1, "id": "b", "function": {"name": "g", "arguments": "{\"x\":1}"}}]}),
            Value::Null,
        ),
        c(json!({}), json!("tool_calls")),
    ];
    let mut e = StreamEncoder::new("m");
    let mut got: Vec<(&str, Value)> = chunks.iter().flat_map(|c| e.chunk(c)).collect();
    got.extend(e.finish());
    let starts: Vec<(u64, &str)> = got
        .iter()
        .filter(|(n, _)| *n == "content_block_start")
        .map(|(_, v)| {
            (
                v["index"].as_u64().unwrap(),
                v["content_block"]["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        starts,
        vec![
            (0, "thinking"),
            (1, "text"),
            (2, "tool_use"),
            (3, "tool_use")
        ]
    );
    let stops = got
        .iter()
        .filter(|(n, _)| *n == "content_block_stop")
        .count();
    assert_eq!(stops, 4);
    let delta = got.iter().find(|(n, _)| *n == "message_delta").unwrap();
    assert_eq!(delta.1["delta"]["stop_reason"], "tool_use");
    assert_eq!(got.last().unwrap().0, "message_stop");
}

#[test]
fn errors_and_model_lists() {
    assert_eq!(
        anthropic::error_body(529, "Overloaded"),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    for (status, kind) in [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (502, "api_error"),
    ] {
        assert_eq!(anthropic::error_type(status), kind, "{status}");
    }
    let list = anthropic::model_list(&["a".into(), "b".into()]);
    assert_eq!(list["first_id"], "a");
    assert_eq!(list["last_id"], "b");
    assert_eq!(list["has_more"], false);
    assert_eq!(list["data"][1]["type"], "model");
}
