//! Scenario 7: the web console's pages against a usage log of 100,000 rows. Each page load is
//! what the browser fetches for it: the shell (`/`, then its stylesheet and modules and the
//! session, in parallel), then the page's module and its API calls, in parallel. Timed end to
//! end; the answers must all be 200.

use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use switchyard_store::{Store, UsageLog};

use crate::load::{self, Http};

/// The log rows written before the pages are timed.
pub const LOG_ROWS: usize = 100_000;
const DAY_MS: i64 = 86_400_000;
const SHELL: [&str; 5] = [
    "/console/style.css",
    "/console/app.js",
    "/console/lib.js",
    "/console/chart.js",
    "/api/auth/session",
];

/// Each page: its module and the API calls it makes on load (see crates/gateway/console/pages).
fn pages(now: i64) -> Vec<(&'static str, Vec<String>)> {
    let day = format!("since={}&until={now}", now - DAY_MS);
    let month = format!("since={}&until={now}", now - 30 * DAY_MS);
    vec![
        (
            "dashboard",
            vec![
                format!("/api/logs/stats?{day}"),
                "/api/me".into(),
                "/api/channels".into(),
            ],
        ),
        (
            "dashboard (30 days)",
            vec![
                format!("/api/logs/stats?{month}"),
                "/api/me".into(),
                "/api/channels".into(),
            ],
        ),
        (
            "channels",
            vec![
                "/api/channels".into(),
                format!("/api/logs/stats?since={}", now - DAY_MS),
            ],
        ),
        (
            "keys",
            vec!["/api/keys".into(), "/api/users?limit=1000".into()],
        ),
        ("users", vec!["/api/users?limit=50".into()]),
        ("prices", vec!["/api/prices".into()]),
        (
            "logs",
            vec![
                "/api/logs?limit=50&offset=0".into(),
                "/api/logs/summary".into(),
                "/api/channels".into(),
                "/api/keys".into(),
                "/api/prices".into(),
                "/api/users?limit=1000".into(),
            ],
        ),
        ("tasks", vec!["/api/tasks?limit=24&offset=0".into()]),
        ("playground", vec!["/v1/models".into()]),
        ("docs", vec![]),
    ]
}

fn module(page: &str) -> String {
    let file = page.split(' ').next().unwrap_or(page);
    format!("/console/pages/{file}.js")
}

/// A signed-in browser: the session cookie for the console's API, and the API key the
/// playground sends to /v1.
struct Browser {
    http: Http,
    base: String,
    cookie: String,
    key: String,
}

impl Browser {
    async fn get(&self, path: &str) -> anyhow::Result<usize> {
        let req = hyper::Request::get(format!("{}{path}", self.base));
        let req = if path.starts_with("/v1/") {
            req.header("authorization", format!("Bearer {}", self.key))
        } else {
            req.header("cookie", &self.cookie)
        };
        let resp = self
            .http
            .request(req.body(Full::new(Bytes::new()))?)
            .await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        anyhow::ensure!(status.is_success(), "GET {path}: {status}");
        Ok(body.len())
    }

    /// In parallel, as a page's fetches are.
    async fn all(&self, paths: &[String]) -> anyhow::Result<()> {
        for r in futures::future::join_all(paths.iter().map(|p| self.get(p))).await {
            r?;
        }
        Ok(())
    }

    /// One page load: the shell, then the page's module and data. Milliseconds.
    async fn load(&self, page: &str, calls: &[String]) -> anyhow::Result<f64> {
        let started = Instant::now();
        self.get("/").await?;
        let shell: Vec<String> = SHELL.iter().map(|s| s.to_string()).collect();
        self.all(&shell).await?;
        let mut data = vec![module(page)];
        data.extend(calls.iter().cloned());
        self.all(&data).await?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    }
}

/// Write `LOG_ROWS` rows over the last 30 days for the key's user, model and channel mix.
pub async fn seed(db_url: &str, base: &str, key: &str, rows: usize) -> anyhow::Result<()> {
    let http = load::client(2);
    let me = get_json(&http, base, "/api/me", key).await?;
    let user_id = me["id"]
        .as_str()
        .context("no user id in /api/me")?
        .to_string();
    let key_id = me["key"]["id"]
        .as_str()
        .context("no key id in /api/me")?
        .to_string();
    let channels = get_json(&http, base, "/api/channels", key).await?;
    let channel_id = channels["data"][0]["id"].as_str().map(String::from);
    let store = Store::connect(db_url)
        .await
        .context("opening the gateway's database")?;
    let now = switchyard_store::now_ms();
    // Ids unique to this run: `--postgres` names a database that outlives the run, and a
    // second run's seed must not collide with the first's.
    let run = switchyard_store::new_id("seed");
    let models = ["gpt-4o-mini", "bench-20ms", "bench-slow-stream"];
    let batch = 5_000;
    for start in (0..rows).step_by(batch) {
        let mut chunk: Vec<UsageLog> = (start..(start + batch).min(rows))
            .map(|i| {
                let error = i % 37 == 0;
                UsageLog {
                    id: format!("req_{run}_{i:08}"),
                    ts: now - (i as i64 * 30 * DAY_MS) / rows as i64,
                    user_id: user_id.clone(),
                    key_id: key_id.clone(),
                    endpoint: "/v1/chat/completions".into(),
                    model: models[i % models.len()].into(),
                    channel_id: channel_id.clone(),
                    stream: (i % 2) as i64,
                    tokens_in: 20 + (i % 300) as i64,
                    tokens_out: if error { 0 } else { 50 + (i % 700) as i64 },
                    tokens_cached: 0,
                    cost: if error {
                        0
                    } else {
                        30_000 + (i % 1000) as i64 * 600
                    },
                    latency_ms: 200 + (i % 1500) as i64,
                    ttft_ms: Some(80 + (i % 300) as i64),
                    status: if error { 502 } else { 200 },
                    error: error.then(|| "the provider timed out".into()),
                }
            })
            .collect();
        store.insert_logs(&mut chunk).await?;
    }
    store.close().await;
    Ok(())
}

/// How many rows the usage log holds (the seeded ones and whatever the other scenarios wrote).
pub async fn log_rows(base: &str, key: &str) -> anyhow::Result<i64> {
    let v = get_json(&load::client(1), base, "/api/logs/summary", key).await?;
    v["requests"]
        .as_i64()
        .context("no requests in /api/logs/summary")
}

/// Sign in with the key, as the console's sign-in page does; returns the session cookie.
async fn sign_in(http: &Http, base: &str, key: &str) -> anyhow::Result<String> {
    let req = hyper::Request::post(format!("{base}/api/auth/login"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(json!({"key": key}).to_string())))?;
    let resp = http.request(req).await?;
    anyhow::ensure!(resp.status().is_success(), "sign-in: {}", resp.status());
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("no session cookie")?
        .to_string();
    resp.into_body().collect().await?;
    Ok(cookie)
}

async fn get_json(http: &Http, base: &str, path: &str, key: &str) -> anyhow::Result<Value> {
    let req = hyper::Request::get(format!("{base}{path}"))
        .header("authorization", format!("Bearer {key}"))
        .body(Full::new(Bytes::new()))?;
    let body = http
        .request(req)
        .await?
        .into_body()
        .collect()
        .await?
        .to_bytes();
    Ok(serde_json::from_slice(&body)?)
}

/// Each page loaded `runs` times after one warm-up load: `[{page, requests, ms: [...]}]`.
pub async fn measure(base: &str, key: &str, runs: usize) -> anyhow::Result<Vec<Value>> {
    let http = load::client(8);
    let cookie = sign_in(&http, base, key).await?;
    let browser = Browser {
        http,
        base: base.to_string(),
        cookie,
        key: key.to_string(),
    };
    let mut out = Vec::new();
    for (page, calls) in pages(switchyard_store::now_ms()) {
        browser.load(page, &calls).await?;
        let mut ms = Vec::new();
        for _ in 0..runs {
            ms.push(browser.load(page, &calls).await?);
        }
        out.push(json!({"page": page, "requests": 1 + SHELL.len() + 1 + calls.len(), "ms": ms}));
    }
    Ok(out)
}
