//! `switchyard-bench`: what the gateway costs per request, measured against a direct call to
//! the same upstream in the same run, for the scenarios of docs/BENCHMARKS.md.

mod console;
mod load;
mod plot;
mod procs;
mod proxy;

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
    /// The binary whose `sim` is the upstream (default: `--bin`). Set it to compare two
    /// gateway builds against the same simulator.
    #[arg(long)]
    sim_bin: Option<PathBuf>,
    /// Use a simulator already listening at this base URL instead of starting one.
    #[arg(long)]
    sim: Option<String>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// Repetitions of each measurement (the median is reported, with min–max).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Scenarios to run (comma-separated numbers).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5,6,7")]
    scenarios: Vec<u32>,
    /// Also run every scenario with the gateway on this PostgreSQL database.
    #[arg(long)]
    postgres: Option<String>,
    /// A seconds-long run of every scenario, for CI: proves the harness works, asserts nothing.
    #[arg(long)]
    smoke: bool,
    /// Write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also measure a LiteLLM proxy already listening at this base URL, serving
    /// `gpt-4o-mini` (and `bench-20ms`, for scenario 5) from the same simulator as `--sim`;
    /// `bench/litellm.sh` sets both up.
    #[arg(long)]
    litellm: Option<String>,
    #[arg(long, default_value = "sk-bench")]
    litellm_key: String,
    /// Leave out the reference row (a bare hyper pass-through proxy).
    #[arg(long)]
    no_reference: bool,
    /// Concurrency levels of the latency-against-load sweep.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16,32,64")]
    sweep: Vec<usize>,
    /// Skip the latency-against-load sweep.
    #[arg(long)]
    no_sweep: bool,
    /// Seconds per point of the sweep (each path).
    #[arg(long, default_value_t = 2.0)]
    sweep_secs: f64,
    /// Where the sweep's plot goes (default docs/bench/latency-vs-load.svg; with --smoke, a
    /// temporary file).
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Internal: run as the reference pass-through proxy on this address.
    #[arg(long, hide = true, requires = "proxy_upstream")]
    proxy_listen: Option<String>,
    /// Internal: the reference proxy's upstream.
    #[arg(long, hide = true)]
    proxy_upstream: Option<String>,
}

const ROOT_KEY: &str = "sk-benchroot00000000000000000000000000000000000000000";
const SIM_KEY: &str = "sk-sim-bench";

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
keys = ["{SIM_KEY}"]
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
    /// The path measured against direct: the gateway on a database, the reference proxy, a peer.
    db: String,
    direct: Vec<Stats>,
    gateway: Vec<Stats>,
    extra: Value,
}

/// Median, min and max.
fn median(v: &mut [f64]) -> (f64, f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// `m (lo–hi)`, or just `m` for one run.
fn fmt3((m, lo, hi): (f64, f64, f64), digits: usize, unit: &str) -> String {
    if lo == hi {
        format!("{m:.digits$}{unit}")
    } else {
        format!("{m:.digits$}{unit} ({lo:.digits$}–{hi:.digits$})")
    }
}

/// How hard and how long to drive one set of measurements.
#[derive(Clone, Copy)]
struct Plan {
    workers: usize,
    secs: f64,
    runs: usize,
}

/// What a path calls itself in the table and how it is reached.
#[derive(Clone)]
struct Path {
    label: String,
    base: String,
    key: String,
    /// Takes the simulator's model names (a pass-through proxy), not the gateway's.
    sim_models: bool,
    /// The process serving it, when the bench started it: its CPU time per request is
    /// measured too, which shows a change in cost through noise that moves the throughput.
    pid: Option<u32>,
}

impl Path {
    fn target(&self, s: &Scenario) -> Target {
        let model = if self.sim_models { s.direct } else { s.via };
        Target {
            url: format!("{}/v1/chat/completions", self.base),
            key: self.key.clone(),
            body: chat(model, s.stream),
        }
    }
}

struct Scenario {
    n: u32,
    name: &'static str,
    /// The model asked of the simulator directly.
    direct: &'static str,
    /// The model asked through the gateway (or a peer configured like it).
    via: &'static str,
    stream: bool,
    workers: usize,
}

const SCENARIOS: [Scenario; 5] = [
    Scenario {
        n: 1,
        name: "1. non-streamed chat at peak (32 workers)",
        direct: "gpt-4o-mini",
        via: "gpt-4o-mini",
        stream: false,
        workers: 32,
    },
    Scenario {
        n: 2,
        name: "2. latency at concurrency 1",
        direct: "gpt-4o-mini",
        via: "gpt-4o-mini",
        stream: false,
        workers: 1,
    },
    Scenario {
        n: 3,
        name: "3. streamed chat (8 workers)",
        direct: "gpt-4o-mini",
        via: "gpt-4o-mini",
        stream: true,
        workers: 8,
    },
    // The time to first token a caller sees when the machine is not saturated: at 8
    // workers on 2 cores every path is CPU-bound, and the added TTFB there is mostly the
    // queueing of a proxy's halved throughput (see docs/BENCHMARKS.md).
    Scenario {
        n: 3,
        name: "3. streamed chat at concurrency 1",
        direct: "gpt-4o-mini",
        via: "gpt-4o-mini",
        stream: true,
        workers: 1,
    },
    Scenario {
        n: 5,
        name: "5. 20 ms upstream at concurrency 64",
        direct: "gpt-4o-mini@latency_ms=20",
        via: "bench-20ms",
        stream: false,
        workers: 64,
    },
];

/// The same request direct to the simulator and along each path, interleaved run by run so
/// drift on the machine hits every side alike. Returns the direct runs and each path's.
async fn measure(
    direct: &Path,
    paths: &[Path],
    s: &Scenario,
    plan: Plan,
) -> (Vec<Stats>, Vec<Vec<Stats>>) {
    let mut d = Vec::new();
    let mut via = vec![Vec::new(); paths.len()];
    for _ in 0..plan.runs {
        d.push(run_on(direct, s, plan).await);
        for (p, out) in paths.iter().zip(via.iter_mut()) {
            out.push(run_on(p, s, plan).await);
        }
    }
    (d, via)
}

/// One measurement along a path, with the CPU its process spent per request meanwhile.
async fn run_on(p: &Path, s: &Scenario, plan: Plan) -> Stats {
    let cpu0 = p.pid.map(procs::cpu_seconds);
    let mut st = load::run(p.target(s), plan.workers, plan.secs, true).await;
    if let (Some(pid), Some(cpu0)) = (p.pid, cpu0) {
        st.cpu_us_per_request =
            Some((procs::cpu_seconds(pid) - cpu0) * 1e6 / st.requests.max(1) as f64);
    }
    st
}

/// One request along a path, to fail early (and plainly) when a peer is not set up right.
async fn probe(p: &Path, s: &Scenario) -> anyhow::Result<()> {
    let st = load::run_count(p.target(s), 1).await;
    if st.errors > 0 || st.requests == 0 {
        anyhow::bail!(
            "{} at {} did not answer a {} request with a 2xx",
            p.label,
            p.base,
            s.via
        );
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let (Some(listen), Some(up)) = (&args.proxy_listen, &args.proxy_upstream) {
        // The reference proxy: its own process and runtime, like the gateway.
        return tokio::runtime::Runtime::new()?.block_on(proxy::serve(listen, up));
    }
    tokio::runtime::Runtime::new()?.block_on(bench(args))
}

async fn bench(mut args: Args) -> anyhow::Result<()> {
    if args.smoke {
        args.secs = 0.5;
        args.runs = 1;
        args.sweep_secs = 0.25;
        args.sweep.retain(|c| *c <= 4);
        if args.svg.is_none() {
            args.svg = Some(std::env::temp_dir().join("switchyard-bench-smoke.svg"));
        }
    }
    let _sim_proc;
    let (sim_url, sim_pid) = match &args.sim {
        Some(url) => (url.trim_end_matches('/').to_string(), None),
        None => {
            let p = procs::sim(args.sim_bin.as_ref().unwrap_or(&args.bin))
                .await
                .context("starting the simulator")?;
            let started = (p.url.clone(), Some(p.child.id()));
            _sim_proc = p;
            started
        }
    };
    let direct = Path {
        label: "direct".into(),
        base: sim_url.clone(),
        key: SIM_KEY.into(),
        sim_models: true,
        pid: sim_pid,
    };
    let reference = if args.no_reference {
        None
    } else {
        let exe = std::env::current_exe()?;
        Some(
            procs::reference_proxy(&exe, &sim_url)
                .await
                .context("starting the reference proxy")?,
        )
    };
    let mut peers: Vec<Path> = Vec::new();
    if let Some(p) = &reference {
        peers.push(Path {
            label: "reference: bare hyper proxy".into(),
            base: p.url.clone(),
            key: SIM_KEY.into(),
            sim_models: true,
            pid: Some(p.child.id()),
        });
    }
    if let Some(url) = &args.litellm {
        let p = Path {
            label: "LiteLLM proxy 1.108.7".into(),
            base: url.trim_end_matches('/').to_string(),
            key: args.litellm_key.clone(),
            sim_models: false,
            pid: None,
        };
        probe(&p, &SCENARIOS[0]).await?;
        peers.push(p);
    }
    let mut dbs: Vec<(String, Option<String>)> = vec![("sqlite".into(), None)];
    if let Some(pg) = &args.postgres {
        dbs.push(("postgres".into(), Some(pg.clone())));
    }
    let wanted = |n: u32| args.scenarios.contains(&n);
    let mut rows = Vec::new();
    let mut sweep_table = None;
    for (i, (db_name, db_url)) in dbs.into_iter().enumerate() {
        let dir = std::env::temp_dir().join(format!("switchyard-bench-{}", procs::free_port()));
        std::fs::create_dir_all(&dir)?;
        let setup = GatewaySetup {
            bin: args.bin.clone(),
            data_dir: dir.clone(),
            config: dir.join("bench.toml"),
            database_url: db_url,
            root_key: ROOT_KEY.into(),
        };
        std::fs::write(&setup.config, config(&sim_url))?;
        let (gw, _) = procs::gateway(&setup)
            .await
            .context("starting the gateway")?;
        fund(&gw.url).await.context("funding the bench user")?;
        let gateway = Path {
            label: db_name.clone(),
            base: gw.url.clone(),
            key: ROOT_KEY.into(),
            sim_models: false,
            pid: Some(gw.child.id()),
        };
        // The peers are measured once, alongside the first database's gateway.
        let mut paths = vec![gateway.clone()];
        if i == 0 {
            paths.extend(peers.iter().cloned());
        }
        let smoke_scale = |n: usize| if args.smoke { n.min(8) } else { n };
        for s in SCENARIOS.iter().filter(|s| wanted(s.n)) {
            let plan = Plan {
                workers: smoke_scale(s.workers),
                secs: args.secs,
                runs: args.runs,
            };
            eprintln!("[{db_name}] {}…", s.name);
            let (d, via) = measure(&direct, &paths, s, plan).await;
            for (p, g) in paths.iter().zip(via) {
                rows.push(Row {
                    scenario: s.name.into(),
                    db: p.label.clone(),
                    direct: d.clone(),
                    gateway: g,
                    extra: Value::Null,
                });
            }
        }
        if i == 0 && !args.no_sweep && !args.sweep.is_empty() {
            eprintln!("[{db_name}] latency against load…");
            let mut sweep_paths = vec![direct.clone()];
            sweep_paths.extend(peers.iter().filter(|p| p.sim_models).cloned());
            sweep_paths.push(Path {
                label: "gateway (SQLite)".into(),
                ..gateway.clone()
            });
            let (series, table) = sweep(&sweep_paths, &args.sweep, args.sweep_secs).await;
            let svg_path = args
                .svg
                .clone()
                .unwrap_or_else(|| PathBuf::from("docs/bench/latency-vs-load.svg"));
            if let Some(parent) = svg_path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            let subtitle = format!(
                "non-streamed chat, closed loop, {} s per point; load generator, simulator and gateway on one {}-core machine",
                args.sweep_secs,
                std::thread::available_parallelism().map_or(0, |n| n.get())
            );
            std::fs::write(
                &svg_path,
                plot::svg("Latency against load", &subtitle, &series),
            )?;
            eprintln!("wrote {}", svg_path.display());
            sweep_table = Some(table);
        }
        if wanted(4) {
            eprintln!("[{db_name}] 4. slow streams…");
            rows.push(
                slow_streams(
                    &gw,
                    smoke_scale(1000),
                    if args.smoke { 2.0 } else { 10.0 },
                    &db_name,
                )
                .await,
            );
        }
        if wanted(7) {
            let rows_n = if args.smoke { 2_000 } else { console::LOG_ROWS };
            eprintln!("[{db_name}] 7. console pages over {rows_n} log rows…");
            let db = setup.database_url.clone().unwrap_or_else(|| {
                format!(
                    "sqlite://{}",
                    setup.data_dir.join("switchyard.db").display()
                )
            });
            console::seed(&db, &gw.url, ROOT_KEY, rows_n)
                .await
                .context("seeding the usage log")?;
            // The log writer gathers rows for 50 ms before writing; the other scenarios' rows count too.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let total = console::log_rows(&gw.url, ROOT_KEY).await?;
            for page in console::measure(&gw.url, ROOT_KEY, args.runs.max(5)).await? {
                rows.push(Row {
                    scenario: format!("7. console page load ({rows_n} seeded + the other scenarios' = {total} log rows)"),
                    db: format!("{db_name}: {}", page["page"].as_str().unwrap_or("?")),
                    direct: vec![],
                    gateway: vec![],
                    extra: page,
                });
            }
        }
        drop(gw);
        if wanted(6) {
            let mut starts = Vec::new();
            for _ in 0..args.runs.max(3) {
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
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    drop(reference);
    // By scenario; within one, in the order measured (SQLite, the peers, PostgreSQL).
    rows.sort_by(|a, b| a.scenario[..2].cmp(&b.scenario[..2]));
    print_table(&rows);
    if let Some(t) = &sweep_table {
        println!();
        print!("{t}");
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&json!({"rows": rows}))?)?;
    }
    Ok(())
}

/// Latency against load: each path at each concurrency, non-streamed chat; the plot's series
/// and a Markdown table of the same figures.
async fn sweep(paths: &[Path], levels: &[usize], secs: f64) -> (Vec<plot::Series>, String) {
    const COLORS: [&str; 4] = ["#1f77b4", "#7f7f7f", "#d62728", "#2ca02c"];
    let s = &SCENARIOS[0];
    let mut series: Vec<plot::Series> = paths
        .iter()
        .zip(COLORS.iter().cycle())
        .map(|(p, c)| plot::Series {
            name: p.label.clone(),
            color: c,
            points: Vec::new(),
        })
        .collect();
    let mut table = String::from("| concurrency |");
    for p in paths {
        table.push_str(&format!(" {} rps, p50 / p99 µs |", p.label));
    }
    table.push('\n');
    table.push_str(&"|---".repeat(paths.len() + 1));
    table.push_str("|\n");
    for &c in levels {
        table.push_str(&format!("| {c} |"));
        for (p, out) in paths.iter().zip(series.iter_mut()) {
            let st = load::run(p.target(s), c, secs, true).await;
            out.points.push((c, st.p50_us as f64, st.p99_us as f64));
            table.push_str(&format!(" {:.0}, {} / {} |", st.rps, st.p50_us, st.p99_us));
        }
        table.push('\n');
    }
    (series, table)
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
    println!("| scenario | path | direct | through the path | ÷ direct | added p50 | added p99 | added TTFB p99 |");
    println!("|---|---|---|---|---|---|---|---|");
    for r in rows {
        if r.direct.is_empty() {
            println!(
                "| {} | {} | | {} | | | | |",
                r.scenario,
                r.db,
                extra_cell(r)
            );
            continue;
        }
        let med =
            |v: &[Stats], f: fn(&Stats) -> f64| median(&mut v.iter().map(f).collect::<Vec<_>>());
        let side = |v: &[Stats], stream: bool| {
            let mut cell = format!(
                "{} rps, p50 {} µs, p99 {} µs",
                fmt3(med(v, |s| s.rps), 0, ""),
                med(v, |s| s.p50_us as f64).0,
                med(v, |s| s.p99_us as f64).0,
            );
            if stream {
                cell.push_str(&format!(
                    ", TTFB p50 {} µs, p99 {} µs, {:.0} chunks/s",
                    med(v, |s| s.ttfb_p50_us as f64).0,
                    med(v, |s| s.ttfb_p99_us as f64).0,
                    med(v, |s| s.chunks_per_sec).0
                ));
            }
            let mut cpu: Vec<f64> = v.iter().filter_map(|s| s.cpu_us_per_request).collect();
            if !cpu.is_empty() {
                cell.push_str(&format!(
                    ", CPU {} µs/request",
                    fmt3(median(&mut cpu), 0, "")
                ));
            }
            let errors: u64 = v.iter().map(|s| s.errors).sum();
            if errors > 0 {
                cell.push_str(&format!(", **{errors} errors**"));
            }
            cell
        };
        let stream = r.scenario.contains("streamed") && !r.scenario.contains("non-streamed");
        let pairs = || r.direct.iter().zip(&r.gateway);
        let ratio = median(
            &mut pairs()
                .map(|(d, g)| g.rps / d.rps.max(1e-9))
                .collect::<Vec<_>>(),
        );
        let added = |f: fn(&Stats) -> u64| {
            fmt3(
                median(
                    &mut pairs()
                        .map(|(d, g)| f(g) as f64 - f(d) as f64)
                        .collect::<Vec<_>>(),
                ),
                0,
                " µs",
            )
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.scenario,
            r.db,
            side(&r.direct, stream),
            side(&r.gateway, stream),
            fmt3(ratio, 2, "×"),
            added(|s| s.p50_us),
            added(|s| s.p99_us),
            added(|s| s.ttfb_p99_us),
        );
    }
}

fn extra_cell(r: &Row) -> String {
    let f = |k: &str| r.extra.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    if let Some(ms) = r.extra.get("ms").and_then(Value::as_array) {
        let mut v: Vec<f64> = ms.iter().filter_map(Value::as_f64).collect();
        if let Some(n) = r.extra.get("requests") {
            return format!("{} for {n} requests", fmt3(median(&mut v), 1, " ms"));
        }
        return format!("{} to /healthz 200", fmt3(median(&mut v), 1, " ms"));
    }
    let streams = r.gateway.first().map_or(0, |s| s.requests - s.errors);
    format!(
        "RSS {:.0} MB idle, {:.0} MB peak; CPU {:.2} cores; {} streams completed",
        f("rss_idle_mb"),
        f("rss_peak_mb"),
        f("cpu_cores"),
        streams
    )
}
