//! The admin API over HTTP, on SQLite and PostgreSQL: users and the ledger, keys and their
//! limits, channels (secrets never shown, tests, automatic disable), prices, the usage log,
//! and the OpenAPI document against the routes actually registered.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{backends, TestGateway, ROOT_KEY};
use reqwest::Method;
use serde_json::{json, Value};
use switchyard_store::NewKey;

/// An answer: status, body as JSON (Null when not JSON), body as text.
struct Resp {
    status: u16,
    json: Value,
    text: String,
}

async fn call(
    gw: &TestGateway,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let mut req = gw.http.request(method, format!("{}{path}", gw.url));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, json, text }
}

async fn get(gw: &TestGateway, path: &str, key: &str) -> Resp {
    call(gw, Method::GET, path, Some(key), None).await
}

async fn post(gw: &TestGateway, path: &str, key: &str, body: Value) -> Resp {
    call(gw, Method::POST, path, Some(key), Some(body)).await
}

async fn patch(gw: &TestGateway, path: &str, key: &str, body: Value) -> Resp {
    call(gw, Method::PATCH, path, Some(key), Some(body)).await
}

/// The status is `status` and the body is OpenAI's error JSON.
#[track_caller]
fn assert_error(r: &Resp, status: u16) {
    assert_eq!(r.status, status, "body: {}", r.text);
    let e = &r.json["error"];
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "no message: {}",
        r.text
    );
    assert!(e["type"].is_string(), "no type: {}", r.text);
    assert!(
        e.get("code").is_some() && e.get("param").is_some(),
        "not OpenAI's shape: {}",
        r.text
    );
}

#[track_caller]
fn assert_ok(r: &Resp, status: u16) {
    assert_eq!(r.status, status, "body: {}", r.text);
}

/// A user made through the API, with a key made through the API: (user, key secret).
async fn api_user(gw: &TestGateway, name: &str, balance_nano: i64, role: &str) -> (Value, String) {
    let r = post(
        gw,
        "/api/users",
        ROOT_KEY,
        json!({"name": name, "balance_nano": balance_nano, "role": role}),
    )
    .await;
    assert_ok(&r, 201);
    let k = post(gw, "/api/keys", ROOT_KEY, json!({"user_id": r.json["id"]})).await;
    assert_ok(&k, 201);
    (r.json, k.json["key"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn users_are_created_changed_and_topped_up_with_a_ledger() {
    for backend in backends() {
        let gw = TestGateway::start(backend).await;

        let me = get(&gw, "/api/me", ROOT_KEY).await;
        assert_ok(&me, 200);
        assert_eq!(me.json["role"], "root");
        assert_eq!(me.json["held_nano"], 0);
        let root_id = me.json["id"].as_str().unwrap().to_string();

        let r = post(
            &gw,
            "/api/users",
            ROOT_KEY,
            json!({"name": "alice", "balance_nano": 1000}),
        )
        .await;
        assert_ok(&r, 201);
        let alice = r.json.clone();
        let id = alice["id"].as_str().unwrap();
        assert_eq!(alice["balance_nano"], 1000);
        assert_eq!(alice["role"], "user");
        assert_eq!(alice["group"], "default");
        assert_eq!(alice["enabled"], true);

        assert_error(
            &post(&gw, "/api/users", ROOT_KEY, json!({"name": "alice"})).await,
            409,
        );
        let bad = post(
            &gw,
            "/api/users",
            ROOT_KEY,
            json!({"name": "bob", "balance_nano": "10"}),
        )
        .await;
        assert_error(&bad, 400);
        assert_eq!(bad.json["error"]["param"], "balance_nano");
        let typo = post(
            &gw,
            "/api/users",
            ROOT_KEY,
            json!({"name": "bob", "balanse_nano": 10}),
        )
        .await;
        assert_error(&typo, 400);
        assert_eq!(typo.json["error"]["param"], "balanse_nano");
        assert_error(
            &post(
                &gw,
                "/api/users",
                ROOT_KEY,
                json!({"name": "bob", "role": "god"}),
            )
            .await,
            400,
        );
        assert_error(&get(&gw, "/api/users", "sk-wrong").await, 401);
        assert_error(&get(&gw, "/api/users/usr_nope", ROOT_KEY).await, 404);

        let list = get(&gw, "/api/users?limit=10", ROOT_KEY).await;
        assert_ok(&list, 200);
        assert!(list.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == id));
        assert_error(&get(&gw, "/api/users?limit=ten", ROOT_KEY).await, 400);

        let p = patch(
            &gw,
            &format!("/api/users/{id}"),
            ROOT_KEY,
            json!({"name": "alice2", "group": "vip"}),
        )
        .await;
        assert_ok(&p, 200);
        assert_eq!(p.json["name"], "alice2");
        assert_eq!(p.json["group"], "vip");
        assert_eq!(
            get(&gw, &format!("/api/users/{id}"), ROOT_KEY).await.json["group"],
            "vip"
        );

        let top = post(
            &gw,
            &format!("/api/users/{id}/balance"),
            ROOT_KEY,
            json!({"amount_nano": 500, "reason": "top-up"}),
        )
        .await;
        assert_ok(&top, 200);
        assert_eq!(top.json["balance_nano"], 1500);
        let over = post(
            &gw,
            &format!("/api/users/{id}/balance"),
            ROOT_KEY,
            json!({"amount_nano": -2000, "reason": "refund"}),
        )
        .await;
        assert_error(&over, 400);
        assert!(over.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than the balance"));
        assert_eq!(
            gw.balance(id).await,
            1500,
            "a refused deduction changes nothing"
        );
        let down = post(
            &gw,
            &format!("/api/users/{id}/balance"),
            ROOT_KEY,
            json!({"amount_nano": -300, "reason": "correction"}),
        )
        .await;
        assert_eq!(down.json["balance_nano"], 1200);
        let no_reason = post(
            &gw,
            &format!("/api/users/{id}/balance"),
            ROOT_KEY,
            json!({"amount_nano": 5}),
        )
        .await;
        assert_error(&no_reason, 400);
        assert_eq!(no_reason.json["error"]["param"], "reason");
        assert_error(
            &post(
                &gw,
                "/api/users/usr_nope/balance",
                ROOT_KEY,
                json!({"amount_nano": 5, "reason": "x"}),
            )
            .await,
            404,
        );

        let ledger = get(&gw, &format!("/api/users/{id}/ledger"), ROOT_KEY).await;
        assert_ok(&ledger, 200);
        let entries = ledger.json["data"].as_array().unwrap();
        let amounts: BTreeSet<(i64, String)> = entries
            .iter()
            .map(|e| {
                (
                    e["amount_nano"].as_i64().unwrap(),
                    e["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want: BTreeSet<(i64, String)> = [
            (1000, "initial balance"),
            (500, "top-up"),
            (-300, "correction"),
        ]
        .into_iter()
        .map(|(a, r)| (a, r.to_string()))
        .collect();
        assert_eq!(amounts, want);
        assert!(entries
            .iter()
            .filter(|e| e["reason"] != "initial balance")
            .all(|e| e["actor"] == root_id.as_str() && e["actor_name"] == "root"));

        // Disabling a user locks their keys out at once.
        let (bob, bob_key) = api_user(&gw, "bob", 0, "user").await;
        assert_ok(&get(&gw, "/v1/models", &bob_key).await, 200);
        let off = patch(
            &gw,
            &format!("/api/users/{}", bob["id"].as_str().unwrap()),
            ROOT_KEY,
            json!({"enabled": false}),
        )
        .await;
        assert_eq!(off.json["enabled"], false);
        assert_error(&get(&gw, "/v1/models", &bob_key).await, 401);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn only_root_grants_admin_and_the_last_root_stays() {
    for backend in backends() {
        let gw = TestGateway::start(backend).await;
        let root_id = get(&gw, "/api/me", ROOT_KEY).await.json["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (admin, admin_key) = api_user(&gw, "ada", 0, "admin").await;
        assert_eq!(admin["role"], "admin");
        let (carol, _) = api_user(&gw, "carol", 0, "user").await;
        let carol_id = carol["id"].as_str().unwrap();

        // An admin manages users, but cannot mint admins or roots.
        assert_ok(
            &post(&gw, "/api/users", &admin_key, json!({"name": "dave"})).await,
            201,
        );
        assert_error(
            &post(
                &gw,
                "/api/users",
                &admin_key,
                json!({"name": "eve", "role": "admin"}),
            )
            .await,
            403,
        );
        assert_error(
            &patch(
                &gw,
                &format!("/api/users/{carol_id}"),
                &admin_key,
                json!({"role": "admin"}),
            )
            .await,
            403,
        );
        assert_error(
            &patch(
                &gw,
                &format!("/api/users/{root_id}"),
                &admin_key,
                json!({"enabled": false}),
            )
            .await,
            403,
        );
        // Nor a key for root (which would be root's power).
        assert_error(
            &post(&gw, "/api/keys", &admin_key, json!({"user_id": root_id})).await,
            403,
        );
        assert_ok(
            &post(&gw, "/api/keys", &admin_key, json!({"user_id": carol_id})).await,
            201,
        );

        // Root may promote; the last enabled root can be neither demoted nor disabled.
        assert_ok(
            &patch(
                &gw,
                &format!("/api/users/{carol_id}"),
                ROOT_KEY,
                json!({"role": "admin"}),
            )
            .await,
            200,
        );
        let demote = patch(
            &gw,
            &format!("/api/users/{root_id}"),
            ROOT_KEY,
            json!({"role": "admin"}),
        )
        .await;
        assert_error(&demote, 400);
        assert!(demote.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("last enabled root"));
        assert_error(
            &patch(
                &gw,
                &format!("/api/users/{root_id}"),
                ROOT_KEY,
                json!({"enabled": false}),
            )
            .await,
            400,
        );
        assert_ok(
            &patch(
                &gw,
                &format!("/api/users/{carol_id}"),
                ROOT_KEY,
                json!({"role": "root"}),
            )
            .await,
            200,
        );
        assert_ok(
            &patch(
                &gw,
                &format!("/api/users/{root_id}"),
                ROOT_KEY,
                json!({"group": "ops"}),
            )
            .await,
            200,
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn keys_show_their_secret_once_and_enforce_their_limits() {
    for backend in backends() {
        let gw = TestGateway::start(backend).await;
        let r = post(
            &gw,
            "/api/users",
            ROOT_KEY,
            json!({"name": "kim", "balance_nano": 1_000_000_000}),
        )
        .await;
        let uid = r.json["id"].as_str().unwrap().to_string();

        let k = post(
            &gw,
            "/api/keys",
            ROOT_KEY,
            json!({"user_id": uid, "name": "laptop"}),
        )
        .await;
        assert_ok(&k, 201);
        let secret = k.json["key"].as_str().unwrap().to_string();
        let key_id = k.json["id"].as_str().unwrap().to_string();
        assert!(secret.starts_with("sk-"));
        assert_eq!(k.json["user_id"], uid.as_str());
        assert_eq!(k.json["name"], "laptop");
        assert!(k.json.get("key_hash").is_none());
        // Works at once, without waiting for a catalog refresh.
        assert_ok(&get(&gw, "/v1/models", &secret).await, 200);

        for seen in [
            get(&gw, &format!("/api/keys?user_id={uid}"), ROOT_KEY).await,
            get(&gw, "/api/keys", ROOT_KEY).await,
            get(&gw, &format!("/api/keys/{key_id}"), ROOT_KEY).await,
            get(&gw, &format!("/api/keys/{key_id}"), &secret).await,
            get(&gw, "/api/keys", &secret).await,
            get(&gw, "/api/me", &secret).await,
        ] {
            assert_ok(&seen, 200);
            assert!(
                !seen.text.contains(&secret),
                "secret shown again: {}",
                seen.text
            );
            assert!(
                !seen.text.contains(&secret[7..40]),
                "secret shown again: {}",
                seen.text
            );
        }
        let listed = get(&gw, &format!("/api/keys?user_id={uid}"), ROOT_KEY).await;
        assert_eq!(listed.json["data"].as_array().unwrap().len(), 1);
        assert_eq!(listed.json["data"][0]["key_hint"], k.json["key_hint"]);

        // Restricted to one model: others are refused with 403.
        let only = post(
            &gw,
            "/api/keys",
            ROOT_KEY,
            json!({"user_id": uid, "models": ["gpt-4o-mini"]}),
        )
        .await;
        let only = only.json["key"].as_str().unwrap().to_string();
        let (s, _) = gw.chat(&only, "gpt-4o-mini").await;
        assert_eq!(s, 200);
        let other = post(
            &gw,
            "/v1/embeddings",
            &only,
            json!({"model": "text-embedding-3-small", "input": "hi"}),
        )
        .await;
        assert_error(&other, 403);
        assert_eq!(other.json["error"]["code"], "model_not_allowed");

        // An address list that leaves 127.0.0.1 out.
        let far = post(
            &gw,
            "/api/keys",
            ROOT_KEY,
            json!({"user_id": uid, "ip_allow": ["10.0.0.0/8", "192.168.1.7"]}),
        )
        .await;
        assert_ok(&far, 201);
        assert_eq!(far.json["ip_allow"], json!(["10.0.0.0/8", "192.168.1.7"]));
        assert_error(
            &get(&gw, "/v1/models", far.json["key"].as_str().unwrap()).await,
            403,
        );
        let near = post(
            &gw,
            "/api/keys",
            ROOT_KEY,
            json!({"user_id": uid, "ip_allow": ["127.0.0.0/8"]}),
        )
        .await;
        assert_ok(
            &get(&gw, "/v1/models", near.json["key"].as_str().unwrap()).await,
            200,
        );
        let bogus = post(
            &gw,
            "/api/keys",
            ROOT_KEY,
            json!({"user_id": uid, "ip_allow": ["10.0.0.1", "not-an-ip"]}),
        )
        .await;
        assert_error(&bogus, 400);
        assert!(bogus.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not-an-ip"));
        let bogus = patch(
            &gw,
            &format!("/api/keys/{key_id}"),
            ROOT_KEY,
            json!({"ip_allow": ["300.1.1.1"]}),
        )
        .await;
        assert_error(&bogus, 400);
        assert!(bogus.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("300.1.1.1"));
        assert_error(
            &post(
                &gw,
                "/api/keys",
                ROOT_KEY,
                json!({"user_id": uid, "expires_at": 1_700_000_000}),
            )
            .await,
            400,
        );
        assert_error(
            &post(&gw, "/api/keys", ROOT_KEY, json!({"user_id": "usr_nope"})).await,
            404,
        );

        // PATCH sets a quota; null removes it.
        let q = patch(
            &gw,
            &format!("/api/keys/{key_id}"),
            ROOT_KEY,
            json!({"quota_nano": 5000, "name": "quota'd"}),
        )
        .await;
        assert_ok(&q, 200);
        assert_eq!(q.json["quota_limited"], true);
        assert_eq!(q.json["quota_remaining_nano"], 5000);
        let q = patch(
            &gw,
            &format!("/api/keys/{key_id}"),
            ROOT_KEY,
            json!({"quota_nano": null}),
        )
        .await;
        assert_eq!(q.json["quota_limited"], false);
        assert_eq!(q.json["name"], "quota'd");

        // DELETE disables: the key is refused at once, and still listed.
        let d = call(
            &gw,
            Method::DELETE,
            &format!("/api/keys/{key_id}"),
            Some(ROOT_KEY),
            None,
        )
        .await;
        assert_ok(&d, 200);
        assert_eq!(d.json["enabled"], false);
        assert_error(&get(&gw, "/v1/models", &secret).await, 401);
        assert_error(
            &call(
                &gw,
                Method::DELETE,
                "/api/keys/key_nope",
                Some(ROOT_KEY),
                None,
            )
            .await,
            404,
        );
        let back = patch(
            &gw,
            &format!("/api/keys/{key_id}"),
            ROOT_KEY,
            json!({"enabled": true}),
        )
        .await;
        assert_eq!(back.json["enabled"], true);
        assert_ok(&get(&gw, "/v1/models", &secret).await, 200);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn a_non_admin_sees_only_their_own() {
    for backend in backends() {
        let gw = TestGateway::start(backend).await;
        let (me, my_key) = gw.user_with_key(1_000_000_000, NewKey::default()).await;
        let (them, their_key) = gw.user_with_key(1_000_000_000, NewKey::default()).await;

        for path in [
            "/api/users",
            "/api/channels",
            &format!("/api/users/{}", them.id),
            &format!("/api/users/{}/ledger", me.id),
        ] {
            let r = get(&gw, path, &my_key).await;
            assert_error(&r, 403);
            assert_eq!(r.json["error"]["code"], "permission_denied");
        }
        assert_error(
            &post(&gw, "/api/users", &my_key, json!({"name": "x"})).await,
            403,
        );
        assert_error(
            &post(
                &gw,
                &format!("/api/users/{}/balance", me.id),
                &my_key,
                json!({"amount_nano": 1_000_000_000, "reason": "free money"}),
            )
            .await,
            403,
        );
        assert_error(
            &post(&gw, "/api/channels/test", &my_key, json!({})).await,
            403,
        );
        assert_error(
            &call(
                &gw,
                Method::PUT,
                "/api/prices/gpt-4o-mini",
                Some(&my_key),
                Some(json!({"free": true})),
            )
            .await,
            403,
        );

        let mine = get(&gw, "/api/me", &my_key).await;
        assert_eq!(mine.json["id"], me.id.as_str());
        assert_eq!(mine.json["balance_nano"], 1_000_000_000);

        // Keys: their own only, whatever they ask for.
        let own = post(&gw, "/api/keys", &my_key, json!({"name": "second"})).await;
        assert_ok(&own, 201);
        assert_eq!(own.json["user_id"], me.id.as_str());
        assert_error(
            &post(&gw, "/api/keys", &my_key, json!({"user_id": them.id})).await,
            403,
        );
        for path in [
            "/api/keys".to_string(),
            format!("/api/keys?user_id={}", them.id),
        ] {
            let keys = get(&gw, &path, &my_key).await;
            let data = keys.json["data"].as_array().unwrap();
            assert_eq!(data.len(), 2, "{}", keys.text);
            assert!(data.iter().all(|k| k["user_id"] == me.id.as_str()));
        }
        let their_key_id = get(&gw, "/api/keys", &their_key).await.json["data"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_error(
            &get(&gw, &format!("/api/keys/{their_key_id}"), &my_key).await,
            404,
        );
        assert_error(
            &patch(
                &gw,
                &format!("/api/keys/{their_key_id}"),
                &my_key,
                json!({"enabled": false}),
            )
            .await,
            404,
        );
        assert_error(
            &call(
                &gw,
                Method::DELETE,
                &format!("/api/keys/{their_key_id}"),
                Some(&my_key),
                None,
            )
            .await,
            404,
        );
        assert_ok(&get(&gw, "/v1/models", &their_key).await, 200);

        // Logs: their own only, whatever they ask for.
        assert_eq!(gw.chat(&my_key, "gpt-4o-mini").await.0, 200);
        assert_eq!(gw.chat(&their_key, "gpt-4o-mini").await.0, 200);
        gw.wait_logs(&me.id, 1).await;
        gw.wait_logs(&them.id, 1).await;
        for path in [
            "/api/logs".to_string(),
            format!("/api/logs?user_id={}", them.id),
        ] {
            let logs = get(&gw, &path, &my_key).await;
            assert_ok(&logs, 200);
            assert_eq!(logs.json["total"], 1, "{}", logs.text);
            assert_eq!(logs.json["data"][0]["user_id"], me.id.as_str());
        }
        let sum = get(
            &gw,
            &format!("/api/logs/summary?user_id={}", them.id),
            &my_key,
        )
        .await;
        assert_eq!(sum.json["requests"], 1);
        let all = get(&gw, "/api/logs", ROOT_KEY).await;
        assert_eq!(all.json["total"], 2);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn channel_keys_stay_secret_and_tests_disable_refused_keys() {
    const UPSTREAM_KEY: &str = "sk-upstream-PLAINTEXT-secret-9876";
    for backend in backends() {
        let gw = TestGateway::start(backend).await;
        let mut bodies = Vec::new();
        let body = json!({
            "name": "sim-2",
            "base_url": gw.sim_url,
            "keys": [UPSTREAM_KEY],
            "models": ["gpt-4o-mini", "gpt-4-gizmo-*"],
            "priority": 5,
        });
        let c = post(&gw, "/api/channels", ROOT_KEY, body.clone()).await;
        assert_ok(&c, 201);
        let id = c.json["id"].as_str().unwrap().to_string();
        assert_eq!(c.json["keys"], json!(["***9876"]));
        assert_eq!(c.json["kind"], "openai");
        assert_eq!(c.json["groups"], json!(["default"]));
        assert_eq!(c.json["weight"], 1);
        assert_eq!(c.json["status"], "enabled");
        assert!(c.json["health"]["recent_failures"].is_number());
        bodies.push(c);
        assert_error(
            &post(&gw, "/api/channels", ROOT_KEY, body.clone()).await,
            409,
        );
        let mut wrong = body.clone();
        wrong["name"] = json!("other");
        wrong["kind"] = json!("carrier-pigeon");
        assert_error(&post(&gw, "/api/channels", ROOT_KEY, wrong).await, 400);
        let mut wrong = body.clone();
        wrong["name"] = json!("other");
        wrong["base_url"] = json!("ftp://x");
        assert_error(&post(&gw, "/api/channels", ROOT_KEY, wrong).await, 400);

        // The row holds ciphertext only.
        let row = gw.state.store.channel(&id).await.unwrap().unwrap();
        assert!(!row.keys_enc.contains(UPSTREAM_KEY) && !row.keys_enc.contains("PLAINTEXT"));
        assert!(!format!("{row:?}").contains(UPSTREAM_KEY));
        assert_eq!(
            gw.state.master.decrypt(&row.key_list()[0]).unwrap(),
            UPSTREAM_KEY
        );

        let t = post(
            &gw,
            &format!("/api/channels/{id}/test"),
            ROOT_KEY,
            json!({}),
        )
        .await;
        assert_ok(&t, 200);
        assert_eq!(t.json["ok"], true, "{}", t.text);
        assert_eq!(t.json["status"], 200);
        assert_eq!(t.json["model"], "gpt-4o-mini");
        assert!(t.json["latency_ms"].is_number());
        bodies.push(t);
        // No body at all works too, and so does an explicit model.
        let t = call(
            &gw,
            Method::POST,
            &format!("/api/channels/{id}/test"),
            Some(ROOT_KEY),
            None,
        )
        .await;
        assert_eq!(t.json["ok"], true, "{}", t.text);
        let t = post(
            &gw,
            &format!("/api/channels/{id}/test"),
            ROOT_KEY,
            json!({"model": "gpt-4-gizmo-x"}),
        )
        .await;
        assert_eq!(t.json["model"], "gpt-4-gizmo-x");
        assert_eq!(t.json["ok"], true, "{}", t.text);

        // The provider refuses the key: the test fails and the channel is taken out.
        gw.sim.set_faults("status=401");
        let t = post(
            &gw,
            &format!("/api/channels/{id}/test"),
            ROOT_KEY,
            json!({}),
        )
        .await;
        assert_ok(&t, 200);
        assert_eq!(t.json["ok"], false, "{}", t.text);
        assert_eq!(t.json["status"], 401);
        assert!(t.json["error"].as_str().is_some_and(|e| !e.is_empty()));
        bodies.push(t);
        gw.sim.set_faults("");
        let g = get(&gw, &format!("/api/channels/{id}"), ROOT_KEY).await;
        assert_eq!(g.json["status"], "auto_disabled", "{}", g.text);
        // The channels page shows the last test after a reload.
        assert_eq!(g.json["last_test"]["ok"], false, "{}", g.text);
        assert_eq!(g.json["last_test"]["status"], 401);
        assert!(g.json["last_test"]["at"].as_i64().unwrap() > 0);
        assert_eq!(g.json["enabled"], false);
        assert!(
            g.json["status_reason"].as_str().unwrap().contains("401"),
            "{}",
            g.text
        );
        assert!(
            gw.state.catalog.get().channels.iter().all(|c| c.id != id),
            "out of rotation"
        );
        bodies.push(g);

        // Other edits leave the automatic disable (and its reason) alone...
        let p = patch(
            &gw,
            &format!("/api/channels/{id}"),
            ROOT_KEY,
            json!({"priority": 7, "test_model": null}),
        )
        .await;
        assert_ok(&p, 200);
        assert_eq!(p.json["priority"], 7);
        assert_eq!(p.json["status"], "auto_disabled");
        assert!(p.json["status_reason"].is_string());
        bodies.push(p);
        // ...and enabled: true brings the channel back.
        let p = patch(
            &gw,
            &format!("/api/channels/{id}"),
            ROOT_KEY,
            json!({"enabled": true}),
        )
        .await;
        assert_eq!(p.json["status"], "enabled", "{}", p.text);
        assert_eq!(p.json["status_reason"], Value::Null);
        assert!(gw.state.catalog.get().channels.iter().any(|c| c.id == id));
        bodies.push(p);

        // Testing every channel, disabled ones included.
        let off = patch(
            &gw,
            &format!("/api/channels/{id}"),
            ROOT_KEY,
            json!({"enabled": false}),
        )
        .await;
        assert_eq!(off.json["status"], "disabled");
        let all = post(&gw, "/api/channels/test", ROOT_KEY, json!({})).await;
        assert_ok(&all, 200);
        let results = all.json["data"].as_array().unwrap();
        // One result per channel: the chat ones ping, the video ones probe their credentials.
        let channels = gw.state.store.channels().await.unwrap().len();
        assert_eq!(results.len(), channels, "{}", all.text);
        assert!(results.iter().all(|r| r["ok"] == true), "{}", all.text);
        bodies.push(all);
        bodies.push(get(&gw, "/api/channels", ROOT_KEY).await);

        // New keys replace the old ones, and are just as secret.
        let p = patch(
            &gw,
            &format!("/api/channels/{id}"),
            ROOT_KEY,
            json!({"keys": ["sk-second-PLAINTEXT-key-1111", "sk-third-PLAINTEXT-key-2222"]}),
        )
        .await;
        assert_eq!(p.json["keys"], json!(["***1111", "***2222"]));
        bodies.push(p);
        for b in &bodies {
            assert!(
                !b.text.contains("PLAINTEXT"),
                "an upstream key leaked: {}",
                b.text
            );
        }

        let d = call(
            &gw,
            Method::DELETE,
            &format!("/api/channels/{id}"),
            Some(ROOT_KEY),
            None,
        )
        .await;
        assert_ok(&d, 200);
        assert_error(
            &get(&gw, &format!("/api/channels/{id}"), ROOT_KEY).await,
            404,
        );
        assert_error(
            &post(
                &gw,
                &format!("/api/channels/{id}/test"),
                ROOT_KEY,
                json!({}),
            )
            .await,
            404,
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn a_channel_balance_is_asked_of_the_provider_and_kept() {
    for backend in backends() {
        let gw = TestGateway::start(backend).await;
        let channels = get(&gw, "/api/channels", ROOT_KEY).await;
        let id_of = |name: &str| {
            channels.json["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == name)
                .map(|c| c["id"].as_str().unwrap().to_string())
                .unwrap()
        };
        let (openai, anthropic) = (id_of("sim-main"), id_of("demo-anthropic"));
        assert_eq!(channels.json["data"][0]["balance_usd"], Value::Null);

        let (_, key) = gw.user_with_key(10_000_000_000, NewKey::default()).await;
        for _ in 0..3 {
            assert_eq!(gw.chat(&key, "gpt-4o-mini").await.0, 200);
        }
        let chats = gw.sim.requests("/v1/chat/completions") as f64;
        let b = post(
            &gw,
            &format!("/api/channels/{openai}/balance"),
            ROOT_KEY,
            json!({}),
        )
        .await;
        assert_ok(&b, 200);
        // The simulator's account: $100 of credit, a cent per chat it served.
        let want = switchyard_sim::CREDIT_USD - chats * switchyard_sim::CHAT_CENTS / 100.0;
        assert_eq!(b.json["balance_usd"].as_f64().unwrap(), want, "{}", b.text);
        assert_eq!(
            b.json["balance_nano"].as_i64().unwrap(),
            (want * 1e9).round() as i64
        );
        let g = get(&gw, &format!("/api/channels/{openai}"), ROOT_KEY).await;
        assert_eq!(g.json["balance_nano"], b.json["balance_nano"]);
        assert!(g.json["balance_at"].as_i64().unwrap() > 0);

        // Providers without the billing view say so in our error format.
        let a = post(
            &gw,
            &format!("/api/channels/{anthropic}/balance"),
            ROOT_KEY,
            json!({}),
        )
        .await;
        assert_error(&a, 400);
        assert!(a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("anthropic"));
        // One that fails to answer is a 502, and the kept balance stays.
        gw.sim.set_faults("status=500");
        let f = post(
            &gw,
            &format!("/api/channels/{openai}/balance"),
            ROOT_KEY,
            json!({}),
        )
        .await;
        gw.sim.set_faults("");
        assert_error(&f, 502);
        let g = get(&gw, &format!("/api/channels/{openai}"), ROOT_KEY).await;
        assert_eq!(g.json["balance_nano"], b.json["balance_nano"]);
        // Admins only.
        assert_error(
            &post(
                &gw,
                &format!("/api/channels/{openai}/balance"),
                &key,
                json!({}),
            )
            .await,
            403,
        );
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn prices_are_set_read_and_deleted_with_immediate_effect() {
    for backend in backends() {
        let gw = TestGateway::start(backend).await;
        let (_, user_key) = gw.user_with_key(1_000_000_000, NewKey::default()).await;
        let path = "/api/prices/acme/model-*";
        let put = call(&gw, Method::PUT, path, Some(ROOT_KEY), Some(json!({"input_nano_per_mtok": 1_500_000_000, "per_call_nano": 5, "cached_nano_per_mtok": 100}))).await;
        assert_ok(&put, 200);
        assert_eq!(put.json["model"], "acme/model-*");
        assert_eq!(put.json["input_nano_per_mtok"], 1_500_000_000);
        assert_eq!(put.json["output_nano_per_mtok"], 0);
        assert_eq!(put.json["free"], false);
        assert_eq!(put.json["usd"]["input_per_mtok"], 1.5);

        let list = get(&gw, "/api/prices", &user_key).await;
        assert_ok(&list, 200);
        let found = list.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["model"] == "acme/model-*")
            .cloned()
            .unwrap();
        assert_eq!(found["per_call_nano"], 5);
        assert_eq!(found["cached_nano_per_mtok"], 100);
        let mini = list.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["model"] == "gpt-4o-mini")
            .cloned()
            .unwrap();
        assert_eq!(mini["input_nano_per_mtok"], 150_000_000);
        assert_eq!(mini["usd"]["output_per_mtok"], 0.6);
        assert_ok(&get(&gw, path, &user_key).await, 200);

        let float = call(
            &gw,
            Method::PUT,
            path,
            Some(ROOT_KEY),
            Some(json!({"input_nano_per_mtok": 1.5})),
        )
        .await;
        assert_error(&float, 400);
        assert_eq!(float.json["error"]["param"], "input_nano_per_mtok");
        assert_error(
            &call(
                &gw,
                Method::PUT,
                path,
                Some(ROOT_KEY),
                Some(json!({"per_call_nano": -1})),
            )
            .await,
            400,
        );
        assert_error(
            &call(
                &gw,
                Method::PUT,
                path,
                Some(ROOT_KEY),
                Some(json!({"model": "other"})),
            )
            .await,
            400,
        );
        assert_error(
            &call(
                &gw,
                Method::PUT,
                "/api/prices/a*b",
                Some(ROOT_KEY),
                Some(json!({})),
            )
            .await,
            400,
        );

        // Without a price the model is refused; with one again it is served.
        assert_eq!(gw.chat(&user_key, "gpt-4o-mini").await.0, 200);
        let del = call(
            &gw,
            Method::DELETE,
            "/api/prices/gpt-4o-mini",
            Some(ROOT_KEY),
            None,
        )
        .await;
        assert_ok(&del, 200);
        assert_error(
            &call(
                &gw,
                Method::DELETE,
                "/api/prices/gpt-4o-mini",
                Some(ROOT_KEY),
                None,
            )
            .await,
            404,
        );
        assert_error(&get(&gw, "/api/prices/gpt-4o-mini", ROOT_KEY).await, 404);
        assert_eq!(gw.chat(&user_key, "gpt-4o-mini").await.0, 403);
        let free = call(
            &gw,
            Method::PUT,
            "/api/prices/gpt-4o-mini",
            Some(ROOT_KEY),
            Some(json!({"free": true})),
        )
        .await;
        assert_eq!(free.json["free"], true);
        let (s, _) = gw.chat(&user_key, "gpt-4o-mini").await;
        assert_eq!(s, 200);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn chats_appear_in_the_log_with_tokens_and_cost() {
    for backend in backends() {
        let gw = TestGateway::start(backend).await;
        let (user, key) = gw.user_with_key(1_000_000_000, NewKey::default()).await;
        let (s, _) = gw.chat(&key, "gpt-4o-mini").await;
        assert_eq!(s, 200);
        gw.sim.set_faults("status=500");
        let (s, _) = gw.chat(&key, "gpt-4o-mini").await;
        assert_eq!(s, 502);
        gw.sim.set_faults("");

        let path = format!("/api/logs?user_id={}", user.id);
        let deadline = Instant::now() + Duration::from_secs(5);
        let page = loop {
            let r = get(&gw, &path, ROOT_KEY).await;
            assert_ok(&r, 200);
            if r.json["total"] == 2 {
                break r.json;
            }
            assert!(
                Instant::now() < deadline,
                "the log never showed both requests: {}",
                r.text
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(page["limit"], 50);
        assert_eq!(page["offset"], 0);
        let ok = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["status"] == 200)
            .cloned()
            .unwrap();
        assert_eq!(ok["model"], "gpt-4o-mini");
        assert_eq!(ok["endpoint"], "/v1/chat/completions");
        assert!(ok["tokens_in"].as_i64().unwrap() > 0);
        assert!(ok["tokens_out"].as_i64().unwrap() > 0);
        let cost = ok["cost_nano"].as_i64().unwrap();
        assert!(cost > 0);
        assert_eq!(
            1_000_000_000 - gw.balance(&user.id).await,
            cost,
            "the log shows what was charged"
        );

        let errors = get(&gw, &format!("{path}&status=error"), ROOT_KEY).await;
        assert_eq!(errors.json["total"], 1, "{}", errors.text);
        assert_eq!(errors.json["data"][0]["status"], 502);
        assert_eq!(errors.json["data"][0]["cost_nano"], 0);
        assert_eq!(
            get(&gw, &format!("{path}&status=ok"), ROOT_KEY).await.json["total"],
            1
        );
        assert_eq!(
            get(&gw, &format!("{path}&status=502"), ROOT_KEY).await.json["total"],
            1
        );
        assert_eq!(
            get(&gw, &format!("{path}&model=gpt-4o&limit=1"), ROOT_KEY)
                .await
                .json["total"],
            0
        );
        let paged = get(&gw, &format!("{path}&limit=1&offset=1"), ROOT_KEY).await;
        assert_eq!(paged.json["data"].as_array().unwrap().len(), 1);
        assert_eq!(paged.json["total"], 2);
        let ts = ok["ts"].as_i64().unwrap();
        let until = get(&gw, &format!("{path}&until={ts}"), ROOT_KEY).await;
        assert!(until.json["total"].as_i64().unwrap() < 2);

        let sum = get(
            &gw,
            &format!("/api/logs/summary?user_id={}", user.id),
            ROOT_KEY,
        )
        .await;
        assert_ok(&sum, 200);
        assert_eq!(sum.json["requests"], 2);
        assert_eq!(sum.json["cost_nano"], cost);
        assert_eq!(sum.json["tokens_out"], ok["tokens_out"]);

        assert_error(
            &get(&gw, &format!("{path}&status=maybe"), ROOT_KEY).await,
            400,
        );
        assert_error(
            &get(&gw, &format!("{path}&since=yesterday"), ROOT_KEY).await,
            400,
        );
        assert_error(&get(&gw, "/api/logs?usr=1", ROOT_KEY).await, 400);
        gw.shutdown().await;
    }
}

/// Every path the router knows, read from its Debug output (axum lists route paths there),
/// without the fallback's internal catch-all.
fn registered_paths(gw: &TestGateway) -> BTreeSet<String> {
    let dump = format!("{:?}", switchyard_gateway::app::router(gw.state.clone()));
    let mut out = BTreeSet::new();
    let mut rest = dump.as_str();
    while let Some(i) = rest.find("RouteId(") {
        rest = &rest[i + 8..];
        let Some(colon) = rest.find("): \"") else {
            continue;
        };
        if !rest[..colon].chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let tail = &rest[colon + 4..];
        let end = tail.find('"').unwrap();
        let path = &tail[..end];
        // The console's own files are not API.
        if !path.contains("__private__") && path != "/" && !path.starts_with("/console/") {
            out.insert(path.to_string());
        }
    }
    out
}

/// `/api/prices/{*model}` → `/api/prices/{model}`; a probe URL fills each parameter with `x`.
fn normalise(path: &str) -> String {
    path.replace("{*", "{")
}

fn probe_url(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push('x');
            }
            '}' => inside = false,
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}

#[tokio::test]
async fn openapi_lists_every_route() {
    for backend in backends() {
        let gw = TestGateway::start(backend).await;
        let r = call(&gw, Method::GET, "/api/openapi.json", None, None).await;
        assert_ok(&r, 200);
        let doc = r.json;
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let documented = doc["paths"].as_object().unwrap();

        let registered = registered_paths(&gw);
        for anchor in [
            "/api/users/{id}",
            "/api/prices/{*model}",
            "/v1/chat/completions",
            "/healthz",
        ] {
            assert!(
                registered.contains(anchor),
                "route list unreadable, got {registered:?}"
            );
        }
        let methods = [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ];
        let mut checked = 0;
        for path in &registered {
            for m in &methods {
                // Unauthenticated, so nothing changes: a registered method answers anything but
                // the router's own 405, which names `method_not_allowed`.
                let probe = call(&gw, m.clone(), &probe_url(path), None, None).await;
                assert_ne!(probe.json["error"]["code"], "unknown_url", "{m} {path}");
                if probe.json["error"]["code"] == "method_not_allowed" {
                    continue;
                }
                let op = &documented.get(&normalise(path)).unwrap_or(&Value::Null)
                    [m.as_str().to_lowercase()];
                assert!(
                    op.is_object(),
                    "{m} {path} is served but not in openapi.json"
                );
                checked += 1;
            }
        }
        assert!(checked >= 35, "only {checked} operations found");

        // And nothing is documented that is not served.
        let mut operations = 0;
        for (path, item) in documented {
            for (method, op) in item.as_object().unwrap() {
                operations += 1;
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let probe = call(&gw, m, &probe_url(path), None, None).await;
                let code = &probe.json["error"]["code"];
                assert!(
                    code != "unknown_url" && code != "method_not_allowed",
                    "{method} {path} is documented but not served"
                );
                assert!(
                    op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                    "{method} {path}"
                );
                // Public operations say so; everything else needs the bearer key.
                let gemini_v1 = path == "/v1/models/{model}" && method == "post";
                if [
                    "/luma/",
                    "/runwayml/",
                    "/kling/",
                    "/v1/messages",
                    "/v1beta/",
                ]
                .iter()
                .any(|p| path.starts_with(p))
                    || gemini_v1
                {
                    // The native doors (video, Anthropic, Gemini) answer in their provider's
                    // error shape.
                    assert_eq!(probe.status, 401, "{method} {path}: {}", probe.text);
                    assert!(op.get("security").is_none());
                } else if op.get("security").is_none() {
                    // Needs a key (or, where it says so, the console's session).
                    assert_error(&probe, 401);
                }
            }
        }
        assert_eq!(
            operations, checked,
            "documented and served operations differ"
        );

        // Every reference points at a schema that exists.
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let text = doc.to_string();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = &piece[..piece.find('"').unwrap()];
            assert!(schemas.contains_key(name), "dangling $ref {name}");
        }
        assert!(schemas["ChannelCreate"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("keys")));
        assert_eq!(
            schemas["KeyPatch"]["properties"]["quota_nano"]["type"],
            json!(["integer", "null"])
        );
        gw.shutdown().await;
    }
}
