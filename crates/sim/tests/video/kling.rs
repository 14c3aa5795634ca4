//! Kling: JWT auth, the code/message/data envelope, the two families.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::common::Server;
use crate::{assert_mp4, body, follow, names, start};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A token as Kling's docs sign it: HS256, iss = access key, exp, nbf.
fn jwt(secret: &str, exp_in: i64, nbf_in: i64) -> String {
    let enc = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let header = enc(json!({"alg": "HS256", "typ": "JWT"}));
    let claims = enc(json!({"iss": "ak-test", "exp": now() + exp_in, "nbf": now() + nbf_in}));
    let signing = format!("{header}.{claims}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(signing.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing}.{sig}")
}

fn good() -> String {
    jwt(switchyard_sim::KLING_SECRET, 1800, -5)
}

fn post(s: &Server, path: &str, body: &Value) -> RequestBuilder {
    s.client.post(s.url(path)).bearer_auth(good()).json(body)
}

fn get(s: &Server, path: &str) -> RequestBuilder {
    s.client.get(s.url(path)).bearer_auth(good())
}

async fn create(s: &Server, path: &str, body: &Value) -> Value {
    let resp = post(s, path, body).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{body}");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["code"], 0, "{v}");
    v
}

fn status(v: &Value) -> String {
    v["data"]["task_status"].as_str().unwrap_or("?").to_owned()
}

/// Assert a Kling error: HTTP status, service code, and a request id.
async fn assert_error(resp: reqwest::Response, http: u16, code: u64) {
    assert_eq!(resp.status().as_u16(), http);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["code"], code, "{v}");
    assert!(v["message"].is_string());
    assert!(v["request_id"].is_string());
}

#[tokio::test]
async fn text2video_runs_to_succeed() {
    let s = start().await;
    let req = json!({"model_name": "kling-v2-master", "prompt": "a koi pond",
        "duration": "10", "external_task_id": "my-42"});
    let created = create(&s, "/v1/videos/text2video", &req).await;
    assert_eq!(created["message"], "SUCCEED");
    assert!(created["request_id"].is_string());
    let data = &created["data"];
    let id = data["task_id"].as_str().unwrap().to_owned();
    assert!(
        id.len() >= 18 && id.bytes().all(|c| c.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(data["task_status"], "submitted");
    assert_eq!(data["task_info"]["external_task_id"], "my-42");
    let created_at = data["created_at"].as_u64().unwrap();
    assert!(created_at > 1_600_000_000_000, "milliseconds: {created_at}");
    assert_eq!(data["updated_at"], created_at);
    let auth = s.sim.last_header("/v1/videos/text2video", "authorization");
    assert!(auth.unwrap().starts_with("Bearer ey"));

    let path = format!("/v1/videos/text2video/{id}");
    let seen = follow(
        Some(created),
        || get(&s, &path),
        status,
        &["succeed", "failed"],
    );
    let seen = seen.await;
    assert_eq!(names(&seen), ["submitted", "processing", "succeed"]);
    let running = &body(&seen, "processing")["data"];
    assert!(running.get("task_result").is_none());
    assert_eq!(running["task_status_msg"], "");
    assert!(running["updated_at"].as_u64().unwrap() > created_at);
    let done = &body(&seen, "succeed")["data"];
    let video = &done["task_result"]["videos"][0];
    assert_eq!(video["url"], s.url("/sim/files/video.mp4"));
    assert_eq!(video["duration"], "10");
    assert!(video["id"].is_string());
    assert_mp4(&s, video["url"].as_str().unwrap()).await;

    // The external id finds the task too, but only on its own family.
    let by_ext = get(&s, "/v1/videos/text2video/my-42").send().await.unwrap();
    let by_ext: Value = by_ext.json().await.unwrap();
    assert_eq!(by_ext["data"]["task_id"], id.as_str());
    let wrong = get(&s, &format!("/v1/videos/image2video/{id}"));
    assert_error(wrong.send().await.unwrap(), 404, 1203).await;
}

#[tokio::test]
async fn image2video_needs_an_image() {
    let s = start().await;
    let req = json!({"model_name": "kling-v1-6", "image": "https://example.com/a.jpg"});
    let created = create(&s, "/v1/videos/image2video", &req).await;
    let id = created["data"]["task_id"].as_str().unwrap().to_owned();
    let sent = s.sim.last_body("/v1/videos/image2video").unwrap();
    assert_eq!(sent["image"], "https://example.com/a.jpg");
    let path = format!("/v1/videos/image2video/{id}");
    let seen = follow(None, || get(&s, &path), status, &["succeed", "failed"]).await;
    let done = &seen.last().unwrap().1["data"];
    assert_eq!(done["task_status"], "succeed");
    assert_eq!(done["task_result"]["videos"][0]["duration"], "5");
    let wrong = get(&s, &format!("/v1/videos/text2video/{id}"));
    assert_error(wrong.send().await.unwrap(), 404, 1203).await;

    let bad = [
        ("/v1/videos/image2video", json!({"prompt": "no image"})),
        (
            "/v1/videos/image2video",
            json!({"image": "data:image/png;base64,AAAA"}),
        ),
        (
            "/v1/videos/text2video",
            json!({"prompt": "x", "duration": 5}),
        ),
        (
            "/v1/videos/text2video",
            json!({"prompt": "x", "duration": "7"}),
        ),
        ("/v1/videos/text2video", json!({"prompt": ""})),
        (
            "/v1/videos/text2video",
            json!({"prompt": "x", "mode": "max"}),
        ),
        (
            "/v1/videos/text2video",
            json!({"prompt": "x", "cfg_scale": 2}),
        ),
    ];
    for (path, req) in bad {
        let resp = post(&s, path, &req).send().await.unwrap();
        assert_error(resp, 400, 1201).await;
    }
}

#[tokio::test]
async fn jwt_auth_failures() {
    let s = start().await;
    let url = s.url("/v1/videos/text2video");
    let req = json!({"prompt": "x"});
    let resp = s.client.post(&url).json(&req).send().await.unwrap();
    assert_error(resp, 401, 1001).await;
    let cases = [
        (jwt("not-the-secret", 1800, -5), 1000),
        ("sk-plain-key".to_owned(), 1002),
        (jwt(switchyard_sim::KLING_SECRET, -10, -60), 1004),
        (jwt(switchyard_sim::KLING_SECRET, 1800, 60), 1003),
    ];
    for (token, code) in cases {
        let resp = s.client.post(&url).bearer_auth(token).json(&req);
        assert_error(resp.send().await.unwrap(), 401, code).await;
    }
    let poll = s.client.get(s.url("/v1/videos/text2video/1"));
    assert_error(poll.send().await.unwrap(), 401, 1001).await;
}

#[tokio::test]
async fn failures_and_faults() {
    let s = start().await;
    let cases = [
        (json!({"prompt": "a storm [fail]"}), None),
        (json!({"prompt": "a storm"}), Some("task_fail")),
    ];
    for (req, header) in cases {
        let mut call = post(&s, "/v1/videos/text2video", &req);
        if let Some(spec) = header {
            call = call.header("x-sim-fault", spec);
        }
        let created: Value = call.send().await.unwrap().json().await.unwrap();
        let id = created["data"]["task_id"].as_str().unwrap().to_owned();
        let path = format!("/v1/videos/text2video/{id}");
        let seen = follow(None, || get(&s, &path), status, &["succeed", "failed"]).await;
        let data = &seen.last().unwrap().1["data"];
        assert_eq!(data["task_status"], "failed", "{req}");
        assert_eq!(data["task_status_msg"], "simulated generation failure");
        assert!(data.get("task_result").is_none());
    }
    let limited = post(&s, "/v1/videos/text2video", &json!({"prompt": "x"}));
    let resp = limited
        .header("x-sim-fault", "status=429")
        .send()
        .await
        .unwrap();
    assert_error(resp, 429, 1302).await;
}
