//! Luma: the official Dream Machine API and the legacy relay format.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{assert_mp4, body, field, follow, names, start};

const GENERATIONS: &str = "/dream-machine/v1/generations";

#[tokio::test]
async fn official_create_poll_complete_list_delete() {
    let s = start().await;
    let frame = json!({"type": "image", "url": "https://example.com/a.jpg"});
    let req = json!({"prompt": "a red fox", "model": "ray-2", "aspect_ratio": "16:9",
        "keyframes": {"frame0": frame}});
    let resp = s.post(&format!("{GENERATIONS}/video"), &req).send().await;
    let resp = resp.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["state"], "queued");
    assert_eq!(created["generation_type"], "video");
    assert_eq!(created["model"], "ray-2");
    assert!(created["assets"].is_null());
    assert!(created["failure_reason"].is_null());
    assert_eq!(created["request"]["keyframes"]["frame0"], frame);
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);

    let path = format!("{GENERATIONS}/{id}");
    let seen = follow(
        Some(created),
        || s.get(&path),
        field("state"),
        &["completed", "failed"],
    );
    let seen = seen.await;
    assert_eq!(names(&seen), ["queued", "dreaming", "completed"]);
    assert!(body(&seen, "dreaming")["assets"].is_null());
    let done = body(&seen, "completed");
    let video = done["assets"]["video"].as_str().unwrap();
    assert_eq!(video, s.url("/sim/files/video.mp4"));
    assert_eq!(done["assets"]["image"], s.url("/sim/files/thumbnail.jpg"));
    assert_mp4(&s, video).await;

    // The 2024 path creates too; the list is newest first.
    let resp = s
        .post(GENERATIONS, &json!({"prompt": "second"}))
        .send()
        .await;
    let second: Value = resp.unwrap().json().await.unwrap();
    assert_eq!(second["model"], "ray-2");
    let list = s
        .get(&format!("{GENERATIONS}?limit=1&offset=0"))
        .send()
        .await;
    let list: Value = list.unwrap().json().await.unwrap();
    assert_eq!(list["has_more"], true);
    assert_eq!(list["count"], 1);
    assert_eq!(list["limit"], 1);
    assert_eq!(list["generations"][0]["id"], second["id"]);
    let list = s
        .get(&format!("{GENERATIONS}?limit=5&offset=1"))
        .send()
        .await;
    let list: Value = list.unwrap().json().await.unwrap();
    assert_eq!(list["has_more"], false);
    assert_eq!(list["generations"][0]["id"], id.as_str());

    let resp = s.client.delete(s.url(&path)).bearer_auth("k").send().await;
    assert_eq!(resp.unwrap().status(), StatusCode::NO_CONTENT);
    let resp = s.get(&path).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let v: Value = resp.json().await.unwrap();
    assert!(v["detail"].is_string());
}

#[tokio::test]
async fn official_failures() {
    let s = start().await;
    let cases = [
        (json!({"prompt": "a fox [fail]"}), None),
        (json!({"prompt": "a fox"}), Some("task_fail")),
        (json!({"prompt": "a fox", "model": "ray-2@task_fail"}), None),
    ];
    for (req, header) in cases {
        let mut post = s.post(GENERATIONS, &req);
        if let Some(spec) = header {
            post = post.header("x-sim-fault", spec);
        }
        let created: Value = post.send().await.unwrap().json().await.unwrap();
        assert_eq!(created["model"], "ray-2");
        let path = format!("{GENERATIONS}/{}", created["id"].as_str().unwrap());
        let seen = follow(
            None,
            || s.get(&path),
            field("state"),
            &["completed", "failed"],
        );
        let seen = seen.await;
        let last = &seen.last().unwrap().1;
        assert_eq!(last["state"], "failed", "{req}");
        assert_eq!(last["failure_reason"], "simulated generation failure");
        assert!(last["assets"].is_null());
    }
}

#[tokio::test]
async fn official_auth_validation_and_faults() {
    let s = start().await;
    let url = s.url(GENERATIONS);
    let ok = json!({"prompt": "x"});
    let resp = s.client.post(&url).json(&ok).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.json::<Value>().await.unwrap()["detail"].is_string());
    let resp = s.client.post(&url).bearer_auth("sk-sim-invalid").json(&ok);
    assert_eq!(resp.send().await.unwrap().status(), 401);

    let bad = [
        json!({}),
        json!({"prompt": 5}),
        json!({"prompt": "x", "aspect_ratio": "2:1"}),
        json!({"prompt": "x", "duration": 5}),
        json!({"prompt": "x", "keyframes": {"frame0": {"type": "video", "url": "u"}}}),
        json!({"prompt": "x", "keyframes": {"frame2": {"type": "image", "url": "u"}}}),
    ];
    for req in bad {
        let resp = s.post(GENERATIONS, &req).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{req}");
        assert!(resp.json::<Value>().await.unwrap()["detail"].is_string());
    }
    // Keyframes alone (an extension of an earlier generation) need no prompt.
    let frame = json!({"frame0": {"type": "generation", "id": "g"}});
    let resp = s
        .post(GENERATIONS, &json!({"keyframes": frame}))
        .send()
        .await;
    assert_eq!(resp.unwrap().status(), StatusCode::CREATED);

    let resp = s.post(GENERATIONS, &ok).header("x-sim-fault", "status=429");
    let resp = resp.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.json::<Value>().await.unwrap()["detail"].is_string());
    let missing = s.get(&format!("{GENERATIONS}/nope")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn legacy_fields_and_nulls_until_completed() {
    let s = start().await;
    let req = json!({"user_prompt": "two dogs on a motorbike", "aspect_ratio": "16:9",
        "expand_prompt": true, "loop": false, "image_url": "https://example.com/a.jpg",
        "model_name": "ray-v2", "resolution": "720p", "duration": "5s"});
    let resp = s.post("/luma/generations", &req).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let created: Value = resp.json().await.unwrap();
    let mut keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let expected = [
        "batch_id",
        "created_at",
        "estimate_wait_seconds",
        "id",
        "last_frame",
        "liked",
        "prompt",
        "queue_state",
        "state",
        "thumbnail",
        "user_id",
        "video",
        "video_raw",
    ];
    assert_eq!(keys, expected);
    assert_eq!(created["state"], "pending");
    assert_eq!(created["prompt"], "two dogs on a motorbike");
    assert_eq!(created["batch_id"], "");
    let at = created["created_at"].as_str().unwrap();
    assert!(at.ends_with('Z') && at.len() == "2024-12-22T13:38:40.139409Z".len());
    for key in ["queue_state", "liked", "estimate_wait_seconds", "video"] {
        assert!(created[key].is_null(), "{key}");
    }
    let sent = s.sim.last_body("/luma/generations").unwrap();
    assert_eq!(sent["image_url"], "https://example.com/a.jpg");

    let path = format!("/luma/generations/{}", created["id"].as_str().unwrap());
    let seen = follow(
        Some(created),
        || s.get(&path),
        field("state"),
        &["completed", "failed"],
    );
    let seen = seen.await;
    assert_eq!(names(&seen), ["pending", "processing", "completed"]);
    let running = body(&seen, "processing");
    for key in ["video", "video_raw", "thumbnail", "last_frame"] {
        assert!(running[key].is_null(), "{key}");
    }
    let done = body(&seen, "completed");
    let video = &done["video"];
    assert_eq!(video["url"], s.url("/sim/files/video.mp4"));
    assert_eq!(video["download_url"], video["url"]);
    assert_eq!(
        (video["width"].as_u64(), video["height"].as_u64()),
        (Some(320), Some(180))
    );
    assert_eq!(video["thumbnail"], s.url("/sim/files/thumbnail.jpg"));
    assert_eq!(done["video_raw"]["url"], video["url"]);
    assert_eq!(done["thumbnail"]["url"], s.url("/sim/files/thumbnail.jpg"));
    assert_eq!(
        done["last_frame"]["url"],
        s.url("/sim/files/last_frame.jpg")
    );
    assert_eq!(done["last_frame"]["width"], 320);
    assert_mp4(&s, video["url"].as_str().unwrap()).await;
}

#[tokio::test]
async fn legacy_failure_auth_and_validation() {
    let s = start().await;
    let req = json!({"user_prompt": "x", "model_name": "ray-v2@task_fail"});
    let created: Value = s
        .post("/luma/generations", &req)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/luma/generations/{}", created["id"].as_str().unwrap());
    let seen = follow(
        None,
        || s.get(&path),
        field("state"),
        &["completed", "failed"],
    )
    .await;
    let last = &seen.last().unwrap().1;
    assert_eq!(last["state"], "failed");
    assert!(last["video"].is_null() && last["last_frame"].is_null());

    let resp = s
        .client
        .post(s.url("/luma/generations"))
        .json(&req)
        .send()
        .await;
    assert_eq!(resp.unwrap().status(), StatusCode::UNAUTHORIZED);
    for bad in [json!({}), json!({"user_prompt": "x", "loop": "yes"})] {
        let resp = s.post("/luma/generations", &bad).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    // Each Luma API only sees its own tasks.
    let official = format!("{GENERATIONS}/{}", created["id"].as_str().unwrap());
    let resp = s.get(&official).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = s.get("/luma/generations/nope").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}
