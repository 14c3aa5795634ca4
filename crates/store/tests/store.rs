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
        let mut rows: Vec<UsageLog> = (0..30)
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
        s.insert_logs(&mut rows).await.unwrap();
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
        assert_eq!(rows.len(), 30, "the written rows come back");

        // A batch that cannot be written (a request id already logged) leaves nothing
        // behind, neither its other rows nor their hourly sums, and comes back whole.
        let mut bad = vec![
            UsageLog {
                id: "req_new".into(),
                ..rows[1].clone()
            },
            rows[0].clone(),
        ];
        assert!(s.insert_logs(&mut bad).await.is_err(), "{:?}", s.backend());
        assert_eq!(bad.len(), 2);
        let all = s.logs(&LogFilter::default()).await.unwrap();
        assert_eq!(all.total, 30, "{:?}", s.backend());
        let sum = s.usage_summary(&LogFilter::default()).await.unwrap();
        assert_eq!((sum.requests, sum.cost), (30, 210), "{:?}", s.backend());
        // Whole hours are read from the rollup.
        let by_model = s
            .usage_grouped(&LogFilter::default(), UsageGroup::Model, 10)
            .await
            .unwrap();
        let rolled: Vec<_> = by_model.iter().map(|b| (b.requests, b.cost)).collect();
        assert_eq!(rolled, [(30, 210)], "{:?}", s.backend());
    }
}

/// What `usage_grouped` must answer, computed here from the rows themselves.
fn expected(rows: &[UsageLog], f: &LogFilter, by: UsageGroup) -> Vec<(String, [i64; 6])> {
    let mut m: std::collections::BTreeMap<String, [i64; 6]> = Default::default();
    for r in rows.iter().filter(|r| {
        f.since.is_none_or(|s| r.ts >= s)
            && f.until.is_none_or(|u| r.ts < u)
            && f.user_id.as_ref().is_none_or(|u| &r.user_id == u)
            && f.model.as_ref().is_none_or(|x| &r.model == x)
            && f.status
                .as_deref()
                .is_none_or(|s| s == "error" && r.status != 200)
    }) {
        let key = match by {
            UsageGroup::Time(ms) => ((r.ts / ms) * ms).to_string(),
            UsageGroup::Model => r.model.clone(),
            UsageGroup::Channel => r.channel_id.clone().unwrap_or_default(),
            UsageGroup::User => r.user_id.clone(),
            UsageGroup::Key => r.key_id.clone(),
        };
        let e = m.entry(key).or_default();
        e[0] += 1;
        e[1] += i64::from(r.status != 200);
        e[2] += r.tokens_in;
        e[3] += r.tokens_out;
        e[4] += r.cost;
        e[5] += r.latency_ms;
    }
    m.into_iter()
        .map(|(k, mut v)| {
            v[5] /= v[0];
            (k, v)
        })
        .collect()
}

/// `usage_grouped`'s answer in `expected`'s shape, sorted by key.
async fn grouped(s: &Store, f: &LogFilter, by: UsageGroup) -> Vec<(String, [i64; 6])> {
    let mut got: Vec<(String, [i64; 6])> = s
        .usage_grouped(f, by, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|b| {
            let v = [
                b.requests,
                b.errors,
                b.tokens_in,
                b.tokens_out,
                b.cost,
                b.latency_ms,
            ];
            (b.key, v)
        })
        .collect();
    got.sort();
    got
}

/// The logs page's total and the usage summary, as [requests, tokens in, tokens out, cost].
async fn totals(s: &Store, f: &LogFilter) -> [i64; 4] {
    let page = s.logs(f).await.unwrap();
    let sum = s.usage_summary(f).await.unwrap();
    assert_eq!(page.total, sum.requests);
    [sum.requests, sum.tokens_in, sum.tokens_out, sum.cost]
}

/// The same, computed here from the rows themselves.
fn totals_of(rows: &[UsageLog], f: &LogFilter) -> [i64; 4] {
    expected(rows, f, UsageGroup::User)
        .iter()
        .fold([0; 4], |t, (_, v)| {
            [t[0] + v[0], t[1] + v[2], t[2] + v[3], t[3] + v[4]]
        })
}

#[tokio::test]
async fn grouped_usage_from_the_hourly_rollup_matches_the_log() {
    const HOUR: i64 = 3_600_000;
    let t0 = 1_764_000_000_000 - 1_764_000_000_000 % HOUR; // on an hour
                                                           // 3 days of rows, 7 minutes apart and written in uneven batches (as the log writer does),
                                                           // across users, models, channels (and none) and statuses.
    let rows: Vec<UsageLog> = (0..620)
        .map(|i: i64| UsageLog {
            id: format!("req_{i:04}"),
            ts: t0 + i * 7 * 60_000 + i % 5,
            user_id: format!("u{}", i % 3),
            key_id: format!("k{}", i % 4),
            endpoint: "/v1/chat/completions".into(),
            model: ["gpt-4o-mini", "gpt-4o", "claude"][(i % 7 % 3) as usize].into(),
            channel_id: (i % 5 != 0).then(|| format!("ch{}", i % 2)),
            tokens_in: 10 + i % 13,
            tokens_out: 3 + i % 29,
            cost: 1000 + i * 17,
            latency_ms: 100 + i % 400,
            status: if i % 11 == 0 { 502 } else { 200 },
            ..Default::default()
        })
        .collect();
    for s in stores().await {
        for chunk in rows.chunks(37) {
            s.insert_logs(&mut chunk.to_vec()).await.unwrap();
        }
        let ranges = [
            (None, None),
            (Some(t0 + 12 * 60_000), Some(t0 + 50 * HOUR + 31 * 60_000)), // ragged both ends
            (Some(t0 + HOUR), Some(t0 + 25 * HOUR)),                      // whole hours
            (Some(t0 + 5 * 60_000), Some(t0 + 40 * 60_000)),              // under an hour
            (Some(t0 + 50 * 60_000), Some(t0 + 30 * HOUR + 10 * 60_000)), // short ragged ends
            (None, Some(t0 + 30 * HOUR + 1)),
            (Some(t0 + 30 * HOUR - 1), None),
        ];
        for (since, until) in ranges {
            for user_id in [None, Some("u1".to_string())] {
                for status in [None, Some("error".to_string())] {
                    let f = LogFilter {
                        since,
                        until,
                        user_id: user_id.clone(),
                        status: status.clone(),
                        ..Default::default()
                    };
                    for by in [
                        UsageGroup::Time(HOUR),
                        UsageGroup::Time(6 * HOUR),
                        UsageGroup::Time(30 * 60_000),
                        UsageGroup::Model,
                        UsageGroup::Channel,
                        UsageGroup::User,
                        UsageGroup::Key,
                    ] {
                        let got = grouped(&s, &f, by).await;
                        assert_eq!(got, expected(&rows, &f, by), "{f:?} by {by:?}");
                    }
                    assert_eq!(totals(&s, &f).await, totals_of(&rows, &f), "{f:?}");
                }
            }
        }
        // A range that ends a moment ago, as a dashboard's does, with rows in its last hour.
        let now = now_ms();
        let mut recent: Vec<UsageLog> = (0..40)
            .map(|i: i64| UsageLog {
                id: format!("req_now_{i}"),
                ts: now - i * 4 * 60_000,
                user_id: "u1".into(),
                key_id: "k1".into(),
                model: "gpt-4o".into(),
                cost: 5 + i,
                latency_ms: 7,
                status: 200,
                ..Default::default()
            })
            .collect();
        s.insert_logs(&mut recent).await.unwrap();
        let f = LogFilter {
            since: Some(now - 2 * HOUR - 5 * 60_000),
            until: Some(now - 60_000),
            ..Default::default()
        };
        let all: Vec<UsageLog> = rows.iter().chain(&recent).cloned().collect();
        for by in [UsageGroup::Time(HOUR), UsageGroup::Model] {
            let got = grouped(&s, &f, by).await;
            assert_eq!(got, expected(&all, &f, by), "until now, by {by:?}");
        }
        assert_eq!(totals(&s, &f).await, totals_of(&all, &f), "until now");

        // Largest spend first, cut at `top`.
        let top = s
            .usage_grouped(&LogFilter::default(), UsageGroup::Key, 2)
            .await
            .unwrap();
        assert_eq!(top.len(), 2);
        assert!(top[0].cost >= top[1].cost);
    }
}

/// Each pooled connection to an in-memory SQLite database would see a database of its own
/// (and the usage log's writer another): refused with a reason, not half working.
#[tokio::test]
async fn an_in_memory_sqlite_database_is_refused() {
    let err = Store::connect("sqlite::memory:")
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("name a file"), "{err}");
}

/// A new SQLite file gets 16 KiB pages; a file made before keeps its own size and opens as
/// it did.
#[tokio::test]
async fn new_sqlite_files_get_16_kib_pages_and_old_ones_keep_theirs() {
    use sqlx::{Connection, Executor};
    async fn page_size(url: &str) -> i64 {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as("PRAGMA page_size")
            .fetch_one(&mut c)
            .await
            .unwrap();
        n
    }
    let new = fresh_database("sqlite").await;
    Store::connect(&new).await.unwrap();
    assert_eq!(page_size(&new).await, 16384);

    let old = fresh_database("sqlite").await;
    let mut c = sqlx::SqliteConnection::connect(&format!("{old}?mode=rwc"))
        .await
        .unwrap();
    c.execute("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE t (x)")
        .await
        .unwrap();
    c.close().await.unwrap();
    let store = Store::connect(&old).await.unwrap();
    store.ping().await.unwrap();
    assert_eq!(page_size(&old).await, 4096);
}

/// Batches longer than one statement's rows (the SQLite writer puts 64 in each) are written
/// field for field, and a batch with a bad row anywhere, in a full statement or in the
/// remainder, writes nothing and comes back whole.
#[tokio::test]
async fn long_batches_are_written_whole_or_not_at_all() {
    let row = |i: i64| UsageLog {
        id: format!("req_long_{i:04}"),
        ts: 5_000 + i,
        user_id: format!("u{}", i % 3),
        key_id: format!("k{}", i % 4),
        endpoint: ["/v1/chat/completions", "/v1/embeddings"][(i % 2) as usize].into(),
        // Multi-byte text and empty text (not NULL) come back as they went in.
        model: format!("m{}{}", i % 5, if i % 5 == 4 { "-模型" } else { "" }),
        channel_id: (i % 6 != 0).then(|| format!("ch{}", i % 2)),
        stream: i % 2,
        tokens_in: i,
        tokens_out: 2 * i,
        tokens_cached: i / 3,
        cost: 1_000 + i,
        latency_ms: 10 + i,
        ttft_ms: (i % 4 == 0).then_some(i),
        status: if i % 9 == 0 { 429 } else { 200 },
        error: match i % 9 {
            0 => Some(format!("limited {i}")),
            4 => Some(String::new()),
            _ => None,
        },
    };
    let fields = |r: &UsageLog| serde_json::to_value(r).unwrap();
    for s in stores().await {
        let mut rows: Vec<UsageLog> = (0..150).map(row).collect();
        s.insert_logs(&mut rows).await.unwrap();
        let mut back = s
            .logs(&LogFilter {
                limit: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap()
            .data;
        back.sort_by(|a, b| a.id.cmp(&b.id));
        let (want, got): (Vec<_>, Vec<_>) = (
            rows.iter().map(fields).collect(),
            back.iter().map(fields).collect(),
        );
        assert_eq!(got, want, "{:?}", s.backend());

        for at in [100, 140] {
            let mut bad: Vec<UsageLog> = (1000..1150).map(row).collect();
            bad[at] = rows[7].clone();
            assert!(s.insert_logs(&mut bad).await.is_err(), "{:?}", s.backend());
            assert_eq!(bad.len(), 150);
            let all = s.logs(&LogFilter::default()).await.unwrap();
            assert_eq!(all.total, 150, "duplicate at {at}, {:?}", s.backend());
        }
        // A refused batch leaves no transaction open behind it: the next one is written.
        let mut next: Vec<UsageLog> = (2000..2070).map(row).collect();
        s.insert_logs(&mut next).await.unwrap();
        let all = s.logs(&LogFilter::default()).await.unwrap();
        assert_eq!(all.total, 220, "{:?}", s.backend());
    }
}
