//! The console's server side over HTTP, on SQLite and PostgreSQL: its files are served from
//! the binary, sign-in by password or key gives a session cookie that the admin API accepts,
//! writes need the CSRF token, failures are throttled, and the dashboard's figures add up.
//! (The pages themselves are driven in Chromium by tests/e2e.)

mod common;

use common::{backends, default_config, TestGateway, ROOT_KEY};
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{json, Value};
use switchyard_store::NewKey;

/// A browser-like session: the cookie and the CSRF token from signing in.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn sign_in(gw: &TestGateway, body: Value) -> (u16, Value, Option<Browser>) {
    let r = gw
        .http
        .post(format!("{}/api/auth/login", gw.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let cookie = r
        .headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_string());
    let v: Value = r.json().await.unwrap_or(Value::Null);
    let browser = cookie.map(|c| {
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict"),
            "{c}"
        );
        Browser {
            cookie: c.split(';').next().unwrap().to_string(),
            csrf: v["csrf_token"].as_str().unwrap_or("").to_string(),
        }
    });
    (status, v, browser)
}

/// A request with the session cookie; `csrf` adds the token.
async fn with_cookie(
    gw: &TestGateway,
    method: reqwest::Method,
    path: &str,
    b: &Browser,
    csrf: bool,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = gw
        .http
        .request(method, format!("{}{path}", gw.url))
        .header(COOKIE, &b.cookie);
    if csrf {
        req = req.header("x-csrf-token", &b.csrf);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_console_is_served_from_the_binary() {
    let gw = TestGateway::start("sqlite").await;
    let r = gw.http.get(format!("{}/", gw.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains("/console/app.js"));
    // No asset from elsewhere: the console must work offline.
    for attr in ["src=\"", "href=\""] {
        for elsewhere in ["http:", "https:", "//"] {
            assert!(!html.contains(&format!("{attr}{elsewhere}")), "{html}");
        }
    }

    let r = gw
        .http
        .get(format!("{}/console/app.js", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let again = gw
        .http
        .get(format!("{}/console/app.js", gw.url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    for missing in ["/console/nope.js", "/console/../Cargo.toml"] {
        let r = gw
            .http
            .get(format!("{}{missing}", gw.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{missing}");
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn password_sign_in_gives_a_session_the_admin_api_accepts() {
    for backend in backends() {
        let gw = TestGateway::start(backend).await;
        // Root makes an admin with a password.
        let (s, admin) = gw
            .post_json(
                "/api/users",
                ROOT_KEY,
                json!({"name": "ops", "role": "admin", "password": "hunter2hunter2"}),
            )
            .await;
        assert_eq!(s, 201, "{admin}");
        assert!(admin.get("password").is_none() && admin.get("password_hash").is_none());
        let (s, short) = gw
            .post_json(
                "/api/users",
                ROOT_KEY,
                json!({"name": "x", "password": "short"}),
            )
            .await;
        assert_eq!(s, 400, "{short}");
        assert_eq!(short["error"]["param"], "password");

        let (s, v, _) = sign_in(
            &gw,
            json!({"username": "ops", "password": "wrong-password"}),
        )
        .await;
        assert_eq!(s, 401, "{v}");
        let (s, v, _) = sign_in(
            &gw,
            json!({"username": "nobody", "password": "hunter2hunter2"}),
        )
        .await;
        assert_eq!(s, 401, "{v}");
        assert_eq!(v["error"]["message"], "Wrong username or password.");

        let (s, v, b) = sign_in(
            &gw,
            json!({"username": "ops", "password": "hunter2hunter2"}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["user"]["name"], "ops");
        assert_eq!(v["user"]["role"], "admin");
        let b = b.expect("a cookie");
        assert!(b.csrf.len() > 20);

        // Reads need only the cookie.
        let (s, me) = with_cookie(&gw, reqwest::Method::GET, "/api/me", &b, false, None).await;
        assert_eq!(s, 200, "{me}");
        assert_eq!(me["name"], "ops");
        let (s, sess) = with_cookie(
            &gw,
            reqwest::Method::GET,
            "/api/auth/session",
            &b,
            false,
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(sess["csrf_token"], b.csrf.as_str());

        // Writes need the CSRF token as well: a forged cross-site post has only the cookie.
        let body = json!({"name": "from the console"});
        let (s, v) = with_cookie(
            &gw,
            reqwest::Method::POST,
            "/api/keys",
            &b,
            false,
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, 403, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("CSRF"));
        let (s, key) = with_cookie(
            &gw,
            reqwest::Method::POST,
            "/api/keys",
            &b,
            true,
            Some(body),
        )
        .await;
        assert_eq!(s, 201, "{key}");
        assert!(key["key"].as_str().unwrap().starts_with("sk-"));

        // Signing out ends the session for good.
        let (s, _) = with_cookie(
            &gw,
            reqwest::Method::POST,
            "/api/auth/logout",
            &b,
            true,
            None,
        )
        .await;
        assert_eq!(s, 204);
        let (s, v) = with_cookie(&gw, reqwest::Method::GET, "/api/me", &b, false, None).await;
        assert_eq!(s, 401, "{v}");
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn key_sign_in_password_changes_and_locks_end_sessions() {
    for backend in backends() {
        let gw = TestGateway::start(backend).await;
        let (user, key) = gw.user_with_key(0, NewKey::default()).await;

        let (s, v, b) = sign_in(&gw, json!({"key": key})).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["user"]["id"], user.id.as_str());
        let b = b.unwrap();
        // A plain user is not an admin through the console either.
        let (s, _) = with_cookie(&gw, reqwest::Method::GET, "/api/users", &b, false, None).await;
        assert_eq!(s, 403);
        let (s, v, _) = sign_in(&gw, json!({"key": "sk-not-a-key"})).await;
        assert_eq!(s, 401, "{v}");
        let (s, v, _) = sign_in(&gw, json!({"key": key, "username": "x"})).await;
        assert_eq!(s, 400, "{v}");

        // The user sets a first password (no current one needed), then must give it to change it.
        let pw = |cur: Option<&str>, new: &str| {
            let mut body = json!({"new_password": new});
            if let Some(c) = cur {
                body["current_password"] = json!(c);
            }
            body
        };
        let (s, v) = with_cookie(
            &gw,
            reqwest::Method::POST,
            "/api/me/password",
            &b,
            true,
            Some(pw(None, "first-password")),
        )
        .await;
        assert_eq!(s, 204, "{v}");
        // That ended every session of the account, this one included.
        let (s, _) = with_cookie(&gw, reqwest::Method::GET, "/api/me", &b, false, None).await;
        assert_eq!(s, 401);
        let (_, _, b) = sign_in(
            &gw,
            json!({"username": user.name, "password": "first-password"}),
        )
        .await;
        let b = b.expect("signed in with the new password");
        let (s, v) = with_cookie(
            &gw,
            reqwest::Method::POST,
            "/api/me/password",
            &b,
            true,
            Some(pw(Some("not-it-at-all"), "second-password")),
        )
        .await;
        assert_eq!(s, 403, "{v}");
        assert_eq!(v["error"]["param"], "current_password");

        // An admin locks the account: its session stops working at once.
        let r = gw
            .http
            .patch(format!("{}/api/users/{}", gw.url, user.id))
            .bearer_auth(ROOT_KEY)
            .json(&json!({"enabled": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (s, v) = with_cookie(&gw, reqwest::Method::GET, "/api/me", &b, false, None).await;
        assert_eq!(s, 401, "{v}");
        let (s, _, _) = sign_in(
            &gw,
            json!({"username": user.name, "password": "first-password"}),
        )
        .await;
        assert_eq!(s, 401);
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled() {
    let gw = TestGateway::start("sqlite").await;
    let (s, _) = gw
        .post_json(
            "/api/users",
            ROOT_KEY,
            json!({"name": "target", "password": "the-real-password"}),
        )
        .await;
    assert_eq!(s, 201);
    for _ in 0..5 {
        let (s, _, _) = sign_in(
            &gw,
            json!({"username": "target", "password": "guess-guess"}),
        )
        .await;
        assert_eq!(s, 401);
    }
    // Even the right password waits now.
    let (s, v, b) = sign_in(
        &gw,
        json!({"username": "target", "password": "the-real-password"}),
    )
    .await;
    assert_eq!(s, 429, "{v}");
    assert!(b.is_none());
    gw.shutdown().await;
}

/// The default config plus a channel whose upstream rejects every call, so a failed call is
/// logged against it.
fn with_broken_channel(sim: &str) -> String {
    format!(
        r#"{}
[[channels]]
name = "broken"
base_url = "{sim}"
keys = ["sk-sim-ok"]
models = ["gpt-4-gizmo-broken"]
model_map = {{ "gpt-4-gizmo-broken" = "gpt-4o-mini@status=400" }}
priority = 10
"#,
        default_config(sim)
    )
}

#[tokio::test]
async fn dashboard_stats_add_up_to_the_log() {
    for backend in backends() {
        let gw = TestGateway::start_with(backend, with_broken_channel).await;
        let (user, key) = gw.user_with_key(10_000_000_000, NewKey::default()).await;
        for _ in 0..3 {
            let (s, v) = gw.chat(&key, "gpt-4o-mini").await;
            assert_eq!(s, 200, "{v}");
        }
        let (s, v) = gw.chat(&key, "gpt-4-gizmo-broken").await;
        assert_eq!(s, 400, "{v}");
        let logs = gw.wait_logs(&user.id, 4).await;
        let spent: i64 = logs.iter().map(|l| l.cost).sum();

        let r = gw
            .get(&format!("/api/logs/stats?user_id={}", user.id), ROOT_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["totals"]["requests"], 4, "{v}");
        assert_eq!(v["totals"]["cost_nano"], spent);
        let series = v["series"].as_array().unwrap();
        let sum = |field: &str| {
            series
                .iter()
                .map(|b| b[field].as_i64().unwrap())
                .sum::<i64>()
        };
        assert_eq!(sum("requests"), 4);
        assert_eq!(sum("errors"), 1);
        assert_eq!(sum("cost_nano"), spent);
        assert_eq!(v["bucket_secs"], 3600, "24 hours in hourly buckets");
        let top = &v["by_model"][0];
        assert_eq!(top["key"], "gpt-4o-mini");
        assert_eq!(top["requests"], 3);
        assert_eq!(v["by_user"][0]["name"], user.name.as_str());
        assert_eq!(v["by_channel"][0]["requests"], 3);
        assert!(v["by_channel"][0]["name"].as_str().unwrap() != "");

        // The owner sees only their own figures, and no per-user or per-channel breakdown.
        let r = gw.get("/api/logs/stats", &key).send().await.unwrap();
        let own: Value = r.json().await.unwrap();
        assert_eq!(own["totals"]["requests"], 4);
        assert!(own.get("by_user").is_none() && own.get("by_channel").is_none());
        assert_eq!(own["by_key"][0]["requests"], 4);

        let r = gw
            .get("/api/logs/stats?since=10&until=5", ROOT_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let r = gw
            .get("/api/logs/stats?since=0&bucket_secs=1", ROOT_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "too many buckets");
        gw.shutdown().await;
    }
}
