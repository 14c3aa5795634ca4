//! The SQLite log writer's CPU per row, away from the noise of a full benchmark: writes
//! BATCHES batches of ROWS rows (default 200 of 1,500, the peak's batch size) through the
//! store, as the gateway does, and prints the process's CPU time per row over the last three
//! quarters of them (the time to build the rows is not counted).
//!
//!     cargo run --release -p switchyard-store --example log_write -- [BATCHES] [ROWS]
use switchyard_store::{new_sorted_id, now_ms, Store, UsageLog};

fn cpu_s() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = std::env::temp_dir().join(format!("logw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/s.db?mode=rwc", dir.display());
    let store = Store::connect(&url).await.unwrap();
    let batches: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().unwrap())
        .unwrap_or(200);
    let rows: usize = std::env::args()
        .nth(2)
        .map(|a| a.parse().unwrap())
        .unwrap_or(1500);
    let mut total = 0.0;
    for b in 0..batches {
        let mut batch: Vec<UsageLog> = (0..rows)
            .map(|_| UsageLog {
                id: new_sorted_id("req"),
                ts: now_ms(),
                user_id: "usr_0123456789abcdefghijklmn".into(),
                key_id: "key_0123456789abcdefghijklmn".into(),
                endpoint: "/v1/chat/completions".into(),
                model: "gpt-4o-mini".into(),
                channel_id: Some("chn_0123456789abcdefghijklmn".into()),
                stream: 0,
                tokens_in: 12,
                tokens_out: 64,
                tokens_cached: 0,
                cost: 40200,
                latency_ms: 0,
                ttft_ms: None,
                status: 200,
                error: None,
            })
            .collect();
        let t0 = cpu_s();
        store.insert_logs(&mut batch).await.unwrap();
        if b >= batches / 4 {
            total += cpu_s() - t0;
        }
    }
    let n = (batches - batches / 4) * rows;
    println!(
        "{:.3} µs CPU per row over {} rows",
        total * 1e6 / n as f64,
        n
    );
    std::fs::remove_dir_all(&dir).ok();
}
