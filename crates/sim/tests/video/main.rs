//! Simulated video-task providers over HTTP: one module per provider, plus
//! the media files their results point at.

#[path = "../common/mod.rs"]
mod common;

mod files;
mod kling;
mod luma;
mod runway;
mod shared;
mod sora;
mod veo;

use std::time::{Duration, Instant};

use reqwest::RequestBuilder;
use serde_json::Value;

use common::Server;

/// Short task timing for tests: queued 200 ms, then running 600 ms. Long
/// enough that a poll every 20 ms sees each state even on a busy machine.
pub async fn start() -> Server {
    let s = common::start().await;
    s.sim.set_task_timing(200, 600);
    s
}

/// Poll until `state` reads one of `finals`. Returns each state seen with
/// the first body that showed it, in order, starting with `first` (the
/// create answer, when it carries a state).
pub async fn follow(
    first: Option<Value>,
    poll: impl Fn() -> RequestBuilder,
    state: impl Fn(&Value) -> String,
    finals: &[&str],
) -> Vec<(String, Value)> {
    let mut seen: Vec<(String, Value)> = Vec::new();
    let mut note = |v: Value| {
        let s = state(&v);
        if seen.last().map(|(last, _)| last) != Some(&s) {
            assert!(
                !seen.iter().any(|(old, _)| old == &s),
                "state {s} came back after {seen:?}"
            );
            seen.push((s, v));
        }
    };
    if let Some(v) = first {
        note(v);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let resp = poll().send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        let done = finals.contains(&state(&v).as_str());
        note(v);
        if done {
            return seen;
        }
        assert!(Instant::now() < deadline, "task never finished: {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The state names of `follow`'s answer.
pub fn names(seen: &[(String, Value)]) -> Vec<&str> {
    seen.iter().map(|(s, _)| s.as_str()).collect()
}

/// The body of a state `follow` saw.
pub fn body<'a>(seen: &'a [(String, Value)], state: &str) -> &'a Value {
    &seen.iter().find(|(s, _)| s == state).expect(state).1
}

/// Fetch a result URL and check it is the simulator's MP4.
pub async fn assert_mp4(s: &Server, url: &str) {
    let resp = s.client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    assert_eq!(resp.headers()["content-type"], "video/mp4");
    assert_eq!(&resp.bytes().await.unwrap()[4..8], b"ftyp");
}

/// The field `key` as a string, for `follow`.
pub fn field(key: &'static str) -> impl Fn(&Value) -> String {
    move |v| v[key].as_str().unwrap_or("?").to_owned()
}
