//! Video tasks end to end over HTTP, on SQLite and PostgreSQL: the seed's chat request, the
//! task engine across restarts and processes, billing exactly once, webhooks.

mod common;

use std::time::Duration;

use common::{backends, TestGateway};
use serde_json::{json, Value};
use switchyard_store::NewKey;

const USD: i64 = 1_000_000_000;
/// runway-video: $0.05 a second, 5 seconds by default.
const RUNWAY_5S: i64 = USD / 4;
const SEED_IMAGE: &str = "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg";

/// The request of the page this product was specified from, exactly as written there.
fn seed_request() -> Value {
    json!({"model": "runway-video", "messages": [{"role": "user", "content": [{"type": "text", "text": format!("{SEED_IMAGE} 两只狗骑摩托")}]}]})
}

/// (content of every delta, raw data lines) of a chat stream.
async fn chat_stream(resp: reqwest::Response) -> (String, Vec<String>) {
    let text = resp.text().await.unwrap();
    let datas: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(str::to_string)
        .collect();
    let content = datas
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    (content, datas)
}

fn markdown_link(text: &str) -> String {
    let start =
        text.find("[▶️ Watch the video](").expect("a video link") + "[▶️ Watch the video](".len();
    text[start..].split(')').next().unwrap().to_string()
}

async fn wait_task(gw: &TestGateway, id: &str, state: &str) -> switchyard_store::Task {
    for _ in 0..100 {
        let t = gw.state.store.task(id).await.unwrap().unwrap();
        if t.state == state {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("task {id} never reached {state}");
}

#[tokio::test]
async fn the_seed_request_streams_progress_and_ends_with_a_playable_video() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let mut req = seed_request();
        req["stream"] = json!(true);
        let resp = gw
            .post("/v1/chat/completions", &key)
            .json(&req)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        let (content, datas) = chat_stream(resp).await;
        assert_eq!(datas.last().unwrap(), "[DONE]");
        let first: Value = serde_json::from_str(&datas[0]).unwrap();
        assert_eq!(first["object"], "chat.completion.chunk");
        let task_id = content.split('`').nth(1).unwrap().to_string();
        assert!(task_id.starts_with("task_"), "{content}");
        assert!(
            content.contains("Generating…"),
            "progress was streamed: {content}"
        );
        gw.assert_mp4(&markdown_link(&content)).await;

        // Runway received the seed's image and prompt, in its own format.
        let sent = gw
            .sim
            .last_body("/v1/image_to_video")
            .expect("runway was called");
        assert_eq!(
            (
                sent["promptImage"].as_str(),
                sent["promptText"].as_str(),
                sent["model"].as_str()
            ),
            (Some(SEED_IMAGE), Some("两只狗骑摩托"), Some("gen4_turbo"))
        );
        assert!(gw
            .sim
            .last_header("/v1/image_to_video", "x-runway-version")
            .is_some());

        let task = gw.state.store.task(&task_id).await.unwrap().unwrap();
        assert_eq!(
            (task.state.as_str(), task.cost_charged),
            ("succeeded", RUNWAY_5S)
        );
        assert_eq!(gw.balance(&user.id).await, USD - RUNWAY_5S, "charged once");
        gw.settle_budgets().await;
        assert_eq!(gw.state.store.held(&user.id).await.unwrap(), 0);
        let logs = gw.wait_logs(&user.id, 1).await;
        assert_eq!(
            (
                logs[0].id.as_str(),
                logs[0].endpoint.as_str(),
                logs[0].cost,
                logs[0].status
            ),
            (task_id.as_str(), "task:chat", RUNWAY_5S, 200)
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn the_seed_request_without_streaming_answers_one_completion() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (_, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, body) = gw
            .post_json("/v1/chat/completions", &key, seed_request())
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["object"], "chat.completion");
        let text = body["choices"][0]["message"]["content"].as_str().unwrap();
        assert!(
            text.contains("task_") && text.contains("Duration: 5 s"),
            "{text}"
        );
        gw.assert_mp4(&markdown_link(text)).await;
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn a_failed_video_says_why_in_the_chat_and_costs_nothing() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let req = json!({"model": "runway-video", "stream": true, "messages": [{"role": "user", "content": "[fail] a cat"}]});
        let (content, datas) = chat_stream(
            gw.post("/v1/chat/completions", &key)
                .json(&req)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(content.contains("Generation failed"), "{content}");
        assert_eq!(datas.last().unwrap(), "[DONE]");
        let tasks = gw
            .state
            .store
            .tasks(&switchyard_store::TaskFilter {
                user_id: Some(user.id.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            (tasks[0].state.as_str(), tasks[0].cost_charged),
            ("failed", 0)
        );
        assert_eq!(gw.balance(&user.id).await, USD, "refunded");
        let logs = gw.wait_logs(&user.id, 1).await;
        assert_eq!((logs[0].cost, logs[0].status), (0, 502));
        assert!(
            logs[0].error.as_deref().unwrap_or("").contains("simulated"),
            "{:?}",
            logs[0]
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn bad_video_requests_are_refused_before_anything_is_held() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (user, key) = gw.user_with_key(RUNWAY_5S - 1, NewKey::default()).await;
        let (status, body) = gw
            .post_json("/v1/chat/completions", &key, seed_request())
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (429, Some("insufficient_quota")),
            "{body}"
        );
        let (_, rich) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, body) = gw
            .post_json(
                "/v1/video/generations",
                &rich,
                json!({"model": "runway-video", "prompt": "a boat", "loop": true}),
            )
            .await;
        assert_eq!(
            (status, body["error"]["param"].as_str()),
            (400, Some("loop")),
            "{body}"
        );
        let (status, _) = gw
            .post_json(
                "/v1/video/generations",
                &rich,
                json!({"model": "runway-video", "prompt": "a boat", "duration": 7}),
            )
            .await;
        assert_eq!(status, 400);
        let (status, _) = gw
            .post_json(
                "/v1/video/generations",
                &rich,
                json!({"model": "runway-video", "prompt": ""}),
            )
            .await;
        assert_eq!(status, 400);
        let (status, _) = gw
            .post_json(
                "/v1/video/generations",
                &rich,
                json!({"model": "no-such-video", "prompt": "x"}),
            )
            .await;
        assert_eq!(status, 404);
        assert_eq!(gw.balance(&user.id).await, RUNWAY_5S - 1);
        let none = gw
            .state
            .store
            .tasks(&switchyard_store::TaskFilter {
                user_id: Some(user.id.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(none.is_empty());
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn a_killed_gateway_resumes_its_tasks_and_charges_once() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        gw.sim.set_task_timing(300, 1200);
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, body) = gw
            .post_json(
                "/v1/video/generations",
                &key,
                json!({"model": "runway-video", "prompt": "a lighthouse", "image": SEED_IMAGE}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let id = body["data"]["task_id"].as_str().unwrap().to_string();
        assert_eq!(
            gw.balance(&user.id).await,
            USD - RUNWAY_5S,
            "held at submit"
        );
        let gw = gw.restart().await;
        let task = wait_task(&gw, &id, "succeeded").await;
        assert_eq!(task.cost_charged, RUNWAY_5S);
        assert_eq!(
            gw.balance(&user.id).await,
            USD - RUNWAY_5S,
            "charged exactly once across the restart"
        );
        let (_, read) = gw.post_json("/v1/video/generations", &key, json!({})).await;
        assert_eq!(read["error"]["type"], "invalid_request_error");
        let got: Value = gw
            .get(&format!("/v1/video/generations/{id}"), &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["data"]["status"], "succeeded");
        gw.assert_mp4(got["data"]["url"].as_str().unwrap()).await;
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn two_processes_on_one_database_bill_each_task_once() {
    let gw = TestGateway::start_fast("postgres").await;
    let other = gw.second_process().await;
    let (user, key) = gw.user_with_key(2 * USD, NewKey::default()).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let front = if i % 2 == 0 { &gw } else { &other };
        other.state.catalog.reload().await.unwrap();
        let (status, body) = front
            .post_json(
                "/v1/video/generations",
                &key,
                json!({"model": "runway-video", "prompt": format!("scene {i}")}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        ids.push(body["data"]["task_id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        wait_task(&gw, id, "succeeded").await;
    }
    assert_eq!(gw.balance(&user.id).await, 2 * USD - 6 * RUNWAY_5S);
    gw.settle_budgets().await;
    assert_eq!(gw.state.store.held(&user.id).await.unwrap(), 0);
    other.shutdown().await;
    gw.shutdown().await;
}

#[tokio::test]
async fn tasks_past_the_timeout_fail_and_refund() {
    for b in backends() {
        let gw = TestGateway::start_with(b, |sim| {
            common::default_config(sim).replace(
                "poll_interval_secs = 0.1",
                "poll_interval_secs = 0.1\ntimeout_secs = 1.0",
            )
        })
        .await;
        gw.sim.set_task_timing(60_000, 60_000);
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (_, body) = gw
            .post_json(
                "/v1/video/generations",
                &key,
                json!({"model": "runway-video", "prompt": "slow"}),
            )
            .await;
        let id = body["data"]["task_id"].as_str().unwrap().to_string();
        let t = wait_task(&gw, &id, "failed").await;
        assert!(t.error.unwrap().contains("in time"));
        assert_eq!(gw.balance(&user.id).await, USD);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn cancelling_stops_the_provider_and_refunds() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        gw.sim.set_task_timing(5_000, 5_000);
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (_, body) = gw
            .post_json(
                "/v1/video/generations",
                &key,
                json!({"model": "runway-video", "prompt": "long"}),
            )
            .await;
        let id = body["data"]["task_id"].as_str().unwrap().to_string();
        let (status, t) = gw
            .post_json(&format!("/api/tasks/{id}/cancel"), &key, json!({}))
            .await;
        assert_eq!(
            (status, t["state"].as_str()),
            (200, Some("cancelled")),
            "{t}"
        );
        assert_eq!(
            gw.sim.requests(&format!(
                "/v1/tasks/{}",
                gw.state
                    .store
                    .task(&id)
                    .await
                    .unwrap()
                    .unwrap()
                    .upstream_id
                    .unwrap()
            )),
            1,
            "DELETE reached Runway"
        );
        assert_eq!(gw.balance(&user.id).await, USD);
        // The owner's list holds it, counted; someone else's list and lookups do not.
        let (_, stranger) = gw.user_with_key(USD, NewKey::default()).await;
        let list = |key: String| {
            let gw = &gw;
            async move {
                let r = gw.get("/api/tasks?state=cancelled&limit=5", &key).send();
                r.await.unwrap().json::<Value>().await.unwrap()
            }
        };
        let mine = list(key.clone()).await;
        assert_eq!(
            (mine["total"].as_i64(), mine["data"][0]["id"].as_str()),
            (Some(1), Some(id.as_str())),
            "{mine}"
        );
        let theirs = list(stranger.clone()).await;
        assert_eq!(
            (
                theirs["total"].as_i64(),
                theirs["data"].as_array().map(Vec::len)
            ),
            (Some(0), Some(0)),
            "{theirs}"
        );
        assert_eq!(
            gw.get(&format!("/api/tasks/{id}"), &stranger)
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        assert_eq!(
            gw.get(&format!("/v1/video/generations/{id}"), &stranger)
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn webhooks_are_signed_and_follow_every_state_change() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (hook, mut rx) = common::webhook_receiver().await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (_, body) = gw
            .post_json(
                "/v1/video/generations",
                &key,
                json!({"model": "runway-video", "prompt": "birds", "notify_hook": hook}),
            )
            .await;
        let id = body["data"]["task_id"].as_str().unwrap().to_string();
        wait_task(&gw, &id, "succeeded").await;
        let secret = gw.state.store.webhook_secret(&user.id).await.unwrap();
        // (signature, body) of each delivery, until the final one arrives.
        let mut got: Vec<(String, String)> = Vec::new();
        while !got.iter().any(|(_, b)| b.contains("\"succeeded\"")) {
            let (headers, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("a delivery within 5 s")
                .unwrap();
            let sig = headers
                .get("x-switchyard-signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            got.push((sig, body));
        }
        let states: Vec<String> = got
            .iter()
            .map(|(_, b)| {
                serde_json::from_str::<Value>(b).unwrap()["data"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert!(
            states.first().map(String::as_str) == Some("queued")
                && states.last().map(String::as_str) == Some("succeeded"),
            "{states:?}"
        );
        for (sig, body) in &got {
            let t: i64 = sig
                .trim_start_matches("t=")
                .split(',')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(
                sig,
                &switchyard_gateway::task::webhook::signature(&secret, t, body),
                "signed with the user's secret"
            );
        }
        let me: Value = gw
            .get("/api/me/webhook-secret", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["secret"], secret);
        let detail: Value = gw
            .get(&format!("/api/tasks/{id}"), &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(detail["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["status"] == "delivered"));
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn webhooks_to_private_addresses_are_refused_unless_allowed() {
    let gw = TestGateway::start_with("sqlite", |sim| {
        common::default_config(sim).replace(
            "allow_private_networks = [\"127.0.0.1/32\"]",
            "allow_private_networks = []",
        )
    })
    .await;
    gw.sim.set_task_timing(50, 100);
    let (hook, mut rx) = common::webhook_receiver().await;
    let (_, key) = gw.user_with_key(USD, NewKey::default()).await;
    let (_, body) = gw
        .post_json(
            "/v1/video/generations",
            &key,
            json!({"model": "runway-video", "prompt": "x", "notify_hook": hook}),
        )
        .await;
    let id = body["data"]["task_id"].as_str().unwrap().to_string();
    wait_task(&gw, &id, "succeeded").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        rx.try_recv().is_err(),
        "nothing reached the loopback receiver"
    );
    let deliveries = gw.state.store.deliveries(&id).await.unwrap();
    assert!(
        !deliveries.is_empty()
            && deliveries.iter().all(|d| d.status == "failed"
                && d.last_error.as_deref().unwrap_or("").contains("private")),
        "{deliveries:?}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn every_provider_makes_a_video_through_the_unified_door() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (user, key) = gw.user_with_key(10 * USD, NewKey::default()).await;
        // The simulator's own JPEG as the reference image: on 127.0.0.1, allowed in tests.
        let image = format!("{}/sim/files/thumbnail.jpg", gw.sim_url);
        // (model, price of the default duration, request extras)
        let cases = [
            ("runway-video", RUNWAY_5S, json!({})),
            ("luma-video", 400_000_000, json!({"aspect_ratio": "16:9"})),
            ("luma-relay-video", 300_000_000, json!({"loop": true})),
            ("kling-video", 280_000_000, json!({"resolution": "1080p"})),
            ("sora-2", 400_000_000, json!({"aspect_ratio": "16:9"})),
            ("veo-3", 8 * 400_000_000, json!({"aspect_ratio": "16:9"})),
        ];
        let mut spent = 0;
        for (model, price, extra) in cases {
            let mut req =
                json!({"model": model, "prompt": format!("a test of {model}"), "image": image});
            for (k, v) in extra.as_object().unwrap() {
                req[k] = v.clone();
            }
            let (status, body) = gw.post_json("/v1/video/generations", &key, req).await;
            assert_eq!(status, 200, "{model}: {body}");
            let id = body["data"]["task_id"].as_str().unwrap().to_string();
            let task = wait_task(&gw, &id, "succeeded").await;
            assert_eq!(task.cost_charged, price, "{model}");
            spent += price;
            let got: Value = gw
                .get(&format!("/v1/video/generations/{id}"), &key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            gw.assert_mp4(got["data"]["url"].as_str().unwrap()).await;
        }
        assert_eq!(gw.balance(&user.id).await, 10 * USD - spent);
        // Providers that take bytes got the image inlined; the others got the URL as given.
        let veo = gw.sim.last_body("/v1beta/models/").unwrap();
        assert!(
            veo.pointer("/instances/0/image/bytesBase64Encoded")
                .and_then(Value::as_str)
                .is_some_and(|b| b.len() > 100),
            "{veo}"
        );
        let sora = gw.sim.last_body("/v1/videos").unwrap();
        assert!(sora.get("input_reference").is_some(), "{sora}");
        let kling = gw.sim.last_body("/v1/videos/image2video").unwrap();
        assert_eq!(
            (
                kling["image"].as_str(),
                kling["mode"].as_str(),
                kling["duration"].as_str()
            ),
            (Some(image.as_str()), Some("pro"), Some("5"))
        );
        let luma = gw.sim.last_body("/dream-machine/v1/generations").unwrap();
        assert_eq!(
            luma["keyframes"]["frame0"]["url"].as_str(),
            Some(image.as_str())
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn the_openai_videos_door_creates_lists_downloads_and_deletes() {
    for b in backends() {
        let gw = TestGateway::start_fast(b).await;
        let (_, key) = gw.user_with_key(10 * USD, NewKey::default()).await;
        let (status, v) = gw.post_json("/v1/videos", &key, json!({"model": "sora-2", "prompt": "a paper boat", "seconds": "8", "size": "1280x720"})).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            (
                v["object"].as_str(),
                v["status"].as_str(),
                v["seconds"].as_str(),
                v["size"].as_str()
            ),
            (Some("video"), Some("queued"), Some("8"), Some("1280x720"))
        );
        let id = v["id"].as_str().unwrap().to_string();
        wait_task(&gw, &id, "succeeded").await;
        let done: Value = gw
            .get(&format!("/v1/videos/{id}"), &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (done["status"].as_str(), done["progress"].as_i64()),
            (Some("completed"), Some(100))
        );
        let list: Value = gw
            .get("/v1/videos", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["data"][0]["id"].as_str(), Some(id.as_str()));
        // The content comes through the gateway (it needs the channel's key upstream).
        let mp4 = gw
            .get(&format!("/v1/videos/{id}/content"), &key)
            .send()
            .await
            .unwrap();
        assert_eq!(mp4.status(), 200);
        assert_eq!(&mp4.bytes().await.unwrap()[4..8], b"ftyp");
        let anon = gw
            .http
            .get(format!("{}/v1/videos/{id}/content", gw.url))
            .send()
            .await
            .unwrap();
        assert_eq!(anon.status(), 401, "no key, no token");
        let forged = gw
            .http
            .get(format!(
                "{}/v1/videos/{id}/content?token=00000000000000000000000000000000",
                gw.url
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 401);
        let (status, bad) = gw
            .post_json(
                "/v1/videos",
                &key,
                json!({"model": "sora-2", "prompt": "x", "seconds": "5"}),
            )
            .await;
        assert_eq!(
            (status, bad["error"]["param"].as_str()),
            (400, Some("duration")),
            "{bad}"
        );
        let del: Value = gw
            .http
            .delete(format!("{}/v1/videos/{id}", gw.url))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            del,
            json!({"id": id, "object": "video.deleted", "deleted": true})
        );
        gw.shutdown().await;
    }
}
