//! `--demo`: the built-in simulator runs in-process and is wired up as channels with prices,
//! so a newcomer's first request works without any provider account.

use switchyard_store::{ChannelWrite, Price, Store};

use crate::config::{FileConfig, PriceConfig};
use crate::secret::MasterKey;

/// Models the demo channel serves.
pub const DEMO_MODELS: &[&str] = &[
    "gpt-4o-mini",
    "gpt-4o",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "omni-moderation-latest",
    "dall-e-2",
    "dall-e-3",
    "tts-1",
    "whisper-1",
];

/// Prices (USD) in line with the real providers', set only where the operator has none.
fn demo_prices() -> Vec<PriceConfig> {
    let p = |model: &str, i: f64, o: f64, call: f64, free: bool| PriceConfig {
        model: model.into(),
        input_per_mtok: i,
        output_per_mtok: o,
        cached_input_per_mtok: None,
        per_call: call,
        per_second: 0.0,
        free,
    };
    vec![
        PriceConfig {
            cached_input_per_mtok: Some(0.075),
            ..p("gpt-4o-mini", 0.15, 0.60, 0.0, false)
        },
        PriceConfig {
            cached_input_per_mtok: Some(1.25),
            ..p("gpt-4o", 2.50, 10.0, 0.0, false)
        },
        p("text-embedding-3-small", 0.02, 0.0, 0.0, false),
        p("text-embedding-3-large", 0.13, 0.0, 0.0, false),
        p("omni-moderation-latest", 0.0, 0.0, 0.0, true),
        p("dall-e-2", 0.0, 0.0, 0.02, false),
        p("dall-e-3", 0.0, 0.0, 0.04, false),
        p("tts-1", 15.0, 0.0, 0.0, false),
        p("whisper-1", 0.0, 0.0, 0.006, false),
    ]
}

/// The chat channels of the other wire formats the demo (and the tests) run against the
/// simulator, with their prices, as TOML: Claude on an `anthropic` channel, Gemini on a
/// `gemini` one (the simulator serves Gemini under `/gemini`).
pub fn provider_channels_toml(sim_url: &str) -> String {
    format!(
        r#"[[channels]]
name = "demo-anthropic"
kind = "anthropic"
base_url = "{sim_url}"
keys = ["sk-ant-sim"]
models = ["claude-sonnet-4-5"]
test_model = "claude-sonnet-4-5"

[[channels]]
name = "demo-gemini"
kind = "gemini"
base_url = "{sim_url}/gemini"
keys = ["sim-gemini-key"]
models = ["gemini-2.5-flash"]
test_model = "gemini-2.5-flash"

[[prices]]
model = "claude-sonnet-4-5"
input_per_mtok = 3.0
output_per_mtok = 15.0
cached_input_per_mtok = 0.30

[[prices]]
model = "gemini-2.5-flash"
input_per_mtok = 0.30
output_per_mtok = 2.50
cached_input_per_mtok = 0.03

"#
    )
}

/// The video channels the demo (and the tests) run against the simulator, one per provider
/// wire format, with their prices, as TOML.
pub fn video_channels_toml(sim_url: &str) -> String {
    let channel = |name: &str, kind: &str, key: &str, model: &str, upstream: &str| {
        format!(
            "[[channels]]\nname = \"{name}\"\nkind = \"{kind}\"\nbase_url = \"{sim_url}\"\nkeys = [\"{key}\"]\n\
             models = [\"{model}\"]\nmodel_map = {{ \"{model}\" = \"{upstream}\" }}\n\n"
        )
    };
    let price = |model: &str, field: &str, usd: &str| {
        format!("[[prices]]\nmodel = \"{model}\"\n{field} = {usd}\n\n")
    };
    [
        channel(
            "demo-runway",
            "runway",
            "sk-sim-runway",
            "runway-video",
            "gen4_turbo",
        ),
        channel("demo-luma", "luma", "sk-sim-luma", "luma-video", "ray-2"),
        channel(
            "demo-luma-relay",
            "luma-legacy",
            "sk-sim-luma",
            "luma-relay-video",
            "ray-v2",
        ),
        channel(
            "demo-kling",
            "kling",
            "sim-ak|sim-kling-secret",
            "kling-video",
            "kling-v2-master",
        ),
        channel(
            "demo-sora",
            "openai-video",
            "sk-sim-sora",
            "sora-2",
            "sora-2",
        ),
        channel(
            "demo-veo",
            "veo",
            "sim-google-key",
            "veo-3",
            "veo-3.0-generate-001",
        ),
        price("runway-video", "per_second", "0.05"),
        price("luma-video", "per_call", "0.40"),
        price("luma-relay-video", "per_call", "0.30"),
        price("kling-video", "per_call", "0.28"),
        price("sora-2", "per_second", "0.10"),
        price("veo-3", "per_second", "0.40"),
    ]
    .concat()
}

pub async fn install(store: &Store, master: &MasterKey) -> anyhow::Result<()> {
    let (addr, _sim) = switchyard_sim::spawn("127.0.0.1:0").await?;
    tracing::info!(%addr, "demo providers (simulator) listening");
    let write = ChannelWrite {
        name: "demo-openai".into(),
        kind: "openai".into(),
        base_url: format!("http://{addr}"),
        keys_enc: vec![master.encrypt("sk-sim-demo")],
        models: DEMO_MODELS.iter().map(|m| m.to_string()).collect(),
        groups: vec!["default".into()],
        weight: 1,
        enabled: true,
        test_model: Some("gpt-4o-mini".into()),
        ..Default::default()
    };
    // The simulator's port changes every start: update the channel in place.
    match store.channel_by_name(&write.name).await? {
        Some(c) => store.update_channel(&c.id, &write).await?,
        None => store.create_channel(&write).await?,
    };
    // Anthropic, Gemini and video channels are updated like the OpenAI one; their prices,
    // like all demo prices, are only set where the operator has none.
    let sim = format!("http://{addr}");
    let toml = provider_channels_toml(&sim) + &video_channels_toml(&sim);
    let mut others: FileConfig = toml::from_str(&toml)?;
    let other_prices = std::mem::take(&mut others.prices);
    others.apply(store, master).await?;
    let have: Vec<Price> = store.prices().await?;
    for p in demo_prices().into_iter().chain(other_prices) {
        if !have.iter().any(|h| h.model == p.model) {
            store.upsert_price(&p.to_price()?).await?;
        }
    }
    Ok(())
}
