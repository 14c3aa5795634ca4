//! Behaviour every provider shares: fault sources, timing, counters.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::start;

#[tokio::test]
async fn task_ms_header_overrides_sim_timing() {
    let s = start().await;
    s.sim.set_task_timing(60_000, 60_000);
    let req = json!({"user_prompt": "x"});
    let slow: Value = s
        .post("/luma/generations", &req)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fast = s
        .post("/luma/generations", &req)
        .header("x-sim-fault", "task_ms=0:0");
    let fast: Value = fast.send().await.unwrap().json().await.unwrap();
    assert_eq!(fast["state"], "completed");
    let path = format!("/luma/generations/{}", slow["id"].as_str().unwrap());
    let v: Value = s.get(&path).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["state"], "pending");
}

#[tokio::test]
async fn default_faults_apply_to_tasks() {
    let s = start().await;
    s.sim.set_task_timing(0, 0);
    s.sim.set_faults("task_fail");
    let req = json!({"user_prompt": "x"});
    let v: Value = s
        .post("/luma/generations", &req)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["state"], "failed");
    // A later source turns it off again.
    let ok = s
        .post("/luma/generations", &req)
        .header("x-sim-fault", "task_fail=false");
    let v: Value = ok.send().await.unwrap().json().await.unwrap();
    assert_eq!(v["state"], "completed");

    s.sim.set_faults("latency_ms=150");
    let started = Instant::now();
    let resp = s.post("/luma/generations", &req).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    s.sim.set_faults("status=502");
    let resp = s.post("/luma/generations", &req).send().await.unwrap();
    assert_eq!(resp.status(), 502);
    assert!(resp.json::<Value>().await.unwrap()["detail"].is_string());
}

#[tokio::test]
async fn request_counters_include_task_routes() {
    let s = start().await;
    let created: Value = s
        .post("/dream-machine/v1/generations", &json!({"prompt": "x"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!(
        "/dream-machine/v1/generations/{}",
        created["id"].as_str().unwrap()
    );
    s.get(&path).send().await.unwrap();
    s.get(&path).send().await.unwrap();
    s.post("/v1/videos", &json!({"prompt": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(s.sim.requests("/dream-machine/v1/generations"), 1);
    assert_eq!(s.sim.requests(&path), 2);
    assert_eq!(s.sim.requests("/v1/videos"), 1);
    let stats: Value = s
        .client
        .get(s.url("/sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["/v1/videos"], 1);
}
