//! The relay over HTTP against the simulator, on SQLite and PostgreSQL: answers, streams,
//! failover, health, billing and errors, as a client sees them.

mod common;

use std::time::Duration;

use common::{backends, default_config, TestGateway, ROOT_KEY};
use futures::StreamExt;
use serde_json::{json, Value};
use switchyard_store::NewKey;

const USD: i64 = 1_000_000_000;

/// A config with a second, preferred channel whose upstream model name carries a fault.
fn with_faulty_primary(fault: &str, key: &str) -> impl FnOnce(&str) -> String {
    let (fault, key) = (fault.to_string(), key.to_string());
    move |sim: &str| {
        format!(
            r#"{}
[[channels]]
name = "primary"
base_url = "{sim}"
keys = ["{key}"]
models = ["gpt-4o-mini"]
model_map = {{ "gpt-4o-mini" = "gpt-4o-mini@{fault}" }}
priority = 10
"#,
            default_config(sim)
        )
    }
}

fn error_of(body: &Value) -> (&str, &str) {
    let e = &body["error"];
    (
        e["type"].as_str().unwrap_or(""),
        e["code"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn chat_is_charged_exactly_and_logged() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let r = gw.post("/v1/chat/completions", &key).json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 100, "some_unknown_field": {"kept": true}})).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let rid = r.headers()["x-request-id"].to_str().unwrap().to_string();
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["object"], "chat.completion");
        let (pt, ct) = (
            body["usage"]["prompt_tokens"].as_i64().unwrap(),
            body["usage"]["completion_tokens"].as_i64().unwrap(),
        );
        // $0.15 / $0.60 per 1M tokens = 150 / 600 nano-dollars per token.
        let cost = pt * 150 + ct * 600;
        assert_eq!(gw.balance(&user.id).await, USD - cost, "{b}");
        let logs = gw.wait_logs(&user.id, 1).await;
        let row = &logs[0];
        assert_eq!(
            (
                row.id.as_str(),
                row.tokens_in,
                row.tokens_out,
                row.cost,
                row.status
            ),
            (rid.as_str(), pt, ct, cost, 200)
        );
        assert!(row.channel_id.is_some());
        gw.settle_budgets().await;
        assert_eq!(
            gw.state.store.held(&user.id).await.unwrap(),
            0,
            "no hold left behind"
        );
        gw.shutdown().await;
    }
}

async fn read_sse(resp: reqwest::Response) -> (Vec<String>, String) {
    let text = resp.text().await.unwrap_or_default();
    let datas = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(str::to_string)
        .collect();
    (datas, text)
}

/// The JSON chunks of a stream's `data:` lines, before its final `[DONE]`.
fn stream_chunks(datas: &[String]) -> Vec<Value> {
    datas[..datas.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

/// Every chunk carries a choice: no usage-only chunk was passed on.
fn no_usage_chunk(chunks: &[Value]) -> bool {
    chunks
        .iter()
        .all(|c| !c["choices"].as_array().unwrap().is_empty())
}

#[tokio::test]
async fn streams_pass_through_with_usage_only_when_asked() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let req = json!({"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "hello there"}]});
        let r = gw
            .post("/v1/chat/completions", &key)
            .json(&req)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        let (datas, _) = read_sse(r).await;
        assert_eq!(datas.last().unwrap(), "[DONE]");
        let chunks = stream_chunks(&datas);
        assert!(no_usage_chunk(&chunks), "no usage chunk unless asked");
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert!(
            text.starts_with("Simulated reply to: hello there"),
            "{text}"
        );
        // The provider was asked for usage all the same, and got the caller's body otherwise.
        let mut sent = req.clone();
        sent["stream_options"] = json!({"include_usage": true});
        assert_eq!(gw.sim.last_body("/v1/chat/completions").unwrap(), sent);

        // Stream options of the caller's own are kept, with usage asked for.
        let mut other = req.clone();
        other["stream_options"] = json!({"include_usage": false, "x_option": 1});
        let r = gw
            .post("/v1/chat/completions", &key)
            .json(&other)
            .send()
            .await
            .unwrap();
        let (datas, _) = read_sse(r).await;
        assert!(no_usage_chunk(&stream_chunks(&datas)));
        assert_eq!(
            gw.sim.last_body("/v1/chat/completions").unwrap()["stream_options"],
            json!({"include_usage": true, "x_option": 1})
        );

        let mut asked = req.clone();
        asked["stream_options"] = json!({"include_usage": true});
        let r = gw
            .post("/v1/chat/completions", &key)
            .json(&asked)
            .send()
            .await
            .unwrap();
        let (datas, _) = read_sse(r).await;
        let last: Value = serde_json::from_str(&datas[datas.len() - 2]).unwrap();
        assert_eq!(last["choices"], json!([]));
        let (pt, ct) = (
            last["usage"]["prompt_tokens"].as_i64().unwrap(),
            last["usage"]["completion_tokens"].as_i64().unwrap(),
        );
        let logs = gw.wait_logs(&user.id, 3).await;
        assert!(logs.iter().all(|l| l.stream == 1
            && l.status == 200
            && l.tokens_in == pt
            && l.tokens_out == ct
            && l.ttft_ms.is_some()));
        assert_eq!(gw.balance(&user.id).await, USD - 3 * (pt * 150 + ct * 600));
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn failover_on_5xx_and_429_but_not_on_400() {
    for b in backends() {
        for (fault, retried) in [
            ("status=500", true),
            ("status=429", true),
            ("status=503", true),
            ("status=400", false),
        ] {
            let gw = TestGateway::start_with(b, with_faulty_primary(fault, "sk-sim-ok")).await;
            let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
            let (status, body) = gw.chat(&key, "gpt-4o-mini").await;
            assert_eq!(
                gw.sim.requests("/v1/chat/completions"),
                if retried { 2 } else { 1 },
                "{fault}"
            );
            if retried {
                assert_eq!(status, 200, "{fault}: {body}");
                let logs = gw.wait_logs(&user.id, 1).await;
                let primary = gw
                    .state
                    .store
                    .channel_by_name("primary")
                    .await
                    .unwrap()
                    .unwrap();
                assert_ne!(
                    logs[0].channel_id.as_deref(),
                    Some(primary.id.as_str()),
                    "served by the other channel"
                );
            } else {
                assert_eq!(status, 400, "{body}");
                assert_eq!(error_of(&body).0, "invalid_request_error");
                assert_eq!(gw.balance(&user.id).await, USD, "hold released");
            }
            gw.shutdown().await;
        }
    }
}

#[tokio::test]
async fn a_provider_silent_past_the_first_byte_timeout_fails_over() {
    for b in backends() {
        // The harness allows 1 s for the first byte; the primary takes 3.
        let gw =
            TestGateway::start_with(b, with_faulty_primary("latency_ms=3000", "sk-sim-ok")).await;
        let (_, key) = gw.user_with_key(USD, NewKey::default()).await;
        let started = std::time::Instant::now();
        let (status, body) = gw.chat(&key, "gpt-4o-mini").await;
        assert_eq!(status, 200, "{body}");
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "did not wait for the slow channel"
        );
        assert_eq!(gw.sim.requests("/v1/chat/completions"), 2);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn a_trusted_proxy_address_is_used_for_ip_allow_lists() {
    for b in backends() {
        let gw = TestGateway::start_with(b, |sim| {
            default_config(sim).replace("[gateway]\n", "[gateway]\ntrust_forwarded_for = true\n")
        })
        .await;
        let (_, key) = gw
            .user_with_key(
                USD,
                NewKey {
                    ip_allow: vec!["203.0.113.0/24".into()],
                    ..Default::default()
                },
            )
            .await;
        let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
        let from = |ip: &'static str| {
            gw.post("/v1/chat/completions", &key)
                .header("x-forwarded-for", ip)
                .json(&body)
                .send()
        };
        assert_eq!(from("203.0.113.9, 10.0.0.1").await.unwrap().status(), 200);
        assert_eq!(from("198.51.100.1").await.unwrap().status(), 403);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn a_refused_channel_key_disables_the_channel_with_a_reason() {
    for b in backends() {
        let gw = TestGateway::start_with(b, with_faulty_primary("words=3", "sk-sim-invalid")).await;
        let (_, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, _) = gw.chat(&key, "gpt-4o-mini").await;
        assert_eq!(status, 200, "served by the healthy channel");
        let primary = gw
            .state
            .store
            .channel_by_name("primary")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(primary.status, "auto_disabled");
        assert!(primary.status_reason.unwrap().contains("401"));
        // Disabled channels get no more traffic.
        let before = gw.sim.requests("/v1/chat/completions");
        gw.chat(&key, "gpt-4o-mini").await;
        assert_eq!(gw.sim.requests("/v1/chat/completions"), before + 1);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn a_failing_channel_is_benched_then_probed_back() {
    for b in backends() {
        let gw = TestGateway::start_with(b, |sim| {
            format!(
                "[gateway.health]\nfailures = 2\nwindow = 4\ncooldown_secs = 1\n{}",
                with_faulty_primary("status=502", "sk-sim-ok")(sim)
            )
        })
        .await;
        let (_, key) = gw.user_with_key(USD, NewKey::default()).await;
        for _ in 0..2 {
            assert_eq!(gw.chat(&key, "gpt-4o-mini").await.0, 200);
        }
        // Two failures benched the primary: the next requests go straight to the fallback.
        let before = gw.sim.requests("/v1/chat/completions");
        for _ in 0..3 {
            assert_eq!(gw.chat(&key, "gpt-4o-mini").await.0, 200);
        }
        assert_eq!(
            gw.sim.requests("/v1/chat/completions") - before,
            3,
            "benched channel skipped"
        );
        // After the cool-down one probe goes to the primary again.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let before = gw.sim.requests("/v1/chat/completions");
        assert_eq!(gw.chat(&key, "gpt-4o-mini").await.0, 200);
        assert_eq!(
            gw.sim.requests("/v1/chat/completions") - before,
            2,
            "probe, then fallback"
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn when_every_channel_fails_the_caller_gets_502_and_keeps_their_money() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        gw.sim.set_faults("status=500");
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, body) = gw.chat(&key, "gpt-4o-mini").await;
        assert_eq!(status, 502, "{body}");
        assert_eq!(error_of(&body), ("server_error", "upstream_error"));
        assert_eq!(gw.balance(&user.id).await, USD);
        let logs = gw.wait_logs(&user.id, 1).await;
        assert_eq!((logs[0].status, logs[0].cost), (502, 0));
        gw.sim.set_faults("status=429");
        let (status, body) = gw.chat(&key, "gpt-4o-mini").await;
        assert_eq!(status, 429, "{body}");
        assert_eq!(error_of(&body).1, "rate_limit_exceeded");
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn usage_is_counted_with_the_tokenizer_when_the_provider_sends_none() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        gw.sim.set_faults("no_usage");
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (status, body) = gw.chat(&key, "gpt-4o-mini").await;
        assert_eq!(status, 200);
        assert!(body.get("usage").is_none() || body["usage"].is_null());
        let r = gw.post("/v1/chat/completions", &key).json(&json!({"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "hello there"}]})).send().await.unwrap();
        read_sse(r).await;
        let logs = gw.wait_logs(&user.id, 2).await;
        for l in &logs {
            assert!(l.tokens_in > 0 && l.tokens_out >= 10, "{l:?}");
            assert_eq!(l.cost, l.tokens_in * 150 + l.tokens_out * 600);
        }
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn a_stream_broken_upstream_ends_with_an_error_event_and_bills_what_was_sent() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        gw.sim.set_faults("cut_after=3,no_usage");
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let r = gw.post("/v1/chat/completions", &key).json(&json!({"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "hi"}]})).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let (datas, _) = read_sse(r).await;
        assert!(!datas.contains(&"[DONE]".to_string()), "no fake completion");
        let last: Value = serde_json::from_str(datas.last().unwrap()).unwrap();
        assert_eq!(last["error"]["code"], "upstream_stream_error");
        let sent: String = datas
            .iter()
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        assert_eq!(
            sent.split_whitespace().count(),
            3,
            "three words reached the caller: {sent:?}"
        );
        let logs = gw.wait_logs(&user.id, 1).await;
        assert_eq!(logs[0].status, 502);
        assert_eq!(
            logs[0].tokens_out,
            switchyard_gateway::meter::count_tokens(&sent),
            "billed for exactly what was sent"
        );
        assert_eq!(gw.balance(&user.id).await, USD - logs[0].cost);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn a_caller_who_hangs_up_is_charged_for_what_was_produced() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        gw.sim.set_faults("chunk_delay_ms=100,words=200,no_usage");
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let r = gw.post("/v1/chat/completions", &key).json(&json!({"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "hi"}]})).send().await.unwrap();
        let mut body = r.bytes_stream();
        let mut seen = 0;
        while let Some(Ok(_)) = body.next().await {
            seen += 1;
            if seen == 4 {
                break;
            }
        }
        drop(body);
        let logs = gw.wait_logs(&user.id, 1).await;
        assert_eq!(logs[0].status, 499);
        assert!(
            logs[0].tokens_out >= 2 && logs[0].tokens_out < 50,
            "{:?}",
            logs[0]
        );
        assert_eq!(gw.balance(&user.id).await, USD - logs[0].cost);
        // The upstream call was cancelled, not run to its end in the background.
        tokio::time::sleep(Duration::from_millis(300)).await;
        gw.settle_budgets().await;
        assert_eq!(gw.state.store.held(&user.id).await.unwrap(), 0);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn a_shutdown_lets_the_stream_in_flight_finish_and_log_it() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        gw.sim.set_faults("chunk_delay_ms=20,words=15");
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let r = gw.post("/v1/chat/completions", &key).json(&json!({"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "hi"}]})).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let mut body = r.bytes_stream();
        let mut text = String::from_utf8(body.next().await.unwrap().unwrap().to_vec()).unwrap();
        let (url, store) = (gw.url.clone(), gw.state.store.clone());
        // Shut down while the stream has most of its chunks to go.
        let stopping = tokio::spawn(gw.shutdown());
        while let Some(chunk) = body.next().await {
            text.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        }
        assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
        tokio::time::timeout(Duration::from_secs(10), stopping)
            .await
            .expect("the shutdown ends once the stream has")
            .unwrap();
        // The row was written before the gateway exited, and nobody is listening any more.
        let logs = store
            .logs(&switchyard_store::LogFilter {
                user_id: Some(user.id.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(logs.data.len(), 1, "{b}");
        assert_eq!(logs.data[0].status, 200);
        assert!(logs.data[0].tokens_out > 0);
        assert!(reqwest::get(format!("{url}/healthz")).await.is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_requests_never_overdraw() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        // gpt-4-gizmo-* costs $0.01 a call; the balance covers exactly 50 calls.
        let (user, key) = gw.user_with_key(USD / 2, NewKey::default()).await;
        let reqs = (0..200).map(|_| {
            let (http, url, key) = (gw.http.clone(), gw.url.clone(), key.clone());
            async move {
                let r = http
                    .post(format!("{url}/v1/chat/completions"))
                    .bearer_auth(key)
                    .json(&json!({"model": "gpt-4-gizmo-g-abc", "messages": [{"role": "user", "content": "hi"}]}))
                    .send()
                    .await
                    .unwrap();
                r.status().as_u16()
            }
        });
        let statuses = futures::future::join_all(reqs).await;
        let ok = statuses.iter().filter(|s| **s == 200).count();
        let refused = statuses.iter().filter(|s| **s == 429).count();
        let balance = gw.balance(&user.id).await;
        let logs = gw.wait_logs(&user.id, ok as i64).await;
        let charged: i64 = logs.iter().map(|l| l.cost).sum();
        assert!(
            ok <= 50,
            "{b}: {ok} succeeded, balance {balance}, charged {charged}, {statuses:?}"
        );
        assert_eq!(ok + refused, 200, "{statuses:?}");
        let balance = gw.balance(&user.id).await;
        assert!(balance >= 0);
        assert_eq!(
            balance,
            USD / 2 - ok as i64 * USD / 100,
            "every success charged once"
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn errors_come_in_openai_shape_with_the_right_status() {
    for b in backends() {
        let gw = TestGateway::start_with(b, |sim| format!("{}\n[[channels]]\nname = \"free-for-all\"\nbase_url = \"{sim}\"\nmodels = [\"unpriced-model\"]\n", default_config(sim).replace("[gateway]\n", "[gateway]\nmax_body_bytes = 4096\n"))).await;
        let (_, key) = gw
            .user_with_key(
                USD,
                NewKey {
                    models: vec!["gpt-4o-mini".into(), "unpriced-model".into()],
                    ..Default::default()
                },
            )
            .await;
        let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
            (
                gw.http
                    .post(format!("{}/v1/chat/completions", gw.url))
                    .json(&json!({})),
                401,
                "invalid_api_key",
            ),
            (
                gw.post("/v1/chat/completions", "sk-wrong").json(&json!({})),
                401,
                "invalid_api_key",
            ),
            (
                gw.post("/v1/chat/completions", &key).body("{not json"),
                400,
                "invalid_json",
            ),
            (
                gw.post("/v1/chat/completions", &key)
                    .json(&json!({"model": "nope", "messages": []})),
                404,
                "model_not_found",
            ),
            (
                gw.post("/v1/chat/completions", &key)
                    .json(&json!({"model": "text-embedding-3-small", "messages": []})),
                403,
                "model_not_allowed",
            ),
            (
                gw.post("/v1/chat/completions", &key)
                    .json(&json!({"model": "unpriced-model", "messages": []})),
                403,
                "permission_denied",
            ),
            (
                gw.post("/v1/chat/completions", &key)
                    .json(&json!({"model": "gpt-4o-mini", "messages": "x"})),
                400,
                "",
            ),
            (
                gw.post("/v1/chat/completions", &key)
                    .json(&json!({"model": "gpt-4o-mini", "messages": [], "max_tokens": -1})),
                400,
                "",
            ),
            (
                gw.post("/v1/chat/completions", &key).body(vec![b' '; 5000]),
                413,
                "payload_too_large",
            ),
            (gw.get("/v1/nothing-here", &key), 404, "unknown_url"),
            // Only a POST to the exact path takes the front's lane to the chat handler;
            // the router answers the rest as it always did.
            (
                gw.get("/v1/chat/completions", &key),
                405,
                "method_not_allowed",
            ),
            (
                gw.post("/v1/chat/completions/", &key).json(&json!({})),
                404,
                "unknown_url",
            ),
        ];
        for (req, status, code) in cases {
            let r = req.send().await.unwrap();
            assert!(r.headers().contains_key("x-request-id"));
            assert_eq!(r.status().as_u16(), status);
            let body: Value = r.json().await.unwrap();
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{body}"
            );
            if !code.is_empty() {
                assert_eq!(body["error"]["code"], code, "{body}");
            }
        }
        gw.shutdown().await;
    }
}

/// CORS headers go to callers that send `Origin` (browsers), on answers and errors alike;
/// an SDK sends none and gets the request id and `Vary: origin` only. (A real browser
/// calling cross-origin is `tests/e2e/cors.test.mjs`.)
#[tokio::test]
async fn cors_headers_answer_browsers() {
    let gw = TestGateway::start(backends()[0]).await;
    let (_, key) = gw.user_with_key(USD, NewKey::default()).await;
    let chat = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let origin = "http://127.0.0.1:9";
    let cases = [
        (gw.post("/v1/chat/completions", &key).json(&chat), None, 200),
        (
            gw.post("/v1/chat/completions", &key).json(&chat),
            Some(origin),
            200,
        ),
        (gw.get("/v1/models", "sk-not-a-key"), None, 401),
        (gw.get("/v1/models", "sk-not-a-key"), Some(origin), 401),
        (gw.get("/v1/models", &key), Some(origin), 200),
    ];
    for (req, from, status) in cases {
        let req = match from {
            Some(o) => req.header("origin", o),
            None => req,
        };
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        let h = r.headers();
        let id = h["x-request-id"].to_str().unwrap();
        assert!(id.starts_with("req_"), "{id}");
        assert!(h.get_all("vary").iter().any(|v| v
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("origin")));
        let cors = (
            h.get("access-control-allow-origin"),
            h.get("access-control-expose-headers"),
        );
        match from {
            Some(_) => assert_eq!(
                cors,
                (Some(&"*".parse().unwrap()), Some(&"*".parse().unwrap())),
                "{h:?}"
            ),
            None => assert_eq!(cors, (None, None), "{h:?}"),
        }
    }
    // A preflight is answered whoever asks.
    let r = gw
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/chat/completions", gw.url),
        )
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for name in [
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
    ] {
        assert_eq!(r.headers()[name], "*", "{name}");
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn quota_expiry_and_ip_limits_on_keys() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let (_, broke) = gw.user_with_key(0, NewKey::default()).await;
        let (status, body) = gw.chat(&broke, "gpt-4o-mini").await;
        assert_eq!(
            (status, error_of(&body)),
            (429, ("insufficient_quota", "insufficient_quota"))
        );

        // A key quota smaller than one request's worst case refuses though the balance is ample.
        let (user, capped) = gw
            .user_with_key(
                USD,
                NewKey {
                    quota_nano: Some(1000),
                    ..Default::default()
                },
            )
            .await;
        let (status, body) = gw.chat(&capped, "gpt-4o-mini").await;
        assert_eq!(status, 429, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("key"));
        assert_eq!(gw.balance(&user.id).await, USD);

        let (user, quota) = gw
            .user_with_key(
                USD,
                NewKey {
                    quota_nano: Some(USD / 10),
                    ..Default::default()
                },
            )
            .await;
        assert_eq!(gw.chat(&quota, "gpt-4o-mini").await.0, 200);
        gw.settle_budgets().await;
        let k = gw.state.store.keys(Some(&user.id)).await.unwrap().remove(0);
        assert_eq!(k.quota_remaining, USD / 10 - k.used);
        assert!(k.used > 0);

        let (_, expired) = gw
            .user_with_key(
                USD,
                NewKey {
                    expires_at: Some(1),
                    ..Default::default()
                },
            )
            .await;
        let (status, body) = gw.chat(&expired, "gpt-4o-mini").await;
        assert_eq!(status, 401);
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"));

        let (_, elsewhere) = gw
            .user_with_key(
                USD,
                NewKey {
                    ip_allow: vec!["10.0.0.0/8".into()],
                    ..Default::default()
                },
            )
            .await;
        assert_eq!(gw.chat(&elsewhere, "gpt-4o-mini").await.0, 403);
        let (_, local) = gw
            .user_with_key(
                USD,
                NewKey {
                    ip_allow: vec!["127.0.0.1".into()],
                    ..Default::default()
                },
            )
            .await;
        assert_eq!(gw.chat(&local, "gpt-4o-mini").await.0, 200);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn the_other_openai_endpoints() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let (s, e) = gw
            .post_json(
                "/v1/embeddings",
                &key,
                json!({"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 8}),
            )
            .await;
        assert_eq!(
            (
                s,
                e["data"].as_array().unwrap().len(),
                e["data"][0]["embedding"].as_array().unwrap().len()
            ),
            (200, 2, 8)
        );
        let (s, m) = gw
            .post_json(
                "/v1/moderations",
                &key,
                json!({"input": "I will kill the process"}),
            )
            .await;
        assert_eq!((s, m["results"][0]["flagged"].as_bool()), (200, Some(true)));
        let (s, i) = gw
            .post_json(
                "/v1/images/generations",
                &key,
                json!({"model": "dall-e-3", "prompt": "a dog", "n": 2}),
            )
            .await;
        assert_eq!((s, i["data"].as_array().unwrap().len()), (200, 2));
        let r = gw
            .post("/v1/audio/speech", &key)
            .json(&json!({"model": "tts-1", "input": "hello world", "voice": "alloy"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "audio/mpeg");
        assert!(!r.bytes().await.unwrap().is_empty());
        let form = reqwest::multipart::Form::new()
            .text("model", "whisper-1")
            .part(
                "file",
                reqwest::multipart::Part::bytes(vec![1u8; 1000])
                    .file_name("a.mp3")
                    .mime_str("audio/mpeg")
                    .unwrap(),
            );
        let r = gw
            .post("/v1/audio/transcriptions", &key)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.json::<Value>().await.unwrap()["text"]
            .as_str()
            .unwrap()
            .contains("1000 bytes"));
        let form = reqwest::multipart::Form::new()
            .text("model", "whisper-1")
            .part(
                "file",
                reqwest::multipart::Part::bytes(vec![1u8; 10]).file_name("a.mp3"),
            );
        let r = gw
            .post("/v1/audio/translations", &key)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "translations are relayed too");
        let (s, c) = gw
            .post_json(
                "/v1/completions",
                &key,
                json!({"model": "gpt-4o-mini", "prompt": "Say hi", "max_tokens": 5}),
            )
            .await;
        assert_eq!((s, c["object"].as_str()), (200, Some("text_completion")));

        let logs = gw.wait_logs(&user.id, 6).await;
        let cost = |ep: &str| logs.iter().find(|l| l.endpoint == ep).unwrap().cost;
        assert_eq!(cost("/v1/moderations"), 0, "free model");
        assert_eq!(
            cost("/v1/images/generations"),
            2 * 40_000_000,
            "$0.04 per image"
        );
        assert_eq!(
            cost("/v1/audio/speech"),
            11 * 15_000,
            "$15 per 1M characters"
        );
        assert_eq!(cost("/v1/audio/transcriptions"), 6_000_000);
        assert!(cost("/v1/embeddings") > 0);

        let r = gw.get("/v1/models/gpt-4o-mini", &key).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let sub: Value = gw
            .get("/dashboard/billing/subscription", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            (sub["hard_limit_usd"].as_f64().unwrap() - 1.0).abs() < 1e-6,
            "{sub}"
        );
        let usage: Value = gw
            .get("/v1/dashboard/billing/usage", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(usage["total_usage"].as_f64().unwrap() > 0.0);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn models_list_follows_the_key_and_the_root_key_works() {
    for b in backends() {
        let gw = TestGateway::start(b).await;
        let ids = |v: Value| {
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let all: Value = gw
            .get("/v1/models", ROOT_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            ids(all.clone()).contains(&"gpt-4o-mini".to_string())
                && ids(all).contains(&"text-embedding-3-small".to_string())
        );
        let (_, key) = gw
            .user_with_key(
                USD,
                NewKey {
                    models: vec!["gpt-4o-mini".into()],
                    ..Default::default()
                },
            )
            .await;
        let some: Value = gw
            .get("/v1/models", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ids(some), vec!["gpt-4o-mini".to_string()]);
        assert_eq!(
            gw.get("/v1/models/text-embedding-3-small", &key)
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
async fn hostile_input_gets_a_clear_4xx_never_a_5xx() {
    let gw = TestGateway::start("sqlite").await;
    let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"a string\"".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        deep.into_bytes(),
        br#"{"model": 12}"#.to_vec(),
        br#"{"model": ["gpt-4o-mini"]}"#.to_vec(),
        br#"{"model": "gpt-4o-mini"}"#.to_vec(),
        br#"{"model": "gpt-4o-mini", "messages": {}}"#.to_vec(),
        br#"{"model": "gpt-4o-mini", "messages": [], "n": 1e400}"#.to_vec(),
        br#"{"model": "gpt-4o-mini", "messages": [], "max_tokens": "ten"}"#.to_vec(),
        br#"{"model": "gpt-4o-mini", "messages": [], "n": -3}"#.to_vec(),
        br#"{"model": "gpt-4o-mini", "messages": [], "stream": "yes"}"#.to_vec(),
        br#"{"model": "gpt-4o-mini", "messages": [], "max_tokens": 9223372036854775807, "n": 9223372036854775807}"#.to_vec(),
        br#"{"model": "", "input": "x"}"#.to_vec(),
        br#"{"model": "dall-e-3", "prompt": 5}"#.to_vec(),
        br#"{"model": "tts-1", "input": null}"#.to_vec(),
    ];
    let paths = [
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/embeddings",
        "/v1/moderations",
        "/v1/images/generations",
        "/v1/audio/speech",
        "/v1/audio/transcriptions",
    ];
    for path in paths {
        for body in &bodies {
            let r = gw
                .post(path, &key)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            // The one overflow that is a real request: the hold is then simply refused.
            assert!(
                (400..500).contains(&status),
                "{path} {:?} → {status} {text}",
                String::from_utf8_lossy(&body[..body.len().min(60)])
            );
            let v: Value =
                serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
            assert!(v["error"]["message"].is_string(), "{text}");
        }
    }
    assert_eq!(
        gw.balance(&user.id).await,
        USD,
        "nothing charged for refused requests"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn a_model_served_only_to_another_group_does_not_exist_for_the_caller() {
    let gw = TestGateway::start_with("sqlite", |sim| {
        format!("{}\n[[channels]]\nname = \"vip-only\"\nbase_url = \"{sim}\"\nkeys = [\"sk-sim-ok\"]\nmodels = [\"vip-model\"]\ngroups = [\"vip\"]\n\n[[prices]]\nmodel = \"vip-model\"\nfree = true\n", default_config(sim))
    })
    .await;
    let (_, key) = gw.user_with_key(USD, NewKey::default()).await;
    let (status, body) = gw.chat(&key, "vip-model").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("model_not_found")),
        "{body}"
    );
    let vip = gw
        .state
        .store
        .create_user(&switchyard_store::NewUser {
            name: "vip".into(),
            group: Some("vip".into()),
            balance_nano: USD,
            ..Default::default()
        })
        .await
        .unwrap();
    let (_, vip_key) = gw
        .state
        .store
        .create_key(&vip.id, &NewKey::default())
        .await
        .unwrap();
    gw.state.catalog.reload().await.unwrap();
    assert_eq!(gw.chat(&vip_key, "vip-model").await.0, 200);
    gw.shutdown().await;
}
