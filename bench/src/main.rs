//! `switchyard-bench`: what the gateway costs per request, measured against a direct call to
//! the same upstream in the same run, for the scenarios of docs/BENCHMARKS.md.

mod load;
mod procs;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;
use serde_json::{json, Value};

use load::{Stats, Target};
use procs::{GatewaySetup, Proc};

#[derive(Parser)]
#[command(about = "Measure the gateway against direct calls to the same upstream, side by side.")]
struct Args {
    /// The switchyard binary (build it with `cargo build --release -p switchyard`).
    #[arg(long, default_value = "target/release/switchyard")]
    bin: PathBuf,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// Repetitions of each measurement (the median is reported, with min–max).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Also run every scenario with the gateway on this PostgreSQL database.
    #[arg(long)]
    postgres: Option<String>,
    /// A seconds-long run of every scenario, for CI: proves the harness works, asserts nothing.
    #[arg(long)]
    smoke: bool,
    /// Write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also measure a LiteLLM proxy already listening at this base URL, started against an
    /// upstream simulator (`switchyard sim`); see docs/BENCHMARKS.md.
    #[arg(long)]
    litellm: Option<String>,
    #[arg(long, default_value = "sk-bench")]
    litellm_key: String,
}

const ROOT_KEY: &str = "sk-benchroot00000000000000000000000000000000000000000";

fn chat(model: &str, stream: bool) -> Bytes {
    let mut b = json!({"model": model, "messages": [{"role": "user", "content": "Say something short about relays."}], "max_tokens": 64});
    if stream {
        b["stream"] = json!(true);
    }
    Bytes::from(b.to_string())
}

fn config(sim: &str) -> String {
    format!(
        r#"[gateway]
catalog_refresh_secs = 30

[[channels]]
name = "bench"
base_url = "{sim}"
keys = ["sk-sim-bench"]
models = ["gpt-4o-mini", "bench-20ms", "bench-slow-stream"]
model_map = {{ "bench-20ms" = "gpt-4o-mini@latency_ms=20", "bench-slow-stream" = "gpt-4o-mini@chunk_delay_ms=1000,words=12" }}

[[prices]]
model = "gpt-4o-mini"
input_per_mtok = 0.15
output_per_mtok = 0.60

[[prices]]
model = "bench-20ms"
input_per_mtok = 0.15
output_per_mtok = 0.60

[[prices]]
model = "bench-slow-stream"
input_per_mtok = 0.15
output_per_mtok = 0.60
"#
    )
}

/// Give the root user enough balance for any run, through the admin API.
async fn fund(gw: &str) -> anyhow::Result<()> {
    let http = load::client(1);
    let call = |method: &str, path: &str, body: Value| {
        hyper::Request::builder()
            .method(method)
            .uri(format!("{gw}{path}"))
            .header("authorization", format!("Bearer {ROOT_KEY}"))
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(Bytes::from(body.to_string())))
    };
    use http_body_util::BodyExt;
    let me = http
        .request(call("GET", "/api/me", Value::Null)?)
        .await?
        .into_body()
        .collect()
        .await?
        .to_bytes();
    let me: Value = serde_json::from_slice(&me)?;
    let id = me
        .pointer("/user/id")
        .or_else(|| me.get("id"))
        .and_then(Value::as_str)
        .context("no user id in /api/me")?;
    let body = json!({"amount_nano": 1_000_000_000_000_000i64, "reason": "benchmark"});
    http.request(call("POST", &format!("/api/users/{id}/balance"), body)?)
        .await?;
    Ok(())
}

#[derive(serde::Serialize)]
struct Row {
    scenario: String,
    db: String,
    direct: Vec<Stats>,
    gateway: Vec<Stats>,
    extra: Value,
}

fn median(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn fmt3((m, lo, hi): (f64, f64, f64), unit: &str) -> String {
    format!("{m:.2}{unit} ({lo:.2}–{hi:.2})")
}

/// How hard and how long to drive one pair of measurements.
#[derive(Clone, Copy)]
struct Plan {
    workers: usize,
    secs: f64,
    runs: usize,
}

/// The same request direct to the simulator and through the gateway, interleaved.
async fn pair(
    sim: &Proc,
    gw: &Proc,
    (model_direct, model_gw): (&str, &str),
    stream: bool,
    plan: Plan,
) -> (Vec<Stats>, Vec<Stats>) {
    let direct = Target {
        url: format!("{}/v1/chat/completions", sim.url),
        key: "sk-sim-bench".into(),
        body: chat(model_direct, stream),
    };
    let via = Target {
        url: format!("{}/v1/chat/completions", gw.url),
        key: ROOT_KEY.into(),
        body: chat(model_gw, stream),
    };
    let Plan {
        workers,
        secs,
        runs,
    } = plan;
    let (mut d, mut g) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        // Interleaved, so drift on the machine hits both sides alike.
        d.push(load::run(direct.clone(), workers, secs, true).await);
        g.push(load::run(via.clone(), workers, secs, true).await);
    }
    (d, g)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.smoke {
        args.secs = 0.5;
        args.runs = 1;
    }
    let sim = procs::sim(&args.bin)
        .await
        .context("starting the simulator")?;
    let mut dbs: Vec<(String, Option<String>)> = vec![("sqlite".into(), None)];
    if let Some(pg) = &args.postgres {
        dbs.push(("postgres".into(), Some(pg.clone())));
    }
    let mut rows = Vec::new();
    for (db_name, db_url) in dbs {
        let dir = std::env::temp_dir().join(format!("switchyard-bench-{}", procs::free_port()));
        std::fs::create_dir_all(&dir)?;
        let setup = GatewaySetup {
            bin: args.bin.clone(),
            data_dir: dir.clone(),
            config: dir.join("bench.toml"),
            database_url: db_url,
            root_key: ROOT_KEY.into(),
        };
        std::fs::write(&setup.config, config(&sim.url))?;
        let (gw, _) = procs::gateway(&setup)
            .await
            .context("starting the gateway")?;
        fund(&gw.url).await.context("funding the bench user")?;
        let (runs, secs) = (args.runs, args.secs);
        let smoke_scale = |n: usize| if args.smoke { n.min(8) } else { n };

        // (scenario, model sent direct, model sent through the gateway, streamed, workers)
        let scenarios = [
            (
                "1. non-streamed chat at peak (32 workers)",
                "gpt-4o-mini",
                "gpt-4o-mini",
                false,
                32,
            ),
            (
                "2. latency at concurrency 1",
                "gpt-4o-mini",
                "gpt-4o-mini",
                false,
                1,
            ),
            (
                "3. streamed chat (8 workers)",
                "gpt-4o-mini",
                "gpt-4o-mini",
                true,
                8,
            ),
            (
                "5. 20 ms upstream at concurrency 64",
                "gpt-4o-mini@latency_ms=20",
                "bench-20ms",
                false,
                64,
            ),
        ];
        for (scenario, direct, via, stream, workers) in scenarios {
            let plan = Plan {
                workers: smoke_scale(workers),
                secs,
                runs,
            };
            eprintln!("[{db_name}] {scenario}…");
            let (d, g) = pair(&sim, &gw, (direct, via), stream, plan).await;
            rows.push(Row {
                scenario: scenario.into(),
                db: db_name.clone(),
                direct: d,
                gateway: g,
                extra: Value::Null,
            });
        }
        rows.push(
            slow_streams(
                &gw,
                smoke_scale(1000),
                if args.smoke { 2.0 } else { 10.0 },
                &db_name,
            )
            .await,
        );
        drop(gw);
        let mut starts = Vec::new();
        for _ in 0..runs.max(3) {
            let (p, took) = procs::gateway(&setup).await?;
            drop(p);
            starts.push(took.as_secs_f64() * 1000.0);
        }
        rows.push(Row {
            scenario: "6. cold start to /healthz 200".into(),
            db: db_name.clone(),
            direct: vec![],
            gateway: vec![],
            extra: json!({"ms": starts}),
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
    if let Some(url) = &args.litellm {
        let peer = Target {
            url: format!("{url}/v1/chat/completions"),
            key: args.litellm_key.clone(),
            body: chat("gpt-4o-mini", false),
        };
        let direct = Target {
            url: format!("{}/v1/chat/completions", sim.url),
            key: "sk-sim-bench".into(),
            body: chat("gpt-4o-mini", false),
        };
        let (mut d, mut g) = (Vec::new(), Vec::new());
        for workers in [32, 1] {
            d.push(load::run(direct.clone(), workers, args.secs, true).await);
            g.push(load::run(peer.clone(), workers, args.secs, true).await);
        }
        rows.push(Row {
            scenario: "LiteLLM proxy: [32 workers, concurrency 1]".into(),
            db: "litellm".into(),
            direct: d,
            gateway: g,
            extra: Value::Null,
        });
    }
    print_table(&rows);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&json!({"rows": rows}))?)?;
    }
    Ok(())
}

/// Scenario 4: many slow streams held open at once; the gateway's memory and CPU meanwhile.
async fn slow_streams(gw: &Proc, n: usize, secs: f64, db: &str) -> Row {
    let pid = gw.child.id();
    let base_rss = procs::rss_bytes(pid);
    let cpu0 = procs::cpu_seconds(pid);
    let started = Instant::now();
    let t = Target {
        url: format!("{}/v1/chat/completions", gw.url),
        key: ROOT_KEY.into(),
        body: chat("bench-slow-stream", true),
    };
    let load = tokio::spawn(load::run(t, n, secs, false));
    let mut peak = 0;
    while !load.is_finished() {
        peak = peak.max(procs::rss_bytes(pid));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stats = load.await.unwrap_or_default();
    let cpu = (procs::cpu_seconds(pid) - cpu0) / started.elapsed().as_secs_f64();
    Row {
        scenario: format!("4. {n} concurrent slow streams (1 chunk/s)"),
        db: db.into(),
        direct: vec![],
        gateway: vec![stats],
        extra: json!({"rss_idle_mb": base_rss as f64 / 1e6, "rss_peak_mb": peak as f64 / 1e6, "cpu_cores": cpu}),
    }
}

fn print_table(rows: &[Row]) {
    println!("| scenario | db | direct | gateway | gateway ÷ direct / added |");
    println!("|---|---|---|---|---|");
    for r in rows {
        if r.direct.is_empty() {
            println!("| {} | {} | | {} | |", r.scenario, r.db, r.extra);
            continue;
        }
        let rps = |v: &[Stats]| median(&mut v.iter().map(|s| s.rps).collect::<Vec<_>>());
        let (d, g) = (rps(&r.direct), rps(&r.gateway));
        let ratio = median(
            &mut r
                .direct
                .iter()
                .zip(&r.gateway)
                .map(|(d, g)| g.rps / d.rps.max(1e-9))
                .collect::<Vec<_>>(),
        );
        let added = |f: fn(&Stats) -> u64| {
            median(
                &mut r
                    .direct
                    .iter()
                    .zip(&r.gateway)
                    .map(|(d, g)| f(g) as f64 - f(d) as f64)
                    .collect::<Vec<_>>(),
            )
        };
        println!(
            "| {} | {} | {} rps, p50 {} µs, p99 {} µs | {} rps, p50 {} µs, p99 {} µs | {} ; added p50 {} µs, p99 {} µs, TTFB p99 {} µs |",
            r.scenario,
            r.db,
            d.0.round(),
            r.direct[0].p50_us,
            r.direct[0].p99_us,
            g.0.round(),
            r.gateway[0].p50_us,
            r.gateway[0].p99_us,
            fmt3(ratio, "×"),
            added(|s| s.p50_us).0,
            added(|s| s.p99_us).0,
            added(|s| s.ttfb_p99_us).0,
        );
    }
}
