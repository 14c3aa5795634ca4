//! The native video front doors (Luma's legacy relay format, Runway, Kling) over HTTP against
//! the simulator, on SQLite and PostgreSQL: each answers in its own provider's shape, bills
//! once, refunds failures and cancels, reaches other providers' channels, and signs webhooks.

mod common;

use std::time::Duration;

use axum::http::HeaderMap;
use common::{backends, TestGateway};
use serde_json::{json, Value};
use switchyard_store::NewKey;
use tokio::sync::mpsc;

const USD: i64 = 1_000_000_000;
/// Prices in the harness config: runway-video $0.05/s (× 5 s), luma-video and kling-video per call.
const RUNWAY_5S: i64 = 250_000_000;
const LUMA: i64 = 400_000_000;
const KLING: i64 = 280_000_000;

/// The legacy Luma answer's fields, exactly as the seed page lists them.
const LUMA_FIELDS: &[&str] = &[
    "id",
    "prompt",
    "state",
    "queue_state",
    "created_at",
    "batch_id",
    "video",
    "video_raw",
    "liked",
    "estimate_wait_seconds",
    "thumbnail",
    "last_frame",
];

async fn get_json(gw: &TestGateway, path: &str, key: &str) -> (u16, Value) {
    let r = gw.get(path, key).send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Poll a door's GET until `state_of` gives one of `finals`; every distinct state seen, in
/// order, and the final answer.
async fn poll(
    gw: &TestGateway,
    path: &str,
    key: &str,
    state_of: impl Fn(&Value) -> String,
    finals: &[&str],
) -> (Vec<String>, Value) {
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..400 {
        let (status, body) = get_json(gw, path, key).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        let s = state_of(&body);
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if finals.contains(&s.as_str()) {
            return (seen, body);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{path} never reached {finals:?}; saw {seen:?}");
}

fn luma_state(v: &Value) -> String {
    v["state"].as_str().unwrap_or("?").to_string()
}
fn runway_status(v: &Value) -> String {
    v["status"].as_str().unwrap_or("?").to_string()
}
fn kling_status(v: &Value) -> String {
    v["data"]["task_status"].as_str().unwrap_or("?").to_string()
}

/// `seen` starts with the first state given and visits the others in order.
fn assert_moved(seen: &[String], expected: &[&str]) {
    let seen: Vec<&str> = seen.iter().map(String::as_str).collect();
    assert_eq!(seen, expected, "the states seen");
}

/// Every task's hold is settled: nothing is left held for this user.
async fn assert_no_hold(gw: &TestGateway, user_id: &str) {
    gw.settle_budgets().await;
    assert_eq!(gw.state.store.held(user_id).await.unwrap(), 0);
}

fn sorted_keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

#[tokio::test]
async fn luma_door_runs_a_generation_in_the_seed_format() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        // As the seed's clients send it: every field, unused ones empty.
        let (status, created) = gw
            .post_json(
                "/luma/generations",
                &key,
                json!({"user_prompt": "a cat surfing a wave", "aspect_ratio": "16:9", "expand_prompt": true,
                       "loop": false, "image_url": "", "image_end_url": "", "notify_hook": ""}),
            )
            .await;
        assert_eq!(status, 200, "{b}: {created}");
        let mut expected: Vec<String> = LUMA_FIELDS.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(
            sorted_keys(&created),
            expected,
            "{b}: exactly the seed's fields"
        );
        assert_eq!(created["state"], "pending");
        assert_eq!(created["video"], Value::Null);
        assert_eq!(created["prompt"], "a cat surfing a wave");
        let at = created["created_at"].as_str().unwrap();
        assert!(
            at.ends_with('Z') && at.len() == 24 && &at[10..11] == "T",
            "{at}"
        );

        let id = created["id"].as_str().unwrap();
        let (mut seen, done) = poll(
            &gw,
            &format!("/luma/generations/{id}"),
            &key,
            luma_state,
            &["completed", "failed"],
        )
        .await;
        seen.insert(0, "pending".into());
        seen.dedup();
        assert_moved(&seen, &["pending", "processing", "completed"]);
        assert_eq!(sorted_keys(&done), expected);
        assert_eq!(done["created_at"], created["created_at"]);
        let url = done["video"]["url"].as_str().unwrap();
        assert_eq!(done["video"]["download_url"], url);
        assert_eq!(done["video_raw"]["url"], url);
        assert!(
            done["video"]["width"].as_u64().unwrap() >= done["video"]["height"].as_u64().unwrap(),
            "16:9: {done}"
        );
        gw.assert_mp4(url).await;
        assert_eq!(gw.balance(&user.id).await, USD - LUMA, "{b}: charged once");
        // Reading again charges nothing more.
        let _ = get_json(&gw, &format!("/luma/generations/{id}"), &key).await;
        assert_eq!(gw.balance(&user.id).await, USD - LUMA);
        assert_no_hold(&gw, &user.id).await;
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn runway_door_runs_text_and_image_tasks() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, created) = gw
            .post_json(
                "/runwayml/v1/text_to_video",
                &key,
                json!({"model": "gen4_turbo", "promptText": "a lighthouse at dusk", "ratio": "1280:720", "duration": 5, "seed": 7}),
            )
            .await;
        assert_eq!(status, 200, "{b}: {created}");
        assert_eq!(
            sorted_keys(&created),
            vec!["id"],
            "create answers only the id"
        );
        let sent = gw
            .sim
            .last_body("/v1/text_to_video")
            .expect("the sim got it");
        assert_eq!(
            (
                sent["promptText"].as_str(),
                sent["ratio"].as_str(),
                sent["duration"].as_i64()
            ),
            (Some("a lighthouse at dusk"), Some("1280:720"), Some(5))
        );

        let id = created["id"].as_str().unwrap();
        let path = format!("/runwayml/v1/tasks/{id}");
        let mut progress = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let done = loop {
            let (status, v) = get_json(&gw, &path, &key).await;
            assert_eq!(status, 200, "{v}");
            let s = runway_status(&v);
            if s == "RUNNING" {
                progress.push(v["progress"].as_f64().expect("progress while running"));
            } else {
                assert!(
                    v.get("progress").is_none(),
                    "progress only while running: {v}"
                );
            }
            if seen.last() != Some(&s) {
                seen.push(s.clone());
            }
            if s == "SUCCEEDED" || s == "FAILED" {
                break v;
            }
            assert!(seen.len() < 10 && progress.len() < 1000, "{seen:?}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        assert_moved(&seen, &["PENDING", "RUNNING", "SUCCEEDED"]);
        assert!(
            progress.iter().all(|p| (0.0..=1.0).contains(p)),
            "{progress:?}"
        );
        assert_eq!(done["id"], id);
        assert!(done["createdAt"].as_str().unwrap().ends_with('Z'));
        let url = done["output"][0].as_str().unwrap();
        gw.assert_mp4(url).await;
        assert_eq!(
            gw.balance(&user.id).await,
            USD - RUNWAY_5S,
            "{b}: $0.05/s × 5 s"
        );

        // image_to_video with first and last frames.
        let (status, created) = gw
            .post_json(
                "/runwayml/v1/image_to_video",
                &key,
                json!({"model": "runway-video", "promptText": "it comes alive", "duration": 5,
                       "promptImage": [{"uri": "https://example.com/a.png", "position": "first"},
                                       {"uri": "https://example.com/b.png", "position": "last"}]}),
            )
            .await;
        assert_eq!(status, 200, "{b}: {created}");
        let sent = gw
            .sim
            .last_body("/v1/image_to_video")
            .expect("the sim got it");
        assert!(
            sent["promptImage"]
                .to_string()
                .contains("https://example.com/b.png"),
            "{sent}"
        );
        let id = created["id"].as_str().unwrap();
        let (_, done) = poll(
            &gw,
            &format!("/runwayml/v1/tasks/{id}"),
            &key,
            runway_status,
            &["SUCCEEDED", "FAILED"],
        )
        .await;
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        assert_eq!(gw.balance(&user.id).await, USD - 2 * RUNWAY_5S);

        // image_to_video needs an image, said Runway's way.
        let (status, e) = gw
            .post_json(
                "/runwayml/v1/image_to_video",
                &key,
                json!({"model": "gen4_turbo", "promptText": "x"}),
            )
            .await;
        assert_eq!(status, 400);
        assert!(e["error"].as_str().unwrap().contains("promptImage"), "{e}");
        assert_no_hold(&gw, &user.id).await;
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn kling_door_runs_a_task_in_kling_format() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, created) = gw
            .post_json(
                "/kling/v1/videos/text2video",
                &key,
                json!({"model_name": "kling-v2-master", "prompt": "a paper boat in the rain", "negative_prompt": "blur",
                       "aspect_ratio": "16:9", "duration": "5", "mode": "std", "cfg_scale": 0.5}),
            )
            .await;
        assert_eq!(status, 200, "{b}: {created}");
        assert_eq!(
            (created["code"].as_i64(), created["message"].as_str()),
            (Some(0), Some("SUCCEED"))
        );
        assert!(created["request_id"].is_string());
        let data = &created["data"];
        assert_eq!(data["task_status"], "submitted");
        assert!(
            data["created_at"].as_i64().unwrap() > 1_600_000_000_000,
            "milliseconds"
        );
        assert!(data["updated_at"].is_i64());
        let sent = gw
            .sim
            .last_body("/v1/videos/text2video")
            .expect("the sim got it");
        assert_eq!(sent["mode"], "std");
        assert_eq!(sent["duration"], "5");

        let id = data["task_id"].as_str().unwrap();
        let (mut seen, done) = poll(
            &gw,
            &format!("/kling/v1/videos/text2video/{id}"),
            &key,
            kling_status,
            &["succeed", "failed"],
        )
        .await;
        seen.insert(0, "submitted".into());
        seen.dedup();
        assert_moved(&seen, &["submitted", "processing", "succeed"]);
        assert_eq!(done["code"], 0);
        let video = &done["data"]["task_result"]["videos"][0];
        assert_eq!(video["duration"], "5", "a string, as Kling has it");
        assert!(video["id"].is_string());
        gw.assert_mp4(video["url"].as_str().unwrap()).await;
        assert_eq!(gw.balance(&user.id).await, USD - KLING, "{b}: charged once");

        // A number for duration is Kling's parameter error.
        let (status, e) = gw
            .post_json(
                "/kling/v1/videos/text2video",
                &key,
                json!({"prompt": "x", "duration": 5}),
            )
            .await;
        assert_eq!(status, 400, "{e}");
        assert_eq!(e["code"], 1201);
        assert!(e["message"].as_str().unwrap().contains("duration"), "{e}");
        assert!(e["request_id"].is_string());
        // image2video needs an image.
        let (status, e) = gw
            .post_json(
                "/kling/v1/videos/image2video",
                &key,
                json!({"prompt": "x", "duration": "5"}),
            )
            .await;
        assert_eq!((status, e["code"].as_i64()), (400, Some(1201)), "{e}");
        assert_eq!(gw.balance(&user.id).await, USD - KLING);
        assert_no_hold(&gw, &user.id).await;
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn kling_image2video_sends_the_frames() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (_, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, created) = gw
            .post_json(
                "/kling/v1/videos/image2video",
                &key,
                json!({"prompt": "the leaves fall", "image": "https://example.com/tree.png",
                       "image_tail": "iVBORw0KGgo=", "duration": "5", "mode": "pro"}),
            )
            .await;
        assert_eq!(status, 200, "{b}: {created}");
        let sent = gw
            .sim
            .last_body("/v1/videos/image2video")
            .expect("the sim got it");
        assert_eq!(sent["image"], "https://example.com/tree.png");
        assert_eq!(
            sent["image_tail"], "iVBORw0KGgo=",
            "raw base64 reaches Kling as sent"
        );
        assert_eq!(sent["mode"], "pro");
        let id = created["data"]["task_id"].as_str().unwrap();
        let (_, done) = poll(
            &gw,
            &format!("/kling/v1/videos/image2video/{id}"),
            &key,
            kling_status,
            &["succeed", "failed"],
        )
        .await;
        assert_eq!(done["data"]["task_status"], "succeed", "{done}");
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn failed_tasks_end_failed_in_each_shape_and_refund() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;

        let (_, c) = gw
            .post_json(
                "/luma/generations",
                &key,
                json!({"user_prompt": "a storm [fail]"}),
            )
            .await;
        let id = c["id"].as_str().expect("a generation").to_string();
        let (_, luma) = poll(
            &gw,
            &format!("/luma/generations/{id}"),
            &key,
            luma_state,
            &["completed", "failed"],
        )
        .await;
        assert_eq!(luma["state"], "failed", "{b}: {luma}");
        assert_eq!(luma["video"], Value::Null);

        let (_, c) = gw
            .post_json(
                "/runwayml/v1/text_to_video",
                &key,
                json!({"model": "gen4_turbo", "promptText": "a storm [fail]", "duration": 5}),
            )
            .await;
        let id = c["id"].as_str().expect("a task").to_string();
        let (_, runway) = poll(
            &gw,
            &format!("/runwayml/v1/tasks/{id}"),
            &key,
            runway_status,
            &["SUCCEEDED", "FAILED"],
        )
        .await;
        assert_eq!(runway["status"], "FAILED", "{runway}");
        assert!(
            runway["failure"].as_str().is_some_and(|f| !f.is_empty()),
            "{runway}"
        );
        assert!(runway["failureCode"].is_string(), "{runway}");
        assert!(runway.get("output").is_none());

        let (_, c) = gw
            .post_json(
                "/kling/v1/videos/text2video",
                &key,
                json!({"prompt": "a storm [fail]", "duration": "5"}),
            )
            .await;
        let id = c["data"]["task_id"].as_str().expect("a task").to_string();
        let (_, kling) = poll(
            &gw,
            &format!("/kling/v1/videos/text2video/{id}"),
            &key,
            kling_status,
            &["succeed", "failed"],
        )
        .await;
        assert_eq!(kling["data"]["task_status"], "failed", "{kling}");
        assert!(!kling["data"]["task_status_msg"]
            .as_str()
            .unwrap()
            .is_empty());
        assert_eq!(kling["data"]["task_result"]["videos"], json!([]));

        assert_eq!(
            gw.balance(&user.id).await,
            USD,
            "{b}: every failure refunded"
        );
        assert_no_hold(&gw, &user.id).await;
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn any_door_reaches_any_video_channel() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let before = gw.sim.requests("/v1/videos/text2video");
        let (status, c) = gw
            .post_json(
                "/luma/generations",
                &key,
                json!({"user_prompt": "a fox in the snow", "model": "kling-video", "aspect_ratio": "9:16", "loop": false}),
            )
            .await;
        assert_eq!(status, 200, "{b}: {c}");
        assert_eq!(
            gw.sim.requests("/v1/videos/text2video"),
            before + 1,
            "Kling's channel served it"
        );
        let sent = gw.sim.last_body("/v1/videos/text2video").unwrap();
        assert_eq!(
            (sent["prompt"].as_str(), sent["aspect_ratio"].as_str()),
            (Some("a fox in the snow"), Some("9:16"))
        );
        let id = c["id"].as_str().unwrap();
        let (_, done) = poll(
            &gw,
            &format!("/luma/generations/{id}"),
            &key,
            luma_state,
            &["completed", "failed"],
        )
        .await;
        assert_eq!(done["state"], "completed", "{done}");
        gw.assert_mp4(done["video"]["url"].as_str().unwrap()).await;
        assert_eq!(
            gw.balance(&user.id).await,
            USD - KLING,
            "billed at Kling's price"
        );

        // Kling's door on Runway's channel, Runway's door on Luma's.
        let (status, c) = gw
            .post_json(
                "/kling/v1/videos/text2video",
                &key,
                json!({"model_name": "runway-video", "prompt": "a kite", "duration": "5"}),
            )
            .await;
        assert_eq!(status, 200, "{c}");
        assert_eq!(
            gw.sim.last_body("/v1/text_to_video").unwrap()["promptText"],
            "a kite"
        );
        let (status, c) = gw
            .post_json(
                "/runwayml/v1/text_to_video",
                &key,
                json!({"model": "luma-video", "promptText": "a lantern", "ratio": "960:960", "duration": 5}),
            )
            .await;
        assert_eq!(status, 200, "{c}");
        let sent = gw.sim.last_body("/dream-machine/v1/generations").unwrap();
        assert_eq!(
            (sent["prompt"].as_str(), sent["aspect_ratio"].as_str()),
            (Some("a lantern"), Some("1:1"))
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn parameters_a_provider_cannot_honour_are_400s_in_each_shape() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let before = gw.sim.requests("/v1/text_to_video");

        let (status, e) = gw
            .post_json(
                "/luma/generations",
                &key,
                json!({"user_prompt": "a spinning top", "model": "runway-video", "loop": true}),
            )
            .await;
        assert_eq!(status, 400, "{b}: {e}");
        assert_eq!(sorted_keys(&e), vec!["detail"], "Luma's error shape: {e}");
        assert!(e["detail"].as_str().unwrap().contains("loop"), "{e}");

        let (status, e) = gw
            .post_json(
                "/runwayml/v1/text_to_video",
                &key,
                json!({"model": "gen4_turbo", "promptText": "x", "duration": 7}),
            )
            .await;
        assert_eq!(status, 400, "{e}");
        assert_eq!(sorted_keys(&e), vec!["error"], "Runway's error shape: {e}");
        assert!(e["error"].as_str().unwrap().contains("duration"), "{e}");

        let (status, e) = gw
            .post_json(
                "/kling/v1/videos/text2video",
                &key,
                json!({"model_name": "luma-video", "prompt": "x", "negative_prompt": "blur"}),
            )
            .await;
        assert_eq!(status, 400, "{e}");
        assert_eq!(e["code"], 1201, "{e}");
        assert!(
            e["message"].as_str().unwrap().contains("negative_prompt"),
            "{e}"
        );

        // Unknown models and bad keys keep their statuses in each shape.
        let (status, e) = gw
            .post_json(
                "/luma/generations",
                &key,
                json!({"user_prompt": "x", "model": "no-such-video"}),
            )
            .await;
        assert_eq!(status, 404, "{e}");
        assert!(e["detail"].as_str().unwrap().contains("no-such-video"));
        let (status, e) = gw
            .post_json(
                "/runwayml/v1/text_to_video",
                "sk-wrong",
                json!({"promptText": "x"}),
            )
            .await;
        assert_eq!(status, 401, "{e}");
        assert!(e["error"].is_string(), "{e}");
        let (status, e) = gw
            .post_json(
                "/kling/v1/videos/text2video",
                "sk-wrong",
                json!({"prompt": "x"}),
            )
            .await;
        assert_eq!((status, e["code"].as_i64()), (401, Some(1000)), "{e}");
        let r = gw
            .post("/luma/generations", &key)
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let e: Value = r.json().await.unwrap();
        assert!(e["detail"].is_string(), "{e}");

        assert_eq!(
            gw.sim.requests("/v1/text_to_video"),
            before,
            "nothing reached a provider"
        );
        assert_eq!(gw.balance(&user.id).await, USD, "nothing charged");
        assert_no_hold(&gw, &user.id).await;
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn another_users_task_does_not_exist() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (_, alice) = gw.user_with_key(USD, NewKey::default()).await;
        let (_, bob) = gw.user_with_key(USD, NewKey::default()).await;

        let (_, l) = gw
            .post_json("/luma/generations", &alice, json!({"user_prompt": "mine"}))
            .await;
        let (_, r) = gw
            .post_json(
                "/runwayml/v1/text_to_video",
                &alice,
                json!({"promptText": "mine", "duration": 5}),
            )
            .await;
        let (_, k) = gw
            .post_json(
                "/kling/v1/videos/text2video",
                &alice,
                json!({"prompt": "mine", "duration": "5"}),
            )
            .await;
        let (l, r, k) = (
            l["id"].as_str().unwrap(),
            r["id"].as_str().unwrap(),
            k["data"]["task_id"].as_str().unwrap(),
        );

        let (status, e) = get_json(&gw, &format!("/luma/generations/{l}"), &bob).await;
        assert_eq!(status, 404, "{b}: {e}");
        assert!(e["detail"].is_string(), "{e}");
        let (status, e) = get_json(&gw, &format!("/runwayml/v1/tasks/{r}"), &bob).await;
        assert_eq!(status, 404, "{e}");
        assert!(e["error"].is_string(), "{e}");
        let (status, e) = get_json(&gw, &format!("/kling/v1/videos/text2video/{k}"), &bob).await;
        assert_eq!((status, e["code"].as_i64()), (404, Some(1203)), "{e}");
        let status = gw
            .http
            .delete(format!("{}/runwayml/v1/tasks/{r}", gw.url))
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "bob cannot cancel alice's task");
        // Alice still can read them, and the task was not cancelled.
        let (status, v) = get_json(&gw, &format!("/runwayml/v1/tasks/{r}"), &alice).await;
        assert_eq!(status, 200);
        assert_ne!(v["status"], "CANCELLED");
        let (status, _) = get_json(&gw, "/luma/generations/no-such-task", &alice).await;
        assert_eq!(status, 404);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn runway_delete_cancels_and_refunds() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        // Slow tasks, so the cancel lands while the task runs.
        gw.sim.set_task_timing(5_000, 20_000);
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, c) = gw
            .post_json(
                "/runwayml/v1/image_to_video",
                &key,
                json!({"model": "gen4_turbo", "promptImage": "https://example.com/a.png", "promptText": "x", "duration": 10}),
            )
            .await;
        assert_eq!(status, 200, "{b}: {c}");
        let id = c["id"].as_str().unwrap();
        gw.settle_budgets().await;
        let held = gw.state.store.held(&user.id).await.unwrap();
        assert_eq!(held, 2 * RUNWAY_5S, "10 s held");

        let task = gw.state.store.task(id).await.unwrap().unwrap();
        let upstream = task.upstream_id.expect("submitted upstream");
        let r = gw
            .http
            .delete(format!("{}/runwayml/v1/tasks/{id}", gw.url))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert!(r.bytes().await.unwrap().is_empty());
        let upstream_task: Value = gw
            .http
            .get(format!("{}/v1/tasks/{upstream}", gw.sim_url))
            .bearer_auth("sk-sim-runway")
            .header("x-runway-version", "2024-11-06")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            upstream_task["status"], "CANCELLED",
            "Runway was asked to cancel"
        );
        let (_, v) = get_json(&gw, &format!("/runwayml/v1/tasks/{id}"), &key).await;
        assert_eq!(v["status"], "CANCELLED", "{v}");
        assert_eq!(gw.balance(&user.id).await, USD, "refunded");
        assert_no_hold(&gw, &user.id).await;

        // Deleting again is still a 204 and refunds nothing twice.
        let r = gw
            .http
            .delete(format!("{}/runwayml/v1/tasks/{id}", gw.url))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(gw.balance(&user.id).await, USD);
        gw.shutdown().await;
    }
}

/// A webhook receiver on 127.0.0.1:0: its URL, and what it receives (headers, raw body).
/// Receive until `is_final` holds; every body must carry a valid signature.
async fn final_delivery(
    rx: &mut mpsc::UnboundedReceiver<(HeaderMap, String)>,
    secret: &str,
    is_final: impl Fn(&Value) -> bool,
) -> Value {
    loop {
        let (headers, body) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("a webhook in time")
            .expect("the receiver runs");
        let sig = headers["x-switchyard-signature"].to_str().unwrap();
        let t: i64 = sig
            .strip_prefix("t=")
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.parse().ok())
            .expect("t=<seconds>");
        assert_eq!(
            sig,
            switchyard_gateway::task::webhook::signature(secret, t, &body),
            "the signature matches the body"
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        if is_final(&v) {
            return v;
        }
    }
}

#[tokio::test]
async fn webhooks_carry_each_doors_own_format_signed() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let secret = gw.state.store.webhook_secret(&user.id).await.unwrap();

        let (url, mut rx) = common::webhook_receiver().await;
        let (status, c) = gw
            .post_json(
                "/luma/generations",
                &key,
                json!({"user_prompt": "a hook", "notify_hook": url}),
            )
            .await;
        assert_eq!(status, 200, "{b}: {c}");
        let hooked = final_delivery(&mut rx, &secret, |v| v["state"] == "completed").await;
        let (_, read) = get_json(
            &gw,
            &format!("/luma/generations/{}", c["id"].as_str().unwrap()),
            &key,
        )
        .await;
        assert_eq!(hooked, read, "the webhook carries what the GET returns");

        let (url, mut rx) = common::webhook_receiver().await;
        let (status, c) = gw
            .post_json(
                "/runwayml/v1/text_to_video",
                &key,
                json!({"promptText": "a hook", "duration": 5, "callback_url": url}),
            )
            .await;
        assert_eq!(status, 200, "{c}");
        let hooked = final_delivery(&mut rx, &secret, |v| v["status"] == "SUCCEEDED").await;
        let (_, read) = get_json(
            &gw,
            &format!("/runwayml/v1/tasks/{}", c["id"].as_str().unwrap()),
            &key,
        )
        .await;
        assert_eq!(hooked, read);

        let (url, mut rx) = common::webhook_receiver().await;
        let (status, c) = gw
            .post_json(
                "/kling/v1/videos/text2video",
                &key,
                json!({"prompt": "a hook", "duration": "5", "callback_url": url}),
            )
            .await;
        assert_eq!(status, 200, "{c}");
        let hooked =
            final_delivery(&mut rx, &secret, |v| v["data"]["task_status"] == "succeed").await;
        let id = c["data"]["task_id"].as_str().unwrap();
        let (_, read) = get_json(&gw, &format!("/kling/v1/videos/text2video/{id}"), &key).await;
        assert_eq!(hooked, read);
        gw.shutdown().await;
    }
}
