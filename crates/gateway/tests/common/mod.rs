//! A real gateway for tests: bound to 127.0.0.1:0, on a fresh SQLite or PostgreSQL database,
//! in front of its own simulator, driven over HTTP like any client would.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{json, Value};
use switchyard_gateway::state::AppState;
use switchyard_gateway::{Gateway, Options};
use switchyard_sim::Sim;
use switchyard_store::testing::fresh_database;
use switchyard_store::{NewKey, NewUser, User};
use tokio::sync::oneshot;

pub use switchyard_store::testing::backends;

/// A webhook receiver on 127.0.0.1: its URL, and the (headers, body) of every POST to it.
pub async fn webhook_receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(axum::http::HeaderMap, String)>,
) {
    use axum::extract::State;
    use axum::http::HeaderMap;
    use tokio::sync::mpsc;
    let (tx, rx) = mpsc::unbounded_channel();
    async fn hook(
        State(tx): State<mpsc::UnboundedSender<(HeaderMap, String)>>,
        headers: HeaderMap,
        body: String,
    ) -> &'static str {
        let _ = tx.send((headers, body));
        "ok"
    }
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), rx)
}

pub const ROOT_KEY: &str = "sk-root0000000000000000000000000000000000000000000000";

pub struct TestGateway {
    pub url: String,
    pub state: AppState,
    pub sim: Sim,
    pub sim_url: String,
    pub http: reqwest::Client,
    pub data_dir: PathBuf,
    pub database_url: String,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

/// The default config: one channel on the simulator serving the usual models, with prices.
pub fn default_config(sim_url: &str) -> String {
    format!(
        r#"
[gateway]
retries = 2
first_byte_timeout_secs = 1.0

[gateway.tasks]
poll_interval_secs = 0.1
allow_private_networks = ["127.0.0.1/32"]

[[channels]]
name = "sim-main"
base_url = "{sim_url}"
keys = ["sk-sim-ok"]
models = ["gpt-4o-mini", "text-embedding-3-small", "omni-moderation-latest", "dall-e-3", "tts-1", "whisper-1", "gpt-4-gizmo-*"]

{providers}{videos}
[[prices]]
model = "gpt-4o-mini"
input_per_mtok = 0.15
output_per_mtok = 0.60

[[prices]]
model = "text-embedding-3-small"
input_per_mtok = 0.02

[[prices]]
model = "omni-moderation-latest"
free = true

[[prices]]
model = "dall-e-3"
per_call = 0.04

[[prices]]
model = "tts-1"
input_per_mtok = 15.0

[[prices]]
model = "whisper-1"
per_call = 0.006

[[prices]]
model = "gpt-4-gizmo-*"
per_call = 0.01
"#,
        providers = switchyard_gateway::demo::provider_channels_toml(sim_url),
        videos = switchyard_gateway::demo::video_channels_toml(sim_url)
    )
}

impl TestGateway {
    /// A gateway with the default config on `backend`.
    pub async fn start(backend: &str) -> TestGateway {
        Self::start_with(backend, default_config).await
    }

    /// A gateway whose TOML config is built from the simulator's URL.
    pub async fn start_with(backend: &str, config: impl FnOnce(&str) -> String) -> TestGateway {
        let (sim_addr, sim) = switchyard_sim::spawn("127.0.0.1:0")
            .await
            .expect("simulator");
        let sim_url = format!("http://{sim_addr}");
        let data_dir = std::env::temp_dir()
            .join("switchyard-tests")
            .join(switchyard_store::new_id("gw"));
        std::fs::create_dir_all(&data_dir).unwrap();
        std::fs::write(data_dir.join("switchyard.toml"), config(&sim_url)).unwrap();
        Self::boot(sim, sim_url, data_dir, fresh_database(backend).await).await
    }

    /// A second gateway process on the same database, data dir and simulator (as when an
    /// operator runs several behind a load balancer).
    pub async fn second_process(&self) -> TestGateway {
        Self::boot(
            self.sim.clone(),
            self.sim_url.clone(),
            self.data_dir.clone(),
            self.database_url.clone(),
        )
        .await
    }

    /// A gateway whose simulated video tasks finish in half a second.
    pub async fn start_fast(backend: &str) -> TestGateway {
        let gw = Self::start(backend).await;
        gw.sim.set_task_timing(100, 400);
        gw
    }

    /// Fetch `url` and check it is a real MP4 (an `ftyp` box at byte 4).
    pub async fn assert_mp4(&self, url: &str) {
        let r = self.http.get(url).send().await.expect("fetching the video");
        assert_eq!(r.status(), 200, "{url}");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.len() > 8, "{url} is too short");
        assert_eq!(&bytes[4..8], b"ftyp", "{url} is not an MP4");
    }

    /// Kill this gateway as a crash would (tasks in flight, nothing drained), then start a new
    /// process on the same database, data dir and simulator.
    pub async fn restart(mut self) -> TestGateway {
        if let Some(d) = self.done.take() {
            d.abort();
            let _ = d.await;
        }
        let (sim, sim_url, data_dir) = (
            self.sim.clone(),
            self.sim_url.clone(),
            self.data_dir.clone(),
        );
        Self::boot(sim, sim_url, data_dir, self.database_url.clone()).await
    }

    async fn boot(
        sim: Sim,
        sim_url: String,
        data_dir: PathBuf,
        database_url: String,
    ) -> TestGateway {
        let opts = Options {
            listen: "127.0.0.1:0".into(),
            data_dir: data_dir.clone(),
            database_url: Some(database_url.clone()),
            config: Some(data_dir.join("switchyard.toml")),
            demo: false,
            root_key: Some(ROOT_KEY.into()),
            master_key: Some("test-master-key".into()),
        };
        let gw = Gateway::build(opts).await.expect("gateway builds");
        let url = format!("http://{}", gw.addr);
        let state = gw.state.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(async move {
            gw.run(async {
                let _ = stopped.await;
            })
            .await
            .expect("gateway runs");
        });
        TestGateway {
            url,
            state,
            sim,
            sim_url,
            http: reqwest::Client::new(),
            data_dir,
            database_url,
            stop: Some(stop),
            done: Some(done),
        }
    }

    /// Stop serving and wait for the usage log to be flushed.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            let _ = d.await;
        }
    }

    /// A user with `balance_nano`, and a key for them (optionally with a quota).
    pub async fn user_with_key(&self, balance_nano: i64, key: NewKey) -> (User, String) {
        let store = &self.state.store;
        let user = store
            .create_user(&NewUser {
                name: switchyard_store::new_id("user"),
                balance_nano,
                ..Default::default()
            })
            .await
            .unwrap();
        let (_, secret) = store.create_key(&user.id, &key).await.unwrap();
        self.state.catalog.reload().await.unwrap();
        (user, secret)
    }

    /// Write this process's budgets to the database and give every lease back, so balances,
    /// quotas, `used` and holds read there are exact.
    pub async fn settle_budgets(&self) {
        self.state.budgets.return_all().await.unwrap();
    }

    pub async fn balance(&self, user_id: &str) -> i64 {
        self.settle_budgets().await;
        self.state
            .store
            .user(user_id)
            .await
            .unwrap()
            .unwrap()
            .balance
    }

    pub fn post(&self, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(key)
    }

    pub fn get(&self, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(key)
    }

    /// POST JSON and return (status, body as JSON).
    pub async fn post_json(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        let r = self
            .post(path, key)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn chat(&self, key: &str, model: &str) -> (u16, Value) {
        self.post_json(
            "/v1/chat/completions",
            key,
            json!({"model": model, "messages": [{"role": "user", "content": "hello there"}]}),
        )
        .await
    }

    /// Wait until the usage log holds `n` rows for this user (the log is written in batches).
    pub async fn wait_logs(&self, user_id: &str, n: i64) -> Vec<switchyard_store::UsageLog> {
        let filter = switchyard_store::LogFilter {
            user_id: Some(user_id.into()),
            limit: Some(1000),
            ..Default::default()
        };
        for _ in 0..100 {
            let page = self.state.store.logs(&filter).await.unwrap();
            if page.data.len() as i64 >= n {
                return page.data;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("usage log never reached {n} rows for {user_id}");
    }
}
