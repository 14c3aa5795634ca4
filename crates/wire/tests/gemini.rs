//! Golden tests: Gemini generateContent ⇄ OpenAI chat, both ways, on payloads from the
//! providers' documentation (see tests/fixtures/*/README.md).

mod common;

use common::{assert_same, events, json, CREATED};
use serde_json::{json, Value};
use switchyard_wire::gemini::{self, StreamDecoder, StreamEncoder};

/// Tool call ids a translation makes up: check their shape, then compare the rest.
fn generated_ids(v: &mut Value) -> Vec<String> {
    let mut ids = Vec::new();
    walk(v, &mut |k, x| {
        if (k == "id" || k == "tool_call_id") && x.as_str().is_some_and(|s| s.starts_with("call_"))
        {
            ids.push(x.as_str().unwrap().to_string());
            *x = json!("<generated>");
        }
    });
    ids
}

fn walk(v: &mut Value, f: &mut impl FnMut(&str, &mut Value)) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                f(k, x);
                walk(x, f);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| walk(x, f)),
        _ => {}
    }
}

// --- to a Gemini channel ----------------------------------------------------------------

#[test]
fn urls() {
    assert_eq!(
        gemini::url(
            "https://generativelanguage.googleapis.com",
            "gemini-2.5-flash",
            false
        ),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(
        gemini::url("https://generativelanguage.googleapis.com/v1beta/", "gemini-2.5-flash", true),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
}

#[test]
fn function_declaration_request_is_the_documented_one() {
    let got = gemini::request_from_openai(&json("gemini/meeting_request.openai.json"));
    assert_same(&got, &json("gemini/meeting_request.gemini.json"), "request");
}

#[test]
fn conversation_with_system_image_call_and_response() {
    let got = gemini::request_from_openai(&json("gemini/conversation.openai.json"));
    assert_same(&got, &json("gemini/conversation.gemini.json"), "request");
}

#[test]
fn tool_choice_response_format_and_reasoning() {
    let base = json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "f"}}]});
    for (choice, expected) in [
        (json!("none"), json!({"mode": "NONE"})),
        (json!("required"), json!({"mode": "ANY"})),
        (
            json!({"type": "function", "function": {"name": "f"}}),
            json!({"mode": "ANY", "allowedFunctionNames": ["f"]}),
        ),
    ] {
        let mut req = base.clone();
        req["tool_choice"] = choice;
        assert_eq!(
            gemini::request_from_openai(&req)["toolConfig"]["functionCallingConfig"],
            expected
        );
    }
    let mut req = base.clone();
    req["response_format"] =
        json!({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}});
    req["reasoning_effort"] = json!("low");
    req["n"] = json!(2);
    let g = &gemini::request_from_openai(&req)["generationConfig"];
    assert_eq!(g["responseMimeType"], "application/json");
    assert_eq!(g["responseJsonSchema"], json!({"type": "object"}));
    assert_eq!(
        g["thinkingConfig"],
        json!({"thinkingBudget": 1024, "includeThoughts": true})
    );
    assert_eq!(g["candidateCount"], 2);
}

#[test]
fn image_urls_become_file_data() {
    let req = json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/cat.PNG?x=1"}}]}]});
    assert_eq!(
        gemini::request_from_openai(&req)["contents"][0]["parts"][0],
        json!({"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/cat.PNG?x=1"}})
    );
}

#[test]
fn function_call_answer() {
    let mut got = gemini::answer_to_openai(
        &json("gemini/meeting_answer.gemini.json"),
        "gemini-2.5-flash",
        CREATED,
    );
    assert_eq!(generated_ids(&mut got).len(), 1);
    assert_same(&got, &json("gemini/meeting_answer.openai.json"), "answer");
}

#[test]
fn thoughts_and_cached_tokens() {
    let got = gemini::answer_to_openai(&json("gemini/thinking_answer.gemini.json"), "x", CREATED);
    assert_same(&got, &json("gemini/thinking_answer.openai.json"), "answer");
}

#[test]
fn safety_blocks_end_with_content_filter() {
    for fixture in [
        "gemini/safety_answer.gemini.json",
        "gemini/prompt_blocked.gemini.json",
    ] {
        let got = gemini::answer_to_openai(&json(fixture), "gemini-2.5-flash", CREATED);
        assert_eq!(
            got["choices"][0]["finish_reason"], "content_filter",
            "{fixture}"
        );
        assert_eq!(
            got["choices"][0]["message"],
            json!({"role": "assistant", "content": ""}),
            "{fixture}"
        );
        assert_eq!(got["usage"]["completion_tokens"], 0, "{fixture}");
    }
    for (reason, finish) in [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("RECITATION", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "stop"),
    ] {
        assert_eq!(gemini::finish_reason(reason), finish, "{reason}");
    }
}

fn decode(fixture: &str) -> Value {
    let mut d = StreamDecoder::new("requested-model", CREATED);
    let mut out: Vec<Value> = events(fixture).iter().flat_map(|e| d.event(e)).collect();
    out.extend(d.finish());
    Value::Array(out)
}

#[test]
fn text_stream_becomes_chunks_with_the_last_usage() {
    assert_same(
        &decode("gemini/text_stream.gemini.sse"),
        &json("gemini/text_stream.openai.json"),
        "chunks",
    );
}

#[test]
fn streamed_function_call_is_one_whole_tool_call() {
    let mut got = decode("gemini/function_stream.gemini.sse");
    assert_eq!(generated_ids(&mut got).len(), 1);
    assert_same(&got, &json("gemini/function_stream.openai.json"), "chunks");
}

#[test]
fn blocked_prompt_in_a_stream() {
    let mut d = StreamDecoder::new("m", CREATED);
    let got = d.event(&json("gemini/prompt_blocked.gemini.json"));
    assert_eq!(got.len(), 2);
    assert_eq!(got[1]["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(d.finish()[0]["usage"]["prompt_tokens"], 8);
}

#[test]
fn errors_in_streams_and_invalid_keys() {
    let mut d = StreamDecoder::new("m", CREATED);
    let got = d.event(&json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}));
    assert_eq!(got[0]["error"]["message"], "The model is overloaded.");
    let bad_key = json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}});
    assert!(gemini::is_invalid_key(&bad_key));
    assert!(!gemini::is_invalid_key(&gemini::error_body(400, "x")));
    assert_eq!(
        gemini::error_body(429, "slow down"),
        json!({"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}})
    );
}

// --- from a caller of the Gemini front door ---------------------------------------------

#[test]
fn generate_content_request_becomes_the_canonical_chat_request() {
    let mut got = gemini::request_to_openai(
        &json("gemini/conversation.gemini.json"),
        "gemini-2.5-flash",
        false,
    )
    .unwrap();
    let ids = generated_ids(&mut got);
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1], "the response answers the call");
    assert_same(
        &got,
        &json("gemini/conversation.from_gemini.openai.json"),
        "request",
    );
}

#[test]
fn documented_request_round_trips_and_sdk_spellings_are_read() {
    let doc = json("gemini/meeting_request.gemini.json");
    let openai = gemini::request_to_openai(&doc, "gemini-2.5-flash", true).unwrap();
    assert_eq!(openai["stream"], true);
    assert_eq!(openai["stream_options"], json!({"include_usage": true}));
    assert_same(&gemini::request_from_openai(&openai), &doc, "round trip");
    // snake_case (proto names), upper-case schema types, URL-safe base64 from Google's SDKs.
    let sdk = json!({"system_instruction": {"parts": [{"text": "be brief"}]},
        "contents": [{"role": "user", "parts": [{"inline_data": {"mime_type": "image/png", "data": "ab-_"}}]}],
        "tools": [{"function_declarations": [{"name": "f", "parameters": {"type": "OBJECT", "properties": {"x": {"type": "STRING"}}}}]}],
        "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["f"]}},
        "generation_config": {"max_output_tokens": 5, "response_mime_type": "application/json", "thinking_config": {"thinking_budget": 0}}});
    let got = gemini::request_to_openai(&sdk, "m", false).unwrap();
    assert_eq!(
        got["messages"][0],
        json!({"role": "system", "content": "be brief"})
    );
    assert_eq!(
        got["messages"][1]["content"][0]["image_url"]["url"],
        "data:image/png;base64,ab+/"
    );
    assert_eq!(
        got["tools"][0]["function"]["parameters"],
        json!({"type": "object", "properties": {"x": {"type": "string"}}})
    );
    assert_eq!(
        got["tool_choice"],
        json!({"type": "function", "function": {"name": "f"}})
    );
    assert_eq!(got["max_tokens"], 5);
    assert_eq!(got["response_format"], json!({"type": "json_object"}));
    assert_eq!(got["reasoning_effort"], "minimal");
    assert!(gemini::request_to_openai(&json!({}), "m", false).is_err());
}

#[test]
fn openai_answers_become_generate_content_responses() {
    let got = gemini::answer_from_openai(&json("openai/answer.json"));
    assert_same(
        &got,
        &json("gemini/answer.from_openai.gemini.json"),
        "response",
    );
    let got = gemini::answer_from_openai(&json("openai/tool_answer.json"));
    assert_same(
        &got,
        &json("gemini/tool_answer.from_openai.gemini.json"),
        "response",
    );
}

fn encode(fixture: &str) -> Value {
    let mut e = StreamEncoder::new("requested-model");
    let mut out: Vec<Value> = events(fixture).iter().flat_map(|c| e.chunk(c)).collect();
    out.extend(e.finish());
    Value::Array(out)
}

#[test]
fn openai_stream_becomes_gemini_events() {
    let expected = Value::Array(events("gemini/stream.from_openai.gemini.sse"));
    assert_same(&encode("openai/stream.sse"), &expected, "events");
}

#[test]
fn streamed_tool_call_arrives_whole() {
    let expected = Value::Array(events("gemini/tool_stream.from_openai.gemini.sse"));
    assert_same(&encode("openai/tool_stream.sse"), &expected, "events");
}

#[test]
fn model_lists() {
    let list = gemini::model_list(&["gemini-2.5-flash".into()]);
    assert_eq!(list["models"][0]["name"], "models/gemini-2.5-flash");
    assert!(list["models"][0]["supportedGenerationMethods"]
        .as_array()
        .unwrap()
        .contains(&json!("generateContent")));
}
