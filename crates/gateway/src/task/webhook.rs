//! Webhook delivery: every queued notification is POSTed to its `notify_hook`, signed with
//! the owner's webhook secret, and retried with backoff. Each attempt is recorded, so the
//! deliveries double as a log operators and users can read.
//!
//! Signature header: `X-Switchyard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
//! `"<t>.<body>"` with the user's secret (`whsec_…`, from `GET /api/me/webhook-secret`).

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use switchyard_store::{now_ms, Delivery, DeliveryOutcome};
use tokio::task::JoinHandle;

use crate::state::AppState;

/// Waits after attempts 1, 2, 3…: the last one ends it.
const BACKOFF_SECS: &[i64] = &[2, 10, 60, 300, 1800];

pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            match state.store.claim_deliveries(30_000, 16).await {
                Ok(due) => {
                    futures::future::join_all(due.into_iter().map(|d| deliver(&state, d))).await;
                }
                Err(e) => tracing::error!(error = %e, "claiming webhook deliveries failed"),
            }
        }
    })
}

pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

async fn deliver(state: &AppState, d: Delivery) {
    let outcome = match attempt(state, &d).await {
        Ok(status) if status.is_success() => DeliveryOutcome::Delivered {
            status: status.as_u16() as i64,
        },
        Ok(status) => retry_or_give_up(
            &d,
            Some(status.as_u16() as i64),
            format!("the receiver answered {status}"),
        ),
        Err(e) if e.contains("private or reserved") || e.contains("only http") => {
            DeliveryOutcome::GaveUp {
                status: None,
                error: e,
            }
        }
        Err(e) => retry_or_give_up(&d, None, e),
    };
    if let Err(e) = state.store.record_delivery(&d.id, &outcome).await {
        tracing::error!(error = %e, delivery = %d.id, "recording a webhook delivery failed");
    }
}

async fn attempt(state: &AppState, d: &Delivery) -> Result<reqwest::StatusCode, String> {
    let secret = state
        .store
        .webhook_secret(&d.user_id)
        .await
        .map_err(|e| e.to_string())?;
    let t = now_ms() / 1000;
    let headers = [
        ("x-switchyard-signature", signature(&secret, t, &d.body)),
        ("x-switchyard-event", d.event.clone()),
        ("x-switchyard-delivery", d.id.clone()),
        (
            "user-agent",
            concat!("switchyard-webhook/", env!("CARGO_PKG_VERSION")).to_string(),
        ),
    ];
    state
        .guard
        .post(&d.url, &headers, d.body.clone(), Duration::from_secs(10))
        .await
}

fn retry_or_give_up(d: &Delivery, status: Option<i64>, error: String) -> DeliveryOutcome {
    match BACKOFF_SECS.get(d.attempts as usize - 1) {
        Some(wait) => DeliveryOutcome::Retry {
            status,
            error,
            at: now_ms() + wait * 1000,
        },
        None => DeliveryOutcome::GaveUp { status, error },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_stable_and_keyed() {
        let a = super::signature("whsec_a", 1_700_000_000, "{}");
        assert!(a.starts_with("t=1700000000,v1="));
        assert_eq!(a, super::signature("whsec_a", 1_700_000_000, "{}"));
        assert_ne!(a, super::signature("whsec_b", 1_700_000_000, "{}"));
    }
}
