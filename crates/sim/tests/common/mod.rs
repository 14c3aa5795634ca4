//! Shared helpers for the sim's HTTP tests.
#![allow(dead_code)]

use std::net::SocketAddr;

use reqwest::{Client, RequestBuilder};
use serde_json::Value;
use switchyard_sim::Sim;

pub struct Server {
    pub addr: SocketAddr,
    pub sim: Sim,
    pub client: Client,
}

pub async fn start() -> Server {
    let (addr, sim) = switchyard_sim::spawn("127.0.0.1:0").await.unwrap();
    let client = Client::builder().no_proxy().build().unwrap();
    Server { addr, sim, client }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A POST with a valid key.
    pub fn post(&self, path: &str, body: &Value) -> RequestBuilder {
        self.client
            .post(self.url(path))
            .bearer_auth("sk-test")
            .json(body)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path)).bearer_auth("sk-test")
    }
}

/// Split an SSE body into its `data:` payloads.
pub fn events(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").expect("data event").to_owned())
        .collect()
}

/// The JSON chunks of an SSE body, asserting it ends with `[DONE]`.
pub fn chunks(body: &str) -> Vec<Value> {
    let mut events = events(body);
    assert_eq!(
        events.pop().as_deref(),
        Some("[DONE]"),
        "stream must end with [DONE]"
    );
    events
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect()
}
