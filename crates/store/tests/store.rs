//! The store on both databases: accounts, keys, channels, prices, holds, the ledger and logs.

use std::sync::Arc;

use switchyard_store::testing::{backends, fresh_database};
use switchyard_store::*;

async fn stores() -> Vec<Store> {
    let mut out = Vec::new();
    for b in backends() {
        let url = fresh_database(b).await;
        out.push(Store::connect(&url).await.expect("connect + migrate"));
    }
    out
}

async fn user_with(store: &Store, balance: i64) -> User {
    store
        .create_user(&NewUser {
            name: new_id("u"),
            balance_nano: balance,
            ..Default::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn users_keys_and_ledger() {
    for s in stores().await {
        let u = user_with(&s, 1_000).await;
        assert_eq!(u.balance, 1_000);
        assert_eq!(u.role, "user");
        let dup = s
            .create_user(&NewUser {
                name: u.name.clone(),
                ..Default::default()
            })
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");

        let u = s
            .adjust_balance(&u.id, 500, "top-up", Some("admin"))
            .await
            .unwrap();
        assert_eq!(u.balance, 1_500);
        let too_much = s.adjust_balance(&u.id, -2_000, "oops", None).await;
        assert!(matches!(too_much, Err(StoreError::Invalid(_))));
        let ledger = s.ledger(&u.id, 10).await.unwrap();
        assert_eq!(ledger.len(), 2);
        assert_eq!(ledger.iter().map(|l| l.amount).sum::<i64>(), 1_500);

        let (key, secret) = s
            .create_key(
                &u.id,
                &NewKey {
                    quota_nano: Some(300),
                    models: vec!["gpt-4o-mini".into()],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(secret.starts_with("sk-") && secret.len() == 51);
        assert_ne!(key.key_hash, secret, "the secret is not stored");
        let found = s.key_by_secret(&secret).await.unwrap().unwrap();
        assert_eq!(found.id, key.id);
        assert_eq!(found.model_list(), vec!["gpt-4o-mini".to_string()]);
        let k = s
            .update_key(
                &key.id,
                &serde_json::from_str(r#"{"quota_nano": null, "enabled": false}"#).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!((k.quota_limited, k.enabled), (0, 0));
        let again = s
            .ensure_key(
                &u.id,
                "sk-fixed-root-key-for-tests-000000000000000000000000",
            )
            .await
            .unwrap();
        let same = s
            .ensure_key(
                &u.id,
                "sk-fixed-root-key-for-tests-000000000000000000000000",
            )
            .await
            .unwrap();
        assert_eq!(again.id, same.id);
    }
}

#[tokio::test]
async fn channels_and_prices() {
    for s in stores().await {
        let mut w = ChannelWrite {
            name: "main".into(),
            kind: "openai".into(),
            base_url: "http://127.0.0.1:9/".into(),
            keys_enc: vec!["enc1".into()],
            models: vec!["gpt-4o-mini".into(), "gpt-4*".into()],
            groups: vec!["default".into()],
            weight: 3,
            enabled: true,
            ..Default::default()
        };
        let c = s.create_channel(&w).await.unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:9");
        assert_eq!(c.model_list().len(), 2);
        s.set_channel_status(&c.id, "auto_disabled", Some("401 invalid key"))
            .await
            .unwrap();
        assert_eq!(
            s.channel(&c.id)
                .await
                .unwrap()
                .unwrap()
                .status_reason
                .as_deref(),
            Some("401 invalid key")
        );
        w.priority = 5;
        let c2 = s.update_channel(&c.id, &w).await.unwrap();
        assert_eq!(
            (c2.priority, c2.status.as_str(), c2.status_reason),
            (5, "enabled", None)
        );
        assert!(matches!(
            s.create_channel(&w).await,
            Err(StoreError::Conflict(_))
        ));
        w.base_url = "ftp://x".into();
        assert!(matches!(
            s.update_channel(&c.id, &w).await,
            Err(StoreError::Invalid(_))
        ));

        let p = Price {
            model: "gpt-4o-mini".into(),
            input_per_mtok: 150_000_000,
            output_per_mtok: 600_000_000,
            ..Default::default()
        };
        s.upsert_price(&p).await.unwrap();
        let p2 = Price {
            per_call: 7,
            ..p.clone()
        };
        s.upsert_price(&p2).await.unwrap();
        let all = s.prices().await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].per_call, 7);
        s.delete_price("gpt-4o-mini").await.unwrap();
        assert!(s.prices().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn hold_settle_release_exactly_once() {
    for s in stores().await {
        let u = user_with(&s, 1_000).await;
        let (k, _) = s
            .create_key(
                &u.id,
                &NewKey {
                    quota_nano: Some(600),
                    ..Default::default()
                },
            )
            .await
            .unwrap();

        let h = s.hold(&u.id, &k.id, true, 400).await.unwrap().unwrap();
        assert_eq!(s.user(&u.id).await.unwrap().unwrap().balance, 600);
        assert_eq!(s.held(&u.id).await.unwrap(), 400);
        // The key's quota (200 left) refuses what the balance (600) would allow.
        assert_eq!(
            s.hold(&u.id, &k.id, true, 300).await.unwrap(),
            Err(HoldRefusal::KeyQuota)
        );
        assert_eq!(
            s.user(&u.id).await.unwrap().unwrap().balance,
            600,
            "refused hold rolled back"
        );

        assert_eq!(s.settle(&h, 150).await.unwrap(), 150);
        assert_eq!(
            s.settle(&h, 150).await.unwrap(),
            0,
            "second settle is a no-op"
        );
        let u2 = s.user(&u.id).await.unwrap().unwrap();
        assert_eq!((u2.balance, u2.used, u2.request_count), (850, 150, 1));
        let k2 = s.key(&k.id).await.unwrap().unwrap();
        assert_eq!((k2.quota_remaining, k2.used), (450, 150));

        let h = s.hold(&u.id, &k.id, true, 100).await.unwrap().unwrap();
        s.release(&h).await.unwrap();
        s.release(&h).await.unwrap();
        assert_eq!(s.user(&u.id).await.unwrap().unwrap().balance, 850);
        assert_eq!(s.key(&k.id).await.unwrap().unwrap().quota_remaining, 450);

        // An actual cost above the hold takes the extra only as far as the balance goes.
        let h = s.hold(&u.id, &k.id, false, 800).await.unwrap().unwrap();
        assert_eq!(s.settle(&h, 5_000).await.unwrap(), 850);
        assert_eq!(s.user(&u.id).await.unwrap().unwrap().balance, 0);
        assert_eq!(
            s.hold(&u.id, &k.id, false, 1).await.unwrap(),
            Err(HoldRefusal::Balance)
        );

        // A hold left by a dead process is released at the next start.
        s.adjust_balance(&u.id, 100, "refill", None).await.unwrap();
        let _lost = s.hold(&u.id, &k.id, false, 60).await.unwrap().unwrap();
        assert_eq!(s.release_stale_holds(-1).await.unwrap(), 1);
        assert_eq!(s.user(&u.id).await.unwrap().unwrap().balance, 100);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_holds_never_overdraw() {
    for s in stores().await {
        let u = user_with(&s, 50 * 1_000).await;
        let (k, _) = s.create_key(&u.id, &NewKey::default()).await.unwrap();
        let s = Arc::new(s);
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let (s, uid, kid) = (s.clone(), u.id.clone(), k.id.clone());
                tokio::spawn(async move { s.hold(&uid, &kid, false, 1_000).await.unwrap() })
            })
            .collect();
        let mut granted = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() {
                granted += 1;
            }
        }
        assert_eq!(granted, 50, "{:?}", s.backend());
        assert_eq!(s.user(&u.id).await.unwrap().unwrap().balance, 0);
    }
}

#[tokio::test]
async fn usage_logs_filter_and_page() {
    for s in stores().await {
        let rows: Vec<UsageLog> = (0..30)
            .map(|i| UsageLog {
                id: format!("req_{i:03}"),
                ts: 1_000 + i,
                user_id: if i % 3 == 0 { "u1".into() } else { "u2".into() },
                key_id: "k".into(),
                endpoint: "/v1/chat/completions".into(),
                model: "gpt-4o-mini".into(),
                tokens_in: 10,
                tokens_out: 5,
                cost: 7,
                status: if i == 29 { 502 } else { 200 },
                ..Default::default()
            })
            .collect();
        s.insert_logs(&rows).await.unwrap();
        let page = s
            .logs(&LogFilter {
                user_id: Some("u1".into()),
                limit: Some(4),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!((page.total, page.data.len()), (10, 4));
        assert_eq!(page.data[0].id, "req_027", "newest first");
        let errs = s
            .logs(&LogFilter {
                status: Some("error".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(errs.total, 1);
        let window = s
            .logs(&LogFilter {
                since: Some(1_010),
                until: Some(1_020),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(window.total, 10);
        let sum = s.usage_summary(&LogFilter::default()).await.unwrap();
        assert_eq!((sum.requests, sum.tokens_in, sum.cost), (30, 300, 210));
    }
}
