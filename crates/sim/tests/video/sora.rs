//! OpenAI Videos (Sora): video objects, content downloads, list, delete.

use reqwest::header;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::Server;
use crate::{body, field, follow, names, start};

async fn create(s: &Server, req: &Value) -> Value {
    let resp = s.post("/v1/videos", req).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{req}");
    resp.json().await.unwrap()
}

async fn run(s: &Server, created: Value) -> Vec<(String, Value)> {
    let path = format!("/v1/videos/{}", created["id"].as_str().unwrap());
    let finals = ["completed", "failed"];
    follow(Some(created), || s.get(&path), field("status"), &finals).await
}

#[tokio::test]
async fn create_poll_complete_and_download() {
    let s = start().await;
    let req = json!({"model": "sora-2", "prompt": "a paper boat", "seconds": "8",
        "size": "1280x720"});
    let created = create(&s, &req).await;
    let mut keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    let expected = [
        "completed_at",
        "created_at",
        "error",
        "expires_at",
        "id",
        "model",
        "object",
        "progress",
        "prompt",
        "remixed_from_video_id",
        "seconds",
        "size",
        "status",
    ];
    assert_eq!(keys, expected);
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("video_"), "{id}");
    assert_eq!(created["object"], "video");
    assert_eq!(created["status"], "queued");
    assert_eq!(created["progress"], 0);
    assert_eq!(created["seconds"], "8");
    assert_eq!(created["size"], "1280x720");
    assert_eq!(created["prompt"], "a paper boat");
    assert!(
        created["created_at"].as_u64().unwrap() < 10_000_000_000,
        "seconds"
    );
    for key in [
        "completed_at",
        "expires_at",
        "error",
        "remixed_from_video_id",
    ] {
        assert!(created[key].is_null(), "{key}");
    }

    // Content is not there until the video has completed.
    let early = s
        .get(&format!("/v1/videos/{id}/content"))
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), StatusCode::NOT_FOUND);
    assert!(early.json::<Value>().await.unwrap()["error"]["message"].is_string());

    let seen = run(&s, created).await;
    assert_eq!(names(&seen), ["queued", "in_progress", "completed"]);
    let progress = body(&seen, "in_progress")["progress"].as_u64().unwrap();
    assert!(progress < 100);
    let done = body(&seen, "completed");
    assert_eq!(done["progress"], 100);
    let completed_at = done["completed_at"].as_u64().unwrap();
    assert!(done["expires_at"].as_u64().unwrap() > completed_at);
    assert!(done["error"].is_null());

    let url = s.url(&format!("/v1/videos/{id}/content"));
    let resp = s.client.get(&url).bearer_auth("k").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "video/mp4");
    assert_eq!(&resp.bytes().await.unwrap()[4..8], b"ftyp");
    let thumb = s
        .client
        .get(format!("{url}?variant=thumbnail"))
        .bearer_auth("k");
    let resp = thumb.send().await.unwrap();
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(&resp.bytes().await.unwrap()[..2], &[0xff, 0xd8]);
    let ranged = s
        .client
        .get(format!("{url}?variant=video"))
        .bearer_auth("k");
    let resp = ranged
        .header(header::RANGE, "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.bytes().await.unwrap().len(), 100);
    let bad = s
        .client
        .get(format!("{url}?variant=poster"))
        .bearer_auth("k");
    assert_eq!(bad.send().await.unwrap().status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn multipart_with_input_reference() {
    let s = start().await;
    let image = Part::bytes(vec![0xff, 0xd8, 0xff, 0xd9])
        .file_name("first.jpg")
        .mime_str("image/jpeg")
        .unwrap();
    let form = Form::new()
        .text("model", "sora-2-pro")
        .text("prompt", "the cat walks")
        .text("seconds", "12")
        .part("input_reference", image);
    let req = s.client.post(s.url("/v1/videos")).bearer_auth("k");
    let resp = req.multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["model"], "sora-2-pro");
    assert_eq!(v["seconds"], "12");
    assert_eq!(v["size"], "720x1280");
    let sent = s.sim.last_body("/v1/videos").unwrap();
    assert_eq!(sent["prompt"], "the cat walks");
    assert_eq!(sent["input_reference"]["filename"], "first.jpg");
    assert_eq!(sent["input_reference"]["content_type"], "image/jpeg");
    assert_eq!(sent["input_reference"]["size"], 4);
}

#[tokio::test]
async fn validation_and_auth() {
    let s = start().await;
    let bad = [
        (json!({"prompt": "x", "seconds": 8}), "seconds"),
        (json!({"prompt": "x", "seconds": "5"}), "seconds"),
        (json!({"prompt": "x", "size": "640x480"}), "size"),
        (json!({"seconds": "4"}), "prompt"),
    ];
    for (req, param) in bad {
        let resp = s.post("/v1/videos", &req).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{req}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["param"], param, "{req}");
    }
    let anon = s
        .client
        .post(s.url("/v1/videos"))
        .json(&json!({"prompt": "x"}));
    assert_eq!(
        anon.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let faulty = s.post(
        "/v1/videos",
        &json!({"prompt": "x", "model": "sora-2@status=500"}),
    );
    let resp = faulty.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"]["type"],
        "server_error"
    );
}

#[tokio::test]
async fn failures() {
    let s = start().await;
    for req in [
        json!({"prompt": "a storm [fail]"}),
        json!({"prompt": "a storm", "model": "sora-2@task_fail"}),
    ] {
        let created = create(&s, &req).await;
        assert_eq!(created["model"], "sora-2");
        let seen = run(&s, created).await;
        let last = &seen.last().unwrap().1;
        assert_eq!(last["status"], "failed", "{req}");
        assert_eq!(last["error"]["message"], "simulated generation failure");
        assert!(last["error"]["code"].is_string());
        assert!(last["expires_at"].is_null());
    }
}

#[tokio::test]
async fn list_pages_and_delete() {
    let s = start().await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let v = create(&s, &json!({"prompt": format!("clip {n}")})).await;
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let page: Value = s
        .get("/v1/videos?limit=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["object"], "list");
    assert_eq!(page["has_more"], true);
    assert_eq!(page["data"][0]["id"], ids[2].as_str());
    assert_eq!(page["first_id"], ids[2].as_str());
    assert_eq!(page["last_id"], ids[1].as_str());
    let after = format!("/v1/videos?limit=2&after={}", ids[1]);
    let rest: Value = s.get(&after).send().await.unwrap().json().await.unwrap();
    assert_eq!(rest["has_more"], false);
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["data"][0]["id"], ids[0].as_str());
    let asc: Value = s
        .get("/v1/videos?order=asc")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(asc["data"][0]["id"], ids[0].as_str());
    let bad = s.get("/v1/videos?order=sideways").send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let url = s.url(&format!("/v1/videos/{}", ids[0]));
    let resp = s.client.delete(&url).bearer_auth("k").send().await.unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v,
        json!({"id": ids[0], "object": "video.deleted", "deleted": true})
    );
    let gone = s
        .get(&format!("/v1/videos/{}", ids[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let v: Value = gone.json().await.unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
    let again = s.client.delete(&url).bearer_auth("k").send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}
