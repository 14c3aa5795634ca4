//! Budgets (per-process balance leases) against real databases: several processes on one
//! database never spend more than the balance, a crashed process's leases come back through
//! the stale-hold sweep, and idle budgets give their lease back on their own.

mod common;

use std::time::Duration;

use common::{backends, default_config, TestGateway};
use serde_json::json;
use switchyard_store::NewKey;

const USD: i64 = 1_000_000_000;
/// gpt-4-gizmo-* costs $0.01 a call.
const CALL: i64 = USD / 100;

/// Small leases (5 calls) and a short idle time, so budgets move often.
fn small_leases(extra: &'static str) -> impl FnOnce(&str) -> String {
    move |sim: &str| {
        default_config(sim).replace(
            "[gateway]\n",
            &format!("[gateway]\nlease_nano = {}\n{extra}", 5 * CALL),
        )
    }
}

async fn gizmo_calls(gw: &TestGateway, key: &str, n: usize) -> Vec<u16> {
    let reqs = (0..n).map(|_| {
        let (http, url, key) = (gw.http.clone(), gw.url.clone(), key.to_string());
        async move {
            http.post(format!("{url}/v1/chat/completions"))
                .bearer_auth(key)
                .json(&json!({"model": "gpt-4-gizmo-g-abc", "messages": [{"role": "user", "content": "hi"}]}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    futures::future::join_all(reqs).await
}

#[tokio::test]
async fn two_processes_on_one_database_never_exceed_the_balance() {
    for b in backends() {
        let a = TestGateway::start_with(b, small_leases("")).await;
        let second = a.second_process().await;
        // The balance covers exactly 30 calls; 160 are made through two processes.
        let (user, key) = a.user_with_key(30 * CALL, NewKey::default()).await;
        second.state.catalog.reload().await.unwrap();
        let (sa, sb) = tokio::join!(gizmo_calls(&a, &key, 80), gizmo_calls(&second, &key, 80));
        let ok = sa.iter().chain(&sb).filter(|s| **s == 200).count();
        let refused = sa.iter().chain(&sb).filter(|s| **s == 429).count();
        assert_eq!(ok + refused, 160, "{b}: {sa:?} {sb:?}");
        assert!(ok <= 30, "{b}: {ok} calls succeeded on a balance for 30");
        assert!(ok > 0, "{b}: nothing succeeded");
        a.settle_budgets().await;
        second.settle_budgets().await;
        let u = a.state.store.user(&user.id).await.unwrap().unwrap();
        assert_eq!(
            u.balance,
            30 * CALL - ok as i64 * CALL,
            "{b}: each success charged once"
        );
        assert_eq!(u.used, ok as i64 * CALL, "{b}");
        assert_eq!(u.request_count, ok as i64, "{b}");
        assert_eq!(a.state.store.held(&user.id).await.unwrap(), 0, "{b}");
        second.shutdown().await;
        a.shutdown().await;
    }
}

#[tokio::test]
async fn a_killed_gateway_leaves_nothing_held_after_the_stale_sweep() {
    for b in backends() {
        let gw = TestGateway::start_with(b, small_leases("")).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let statuses = gizmo_calls(&gw, &key, 12).await;
        assert!(statuses.iter().all(|s| *s == 200), "{b}: {statuses:?}");
        // Some spending is flushed, some may not be; the lease stays behind as a hold.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let gw = gw.restart().await;
        assert!(
            gw.state.store.held(&user.id).await.unwrap() > 0,
            "{b}: the lease survives the crash"
        );
        gw.state.store.release_stale_holds(-1).await.unwrap();
        assert_eq!(gw.state.store.held(&user.id).await.unwrap(), 0, "{b}");
        let u = gw.state.store.user(&user.id).await.unwrap().unwrap();
        // At most the last flush interval is lost, in the caller's favour: never charged twice.
        assert_eq!(
            u.balance + u.used,
            USD,
            "{b}: nothing lost, nothing made up"
        );
        assert!(u.used <= 12 * CALL, "{b}");
        assert_eq!(u.used, u.request_count * CALL, "{b}");
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn idle_budgets_give_their_lease_back() {
    for b in backends() {
        let gw = TestGateway::start_with(b, small_leases("budget_idle_secs = 0.2\n")).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        let statuses = gizmo_calls(&gw, &key, 3).await;
        assert!(statuses.iter().all(|s| *s == 200), "{b}: {statuses:?}");
        let mut back = false;
        for _ in 0..60 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if gw.state.budgets.is_empty() && gw.state.store.held(&user.id).await.unwrap() == 0 {
                back = true;
                break;
            }
        }
        assert!(back, "{b}: the idle budget kept its lease");
        // Read straight from the database, with no flush: the numbers are exact already.
        let u = gw.state.store.user(&user.id).await.unwrap().unwrap();
        assert_eq!(u.balance, USD - 3 * CALL, "{b}");
        assert_eq!((u.used, u.request_count), (3 * CALL, 3), "{b}");
        gw.shutdown().await;
    }
}

#[tokio::test]
async fn shutdown_returns_every_lease() {
    for b in backends() {
        let gw = TestGateway::start_with(b, small_leases("")).await;
        let (user, key) = gw.user_with_key(USD, NewKey::default()).await;
        assert!(gizmo_calls(&gw, &key, 4).await.iter().all(|s| *s == 200));
        let store = gw.state.store.clone();
        gw.shutdown().await;
        assert_eq!(store.held(&user.id).await.unwrap(), 0, "{b}");
        let u = store.user(&user.id).await.unwrap().unwrap();
        assert_eq!((u.balance, u.used), (USD - 4 * CALL, 4 * CALL), "{b}");
    }
}
