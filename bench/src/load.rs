//! A closed-loop load generator: N workers, each sending its next request as soon as the
//! last answer is fully read, for a fixed time. Pooled keep-alive HTTP/1.1 with TCP_NODELAY,
//! so the generator itself costs as little as possible and the same for every target.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub type Http = Client<HttpConnector, Full<Bytes>>;

pub fn client(pool: usize) -> Http {
    let mut conn = HttpConnector::new();
    conn.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(pool)
        .build(conn)
}

/// One kind of request, cloned for every send.
#[derive(Clone)]
pub struct Target {
    pub url: String,
    pub key: String,
    pub body: Bytes,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub rps: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    /// Time to the first body chunk (streams).
    pub ttfb_p50_us: u64,
    pub ttfb_p99_us: u64,
    /// Body chunks per second over all workers (streams).
    pub chunks_per_sec: f64,
    /// CPU time (user + system) the serving process spent per request, when it is known.
    pub cpu_us_per_request: Option<f64>,
}

struct Sample {
    total_us: u32,
    first_us: u32,
    chunks: u32,
    ok: bool,
}

async fn one(http: &Http, t: &Target) -> Sample {
    let started = Instant::now();
    let req = Request::post(&t.url)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", t.key))
        .body(Full::new(t.body.clone()))
        .expect("request");
    let mut s = Sample {
        total_us: 0,
        first_us: 0,
        chunks: 0,
        ok: false,
    };
    let Ok(resp) = http.request(req).await else {
        return s;
    };
    s.ok = resp.status().is_success();
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) if f.is_data() => {
                if s.chunks == 0 {
                    s.first_us = started.elapsed().as_micros() as u32;
                }
                s.chunks += 1;
            }
            Ok(_) => {}
            Err(_) => {
                s.ok = false;
                break;
            }
        }
    }
    s.total_us = started.elapsed().as_micros() as u32;
    s
}

/// Run `workers` loops against `t` for `secs` seconds, after a concurrent warm-up (one request
/// per worker, at most 32) when `warm` is set.
pub async fn run(t: Target, workers: usize, secs: f64, warm: bool) -> Stats {
    let http = client(workers);
    if warm {
        let warmups: Vec<_> = (0..workers.min(32))
            .map(|_| {
                let (http, t) = (http.clone(), t.clone());
                tokio::spawn(async move { one(&http, &t).await })
            })
            .collect();
        for w in warmups {
            let _ = w.await;
        }
    }
    let t = Arc::new(t);
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (http, t) = (http.clone(), t.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                while Instant::now() < until {
                    out.push(one(&http, &t).await);
                }
                out
            })
        })
        .collect();
    let mut samples = Vec::new();
    for h in handles {
        samples.extend(h.await.unwrap_or_default());
    }
    summarize(samples, started.elapsed().as_secs_f64())
}

/// `n` requests one after another (a probe: does this target answer at all?).
pub async fn run_count(t: Target, n: usize) -> Stats {
    let http = client(1);
    let started = Instant::now();
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        samples.push(one(&http, &t).await);
    }
    summarize(samples, started.elapsed().as_secs_f64())
}

fn pct(sorted: &[u32], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize] as u64
}

fn summarize(samples: Vec<Sample>, seconds: f64) -> Stats {
    let errors = samples.iter().filter(|s| !s.ok).count() as u64;
    let mut total: Vec<u32> = samples
        .iter()
        .filter(|s| s.ok)
        .map(|s| s.total_us)
        .collect();
    let mut first: Vec<u32> = samples
        .iter()
        .filter(|s| s.ok)
        .map(|s| s.first_us)
        .collect();
    total.sort_unstable();
    first.sort_unstable();
    let chunks: u64 = samples.iter().map(|s| s.chunks as u64).sum();
    Stats {
        requests: samples.len() as u64,
        errors,
        seconds,
        rps: total.len() as f64 / seconds,
        p50_us: pct(&total, 0.5),
        p99_us: pct(&total, 0.99),
        ttfb_p50_us: pct(&first, 0.5),
        ttfb_p99_us: pct(&first, 0.99),
        chunks_per_sec: chunks as f64 / seconds,
        cpu_us_per_request: None,
    }
}
