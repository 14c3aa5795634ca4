//! `--demo`: the built-in simulator runs in-process and is wired up as channels with prices,
//! so a newcomer's first request works without any provider account.

use switchyard_store::{ChannelWrite, Price, Store};

use crate::config::PriceConfig;
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
    let have: Vec<Price> = store.prices().await?;
    for p in demo_prices() {
        if !have.iter().any(|h| h.model == p.model) {
            store.upsert_price(&p.to_price()?).await?;
        }
    }
    Ok(())
}
