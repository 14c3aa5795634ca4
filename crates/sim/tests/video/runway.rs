//! Runway: `{id}` creates, PENDING → RUNNING → SUCCEEDED tasks, cancel, and
//! the version header on every call.

use reqwest::{RequestBuilder, StatusCode};
use serde_json::{json, Value};

use crate::common::Server;
use crate::{assert_mp4, body, field, follow, names, start};

const VERSION: &str = "2024-11-06";

fn post(s: &Server, path: &str, body: &Value) -> RequestBuilder {
    s.post(path, body).header("X-Runway-Version", VERSION)
}

fn get(s: &Server, path: &str) -> RequestBuilder {
    s.get(path).header("X-Runway-Version", VERSION)
}

fn delete(s: &Server, path: &str) -> RequestBuilder {
    let req = s.client.delete(s.url(path)).bearer_auth("key_sim");
    req.header("X-Runway-Version", VERSION)
}

async fn create(s: &Server, path: &str, body: &Value) -> String {
    let resp = post(s, path, body).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{body}");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v.as_object().unwrap().len(), 1, "only the id: {v}");
    v["id"].as_str().unwrap().to_owned()
}

fn image_request(prompt: &str) -> Value {
    json!({"model": "gen4_turbo", "promptImage": "https://example.com/cat.jpg",
        "promptText": prompt, "ratio": "1280:720", "duration": 5})
}

#[tokio::test]
async fn image_to_video_runs_to_success() {
    let s = start().await;
    let id = create(&s, "/v1/image_to_video", &image_request("a cat")).await;
    let sent = s.sim.last_body("/v1/image_to_video").unwrap();
    assert_eq!(sent["promptImage"], "https://example.com/cat.jpg");

    let path = format!("/v1/tasks/{id}");
    let seen = follow(
        None,
        || get(&s, &path),
        field("status"),
        &["SUCCEEDED", "FAILED"],
    );
    let seen = seen.await;
    assert_eq!(names(&seen), ["PENDING", "RUNNING", "SUCCEEDED"]);
    let pending = body(&seen, "PENDING");
    assert_eq!(pending["id"], id.as_str());
    assert!(pending["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(pending.get("progress").is_none());
    let progress = body(&seen, "RUNNING")["progress"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&progress), "{progress}");
    let done = body(&seen, "SUCCEEDED");
    assert!(done.get("progress").is_none());
    let output = done["output"].as_array().unwrap();
    assert_eq!(output.len(), 1);
    assert_eq!(output[0], s.url("/sim/files/video.mp4"));
    assert_mp4(&s, output[0].as_str().unwrap()).await;
    let version = s.sim.last_header("/v1/tasks", "x-runway-version");
    assert_eq!(version.as_deref(), Some(VERSION));
}

#[tokio::test]
async fn progress_rises_while_running() {
    let s = start().await;
    s.sim.set_task_timing(0, 2000);
    let req = json!({"model": "gen4.5", "promptText": "x"});
    let id = create(&s, "/v1/text_to_video", &req).await;
    let path = format!("/v1/tasks/{id}");
    let first: Value = get(&s, &path).send().await.unwrap().json().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let later: Value = get(&s, &path).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (first["status"].as_str(), later["status"].as_str()),
        (Some("RUNNING"), Some("RUNNING"))
    );
    assert!(later["progress"].as_f64() > first["progress"].as_f64());
}

#[tokio::test]
async fn failures_by_prompt_and_fault() {
    let s = start().await;
    let by_prompt = json!({"model": "gen4.5", "promptText": "boom [fail]"});
    let by_model = json!({"model": "gen4.5@task_fail", "promptText": "x"});
    for req in [by_prompt, by_model] {
        let id = create(&s, "/v1/text_to_video", &req).await;
        let path = format!("/v1/tasks/{id}");
        let seen = follow(
            None,
            || get(&s, &path),
            field("status"),
            &["SUCCEEDED", "FAILED"],
        );
        let last = &seen.await.last().unwrap().1.clone();
        assert_eq!(last["status"], "FAILED", "{req}");
        assert_eq!(last["failure"], "simulated generation failure");
        assert!(last["failureCode"].is_string());
        assert!(last.get("output").is_none());
    }
    let resp = post(&s, "/v1/image_to_video", &image_request("x"));
    let resp = resp
        .header("x-sim-fault", "status=503")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.json::<Value>().await.unwrap()["error"].is_string());
}

#[tokio::test]
async fn auth_and_version_header() {
    let s = start().await;
    let url = s.url("/v1/image_to_video");
    let req = image_request("x");
    let no_key = s
        .client
        .post(&url)
        .header("X-Runway-Version", VERSION)
        .json(&req);
    let resp = no_key.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.json::<Value>().await.unwrap()["error"].is_string());

    let resp = s.post("/v1/image_to_video", &req).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v: Value = resp.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("X-Runway-Version"));
    let old = s
        .post("/v1/image_to_video", &req)
        .header("X-Runway-Version", "2023-01-01");
    assert_eq!(old.send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    // Polls need it too.
    let resp = s.get("/v1/tasks/whatever").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn validation() {
    let s = start().await;
    let frames = json!([{"uri": "https://example.com/a.jpg", "position": "first"},
        {"uri": "data:image/png;base64,AAAA", "position": "last"}]);
    let ok = [
        (
            "/v1/image_to_video",
            json!({"model": "gen4_turbo", "promptImage": frames}),
        ),
        (
            "/v1/image_to_video",
            json!({"model": "gen4_turbo", "promptImage": "https://x/a.jpg",
            "promptText": "😀".repeat(500)}),
        ),
        (
            "/v1/text_to_video",
            json!({"model": "veo3.1", "promptText": "x", "duration": 8}),
        ),
    ];
    for (path, req) in ok {
        create(&s, path, &req).await;
    }
    let too_long = "😀".repeat(501);
    let bad = [
        (
            "/v1/image_to_video",
            json!({"model": "gen4_turbo", "promptText": "no image"}),
        ),
        (
            "/v1/image_to_video",
            json!({"model": "gen4_turbo", "promptImage": ""}),
        ),
        (
            "/v1/image_to_video",
            json!({"model": "gen4_turbo",
            "promptImage": [{"uri": "https://x/a.jpg", "position": "middle"}]}),
        ),
        (
            "/v1/image_to_video",
            json!({"promptImage": "https://x/a.jpg"}),
        ),
        (
            "/v1/image_to_video",
            json!({"model": "gen4_turbo", "promptImage": "https://x/a.jpg",
            "promptText": too_long}),
        ),
        (
            "/v1/image_to_video",
            json!({"model": "gen4_turbo", "promptImage": "https://x/a.jpg",
            "duration": "5"}),
        ),
        (
            "/v1/text_to_video",
            json!({"model": "gen4.5", "promptText": "x", "duration": 5.5}),
        ),
        ("/v1/text_to_video", json!({"model": "gen4.5"})),
    ];
    for (path, req) in bad {
        let resp = post(&s, path, &req).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path} {req}");
        assert!(resp.json::<Value>().await.unwrap()["error"].is_string());
    }
}

#[tokio::test]
async fn delete_cancels_then_deletes() {
    let s = start().await;
    let req = json!({"model": "gen4.5@task_ms=60000:60000", "promptText": "slow"});
    let id = create(&s, "/v1/text_to_video", &req).await;
    let path = format!("/v1/tasks/{id}");
    let resp = delete(&s, &path).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let v: Value = get(&s, &path).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["status"], "CANCELLED");
    assert!(v.get("output").is_none());

    // A task that has ended is deleted outright.
    assert_eq!(delete(&s, &path).send().await.unwrap().status(), 204);
    let resp = get(&s, &path).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(resp.json::<Value>().await.unwrap()["error"].is_string());
    assert_eq!(delete(&s, &path).send().await.unwrap().status(), 404);
}
