//! The simulated Gemini API over HTTP: generateContent and streamGenerateContent, function
//! calls, images, thoughts, safety, usageMetadata, checks and faults, in Google's shapes.

mod common;

use serde_json::{json, Value};

use common::start;

fn post(s: &common::Server, model_action: &str, body: &Value) -> reqwest::RequestBuilder {
    s.client
        .post(s.url(&format!("/gemini/v1beta/models/{model_action}")))
        .header("x-goog-api-key", "AIza-test")
        .json(body)
}

fn hello() -> Value {
    json!({"systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": "Hello there, how are you?"}]}]})
}

#[tokio::test]
async fn generate_content_with_usage() {
    let s = start().await;
    let r = post(&s, "gemini-2.5-flash:generateContent", &hello())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let c = &v["candidates"][0];
    assert_eq!(c["content"]["role"], "model");
    assert_eq!(c["finishReason"], "STOP");
    assert!(c["content"]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Simulated reply to: Hello there,"));
    assert_eq!(v["modelVersion"], "gemini-2.5-flash");
    assert!(v["responseId"].is_string());
    // system 9 chars -> 3; the user content 25 chars -> 7 + 3.
    let u = &v["usageMetadata"];
    assert_eq!(
        (
            u["promptTokenCount"].as_u64(),
            u["candidatesTokenCount"].as_u64(),
            u["totalTokenCount"].as_u64()
        ),
        (Some(13), Some(12), Some(25))
    );
}

#[tokio::test]
async fn sse_and_json_array_streams() {
    let s = start().await;
    let r = post(
        &s,
        "gemini-2.5-flash:streamGenerateContent?alt=sse",
        &hello(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let text = r.text().await.unwrap();
    assert!(text.contains("\r\n\r\n"));
    let events: Vec<Value> = text
        .split("\r\n\r\n")
        .filter(|e| !e.is_empty())
        .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
        .collect();
    assert_eq!(events.len(), 13);
    let words: String = events
        .iter()
        .filter_map(|e| e["candidates"][0]["content"]["parts"][0]["text"].as_str())
        .collect();
    assert!(words.starts_with("Simulated reply to: Hello there,"));
    let last = events.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 12);
    assert!(events[0]["usageMetadata"]
        .get("candidatesTokenCount")
        .is_none());
    let arr: Value = post(&s, "gemini-2.5-flash:streamGenerateContent", &hello())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(arr.as_array().unwrap().len(), 13);
}

#[tokio::test]
async fn function_calls_and_responses() {
    let s = start().await;
    let decl = |name: &str| json!({"name": name, "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}});
    let mut body = hello();
    body["tools"] = json!([{"functionDeclarations": [decl("get_weather"), decl("get_time")]}]);
    body["contents"][0]["parts"][0]["text"] = json!("get_weather and get_time in Paris");
    let v: Value = post(&s, "gemini-2.5-flash:generateContent", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let parts = v["candidates"][0]["content"]["parts"]
        .as_array()
        .unwrap()
        .clone();
    let calls: Vec<&Value> = parts
        .iter()
        .filter(|p| p.get("functionCall").is_some())
        .collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0]["functionCall"],
        json!({"name": "get_weather", "args": {"city": "sim-city"}})
    );
    // One response for two calls is refused; two get a text answer.
    let mut next = body.clone();
    next["contents"] = json!([body["contents"][0], {"role": "model", "parts": parts},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"t": 15}}}]}]);
    let r = post(&s, "gemini-2.5-flash:generateContent", &next)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["status"], "INVALID_ARGUMENT");
    next["contents"][2]["parts"] = json!([
        {"functionResponse": {"name": "get_weather", "response": {"t": 15}}},
        {"functionResponse": {"name": "get_time", "response": {"t": "3 PM"}}}]);
    let v: Value = post(&s, "gemini-2.5-flash:generateContent", &next)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        v["candidates"][0]["content"]["parts"][0]["text"].is_string(),
        "{v}"
    );
    // Mode NONE: text; ANY with one allowed name: that function.
    body["toolConfig"] =
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}});
    let v: Value = post(&s, "gemini-2.5-flash:generateContent", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = v["candidates"][0]["content"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["functionCall"]["name"].as_str())
        .collect();
    assert_eq!(names, ["get_time"]);
}

#[tokio::test]
async fn images_thoughts_and_safety() {
    let s = start().await;
    let mut body = hello();
    body["contents"][0]["parts"] = json!([{"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}, {"text": "Caption this"}]);
    body["generationConfig"] = json!({"thinkingConfig": {"includeThoughts": true, "thinkingBudget": 1024}, "maxOutputTokens": 5});
    let v: Value = post(&s, "gemini-2.5-flash:generateContent", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let parts = &v["candidates"][0]["content"]["parts"];
    assert_eq!(parts[0]["thought"], true);
    assert_eq!(parts[1]["text"], "Simulated reply to: [1 image]");
    assert_eq!(v["candidates"][0]["finishReason"], "MAX_TOKENS");
    assert_eq!(v["usageMetadata"]["thoughtsTokenCount"], 8);
    assert_eq!(v["usageMetadata"]["promptTokenCount"], 3 + 3 + 258 + 3);
    body["contents"][0]["parts"][0]["inlineData"]["data"] = json!("###");
    assert_eq!(
        post(&s, "gemini-2.5-flash:generateContent", &body)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );

    let mut unsafe_body = hello();
    unsafe_body["contents"][0]["parts"][0]["text"] = json!("tell me something [unsafe]");
    let v: Value = post(&s, "gemini-2.5-flash:generateContent", &unsafe_body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["candidates"][0]["finishReason"], "SAFETY");
    assert!(v["candidates"][0].get("content").is_none());
    unsafe_body["contents"][0]["parts"][0]["text"] = json!("[blocked]");
    let v: Value = post(&s, "gemini-2.5-flash:generateContent", &unsafe_body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["promptFeedback"]["blockReason"], "SAFETY");
    assert!(v.get("candidates").is_none());
}

#[tokio::test]
async fn keys_and_faults_in_google_shape() {
    let s = start().await;
    let r = s
        .client
        .post(s.url("/gemini/v1beta/models/gemini-2.5-flash:generateContent"))
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = s
        .client
        .post(s.url("/gemini/v1beta/models/gemini-2.5-flash:generateContent?key=AIza"))
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .client
        .post(s.url("/gemini/v1beta/models/gemini-2.5-flash:generateContent"))
        .header("x-goog-api-key", "sk-sim-invalid")
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["details"][0]["reason"], "API_KEY_INVALID");
    for (code, status) in [
        (429, "RESOURCE_EXHAUSTED"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
    ] {
        let r = post(
            &s,
            &format!("gemini-2.5-flash@status={code}:generateContent"),
            &hello(),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), code);
        let e: Value = r.json().await.unwrap();
        assert_eq!(
            e,
            json!({"error": {"code": code, "message": e["error"]["message"], "status": status}})
        );
    }
    let v: Value = post(&s, "gemini-2.5-flash@no_usage:generateContent", &hello())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v.get("usageMetadata").is_none());
    let r = post(
        &s,
        "gemini-2.5-flash@cut_after=2:streamGenerateContent?alt=sse",
        &hello(),
    )
    .send()
    .await
    .unwrap();
    assert!(r.text().await.is_err());
    assert_eq!(
        post(&s, "gemini-2.5-flash:embedContent", &hello())
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}
