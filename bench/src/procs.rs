//! The processes under test: the simulator (the "direct" upstream) and the gateway, each its
//! own OS process as users run them, with their memory and CPU read from /proc.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Proc {
    pub child: Child,
    pub url: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Poll `url` until it answers 200; the time it took.
pub async fn wait_ready(url: &str, limit: Duration) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let http = crate::load::client(1);
    while started.elapsed() < limit {
        let req = hyper::Request::get(url).body(http_body_util::Full::new(bytes::Bytes::new()))?;
        if let Ok(r) = http.request(req).await {
            if r.status() == 200 {
                return Ok(started.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    anyhow::bail!("{url} not ready within {limit:?}")
}

pub async fn sim(bin: &Path) -> anyhow::Result<Proc> {
    let port = free_port();
    let child = Command::new(bin)
        .args(["sim", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let p = Proc {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    wait_ready(&format!("{}/sim/stats", p.url), Duration::from_secs(10)).await?;
    Ok(p)
}

/// The reference pass-through proxy (this harness's own binary) in front of `upstream`.
pub async fn reference_proxy(exe: &Path, upstream: &str) -> anyhow::Result<Proc> {
    let port = free_port();
    let child = Command::new(exe)
        .args(["--proxy-listen", &format!("127.0.0.1:{port}")])
        .args(["--proxy-upstream", upstream])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let p = Proc {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    // Through the proxy to the simulator's own page: ready when both are.
    wait_ready(&format!("{}/sim/stats", p.url), Duration::from_secs(10)).await?;
    Ok(p)
}

pub struct GatewaySetup {
    pub bin: PathBuf,
    pub data_dir: PathBuf,
    pub config: PathBuf,
    pub database_url: Option<String>,
    pub root_key: String,
}

/// Start a gateway; returns it and the time from spawn to `/healthz` 200 (the cold start).
pub async fn gateway(s: &GatewaySetup) -> anyhow::Result<(Proc, Duration)> {
    let port = free_port();
    let mut cmd = Command::new(&s.bin);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(&s.data_dir)
        .arg("--config")
        .arg(&s.config)
        .env("SWITCHYARD_ROOT_KEY", &s.root_key)
        .env("SWITCHYARD_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(db) = &s.database_url {
        cmd.arg("--database-url").arg(db);
    }
    let started = Instant::now();
    let child = cmd.spawn()?;
    let p = Proc {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    wait_ready(&format!("{}/healthz", p.url), Duration::from_secs(30)).await?;
    Ok((p, started.elapsed()))
}

/// Resident memory of a process, bytes.
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// CPU time a process has used so far, seconds (user + system).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}
