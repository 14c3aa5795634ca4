//! Budgets: per-process balance leases, so a relayed request touches no database on its path.
//!
//! A process moves money from a user's balance (and the key's quota, when the key is limited)
//! into an in-memory budget per (user, key) in chunks, one transaction per chunk. The chunk
//! is recorded as a row of the `holds` table (the lease) that this process keeps, so the sum
//! of all leases, across any number of processes, never exceeds what the database held:
//! nothing can overdraw. A request holds its worst case from the budget and settles into it;
//! the spending is written to the database in batches by a background flusher (one
//! transaction for all budgets), and idle budgets give their unspent lease back.
//!
//! A crash loses at most the charges of the last flush interval (in the caller's favour);
//! the dead process's leases stay as hold rows until the stale-hold sweep releases them.

use hashbrown::{Equivalent, HashMap};
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::{Duration, Instant};

use switchyard_store::{new_id, HoldRefusal, Store};
use tokio::sync::Mutex;

type BudgetKey = (String, String, bool);

/// A `BudgetKey` as a request has it, borrowed: it hashes as the owned key does (field by
/// field, a `&str` as a `String`), so the map finds a budget without allocating the two
/// strings of a key first (as the channels' health finds a channel by its borrowed id).
#[derive(Hash)]
struct KeyRef<'a>(&'a str, &'a str, bool);

impl Equivalent<BudgetKey> for KeyRef<'_> {
    fn equivalent(&self, key: &BudgetKey) -> bool {
        self.0 == key.0 && self.1 == key.1 && self.2 == key.2
    }
}

/// The owned key, made only when a budget is new (`entry_ref`).
impl From<&KeyRef<'_>> for BudgetKey {
    fn from(k: &KeyRef<'_>) -> BudgetKey {
        (k.0.to_string(), k.1.to_string(), k.2)
    }
}

pub struct Budgets {
    store: Store,
    lease_nano: i64,
    idle: Duration,
    map: SyncMutex<HashMap<BudgetKey, Arc<Budget>>>,
    /// Serialises writers of spending and give-backs (not holds).
    writing: Mutex<()>,
}

struct Budget {
    user_id: String,
    key_id: String,
    key_limited: bool,
    s: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The lease's hold row. Its amount is `avail + reserved + spent`.
    lease: Option<String>,
    /// Leased and not reserved by any request.
    avail: i64,
    /// Reserved by requests in flight.
    reserved: i64,
    /// Charged and not yet written to the database.
    spent: i64,
    /// Requests settled and not yet counted in the database.
    count: i64,
    last_used: Option<Instant>,
    /// Dropped from the map: a holder that still has it must look again.
    closed: bool,
}

/// What one request holds from a budget.
pub struct Ticket {
    budget: Arc<Budget>,
    amount: i64,
    done: bool,
}

impl Ticket {
    pub fn amount(&self) -> i64 {
        self.amount
    }
}

impl Budgets {
    pub fn new(store: Store, lease_nano: i64, idle: Duration) -> Budgets {
        Budgets {
            store,
            lease_nano: lease_nano.max(1),
            idle,
            map: SyncMutex::new(HashMap::default()),
            writing: Mutex::new(()),
        }
    }

    fn budget(&self, user_id: &str, key_id: &str, key_limited: bool) -> Arc<Budget> {
        let mut map = self.map.lock().unwrap();
        map.entry_ref(&KeyRef(user_id, key_id, key_limited))
            .or_insert_with(|| {
                Arc::new(Budget {
                    user_id: user_id.into(),
                    key_id: key_id.into(),
                    key_limited,
                    s: Mutex::new(Inner::default()),
                })
            })
            .clone()
    }

    /// Reserve `need` nano-dollars for one request, leasing more from the database when the
    /// budget is short; refused as `Store::hold` would be when the database cannot cover it.
    pub async fn hold(
        &self,
        user_id: &str,
        key_id: &str,
        key_limited: bool,
        need: i64,
    ) -> switchyard_store::Result<Result<Ticket, HoldRefusal>> {
        let need = need.max(0);
        loop {
            let b = self.budget(user_id, key_id, key_limited);
            let mut s = b.s.lock().await;
            if s.closed {
                continue;
            }
            if s.avail < need {
                let short = need - s.avail;
                // Boxed: the lease's database futures are large, and a hold that needs
                // none (nearly all) should not carry them.
                if let Err(why) = Box::pin(self.extend(&b, &mut s, short)).await? {
                    return Ok(Err(why));
                }
            }
            s.avail -= need;
            s.reserved += need;
            s.last_used = Some(Instant::now());
            drop(s);
            return Ok(Ok(Ticket {
                budget: b,
                amount: need,
                done: false,
            }));
        }
    }

    /// Lease at least `short` more (up to `lease_nano`, never beyond the balance or quota).
    async fn extend(
        &self,
        b: &Budget,
        s: &mut Inner,
        short: i64,
    ) -> switchyard_store::Result<Result<(), HoldRefusal>> {
        let (balance, quota) = self
            .store
            .lease_room(&b.user_id, &b.key_id, b.key_limited)
            .await?;
        let room = quota.map_or(balance, |q| q.min(balance));
        let want = short.max(room.min(self.lease_nano));
        let mut take = want;
        loop {
            let lease = s.lease.clone().unwrap_or_else(|| new_id("lease"));
            match self
                .store
                .lease(
                    &lease,
                    s.lease.is_none(),
                    &b.user_id,
                    &b.key_id,
                    b.key_limited,
                    take,
                )
                .await?
            {
                Ok(()) => {
                    s.lease = Some(lease);
                    s.avail += take;
                    return Ok(Ok(()));
                }
                // Someone else took part of the room meanwhile: try for only what is needed.
                Err(_) if take > short => take = short,
                Err(why) => return Ok(Err(why)),
            }
        }
    }

    /// Charge `actual` for a ticket: the rest goes back to the budget; more than held is taken
    /// from the budget as far as it goes. Returns what was charged.
    pub async fn settle(&self, mut t: Ticket, actual: i64) -> i64 {
        t.done = true;
        let held = t.amount;
        let mut s = t.budget.s.lock().await;
        s.reserved -= held;
        let charged = if actual > held {
            let extra = (actual - held).min(s.avail).max(0);
            s.avail -= extra;
            held + extra
        } else {
            let c = actual.max(0);
            s.avail += held - c;
            c
        };
        s.spent += charged;
        s.count += 1;
        s.last_used = Some(Instant::now());
        charged
    }

    /// Nothing billable happened: the ticket goes back whole.
    pub async fn release(&self, mut t: Ticket) {
        t.done = true;
        let mut s = t.budget.s.lock().await;
        s.reserved -= t.amount;
        s.avail += t.amount;
    }

    fn all(&self) -> Vec<Arc<Budget>> {
        self.map.lock().unwrap().values().cloned().collect()
    }

    /// Write every budget's unflushed spending in one transaction.
    pub async fn flush(&self) -> switchyard_store::Result<()> {
        let _w = self.writing.lock().await;
        let mut batch = Vec::new();
        let mut taken = Vec::new();
        for b in self.all() {
            let mut s = b.s.lock().await;
            // A lease with requests in flight is touched too, so the stale-hold sweep never
            // takes one that is still in use (a stream may outlast any idle time).
            if s.spent == 0 && s.count == 0 && (s.reserved == 0 || s.lease.is_none()) {
                continue;
            }
            if let Some(lease) = &s.lease {
                batch.push(switchyard_store::Spending {
                    lease_id: lease.clone(),
                    user_id: b.user_id.clone(),
                    key_id: b.key_id.clone(),
                    spent: s.spent,
                    count: s.count,
                });
            } else {
                // Only free requests so far: no lease row to take from.
                batch.push(switchyard_store::Spending {
                    lease_id: String::new(),
                    user_id: b.user_id.clone(),
                    key_id: b.key_id.clone(),
                    spent: s.spent,
                    count: s.count,
                });
            }
            taken.push((b.clone(), s.spent, s.count));
            s.spent = 0;
            s.count = 0;
        }
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.store.record_spending(&batch).await {
            for (b, spent, count) in taken {
                let mut s = b.s.lock().await;
                s.spent += spent;
                s.count += count;
            }
            return Err(e);
        }
        Ok(())
    }

    /// Flush, then give the unspent lease of every budget `pick` selects back to the database;
    /// budgets with nothing in flight are dropped.
    async fn give_back(
        &self,
        pick: impl Fn(&Budget, &Inner) -> bool,
    ) -> switchyard_store::Result<()> {
        self.flush().await?;
        let _w = self.writing.lock().await;
        for b in self.all() {
            let mut s = b.s.lock().await;
            if s.closed || !pick(&b, &s) {
                continue;
            }
            let close = s.reserved == 0 && s.spent == 0 && s.count == 0;
            if let Some(lease) = s.lease.clone() {
                self.store
                    .return_lease(&lease, &b.user_id, &b.key_id, b.key_limited, s.avail, close)
                    .await?;
                s.avail = 0;
                if close {
                    s.lease = None;
                }
            }
            if close {
                s.closed = true;
                let key = (b.user_id.clone(), b.key_id.clone(), b.key_limited);
                let mut map = self.map.lock().unwrap();
                if map.get(&key).is_some_and(|x| Arc::ptr_eq(x, &b)) {
                    map.remove(&key);
                }
            }
        }
        Ok(())
    }

    /// Make a user's numbers in the database exact: flush and give back their leases.
    pub async fn return_user(&self, user_id: &str) -> switchyard_store::Result<()> {
        self.give_back(|b, _| b.user_id == user_id).await
    }

    /// Flush and give every lease back (shutdown, tests, admin views).
    pub async fn return_all(&self) -> switchyard_store::Result<()> {
        self.give_back(|_, _| true).await
    }

    /// Give back the leases of budgets unused for the idle time.
    pub async fn return_idle(&self) -> switchyard_store::Result<()> {
        let idle = self.idle;
        self.give_back(|_, s| s.reserved == 0 && s.last_used.is_none_or(|t| t.elapsed() >= idle))
            .await
    }

    /// How many budgets this process keeps (for tests).
    pub fn len(&self) -> usize {
        self.map.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // A request that ended without settling (a panic, a dropped future): its reservation
        // goes back to the budget.
        let amount = self.amount;
        if let Ok(mut s) = self.budget.s.try_lock() {
            s.reserved -= amount;
            s.avail += amount;
            return;
        }
        let b = self.budget.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let mut s = b.s.lock().await;
                s.reserved -= amount;
                s.avail += amount;
            });
        }
    }
}

/// Flush every `every`, give idle budgets back; until aborted.
pub fn spawn_flusher(budgets: Arc<Budgets>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        let mut last_idle = Instant::now();
        loop {
            tick.tick().await;
            if let Err(e) = budgets.flush().await {
                tracing::error!(error = %e, "flushing budgets failed");
            }
            if last_idle.elapsed() >= Duration::from_secs(1) {
                last_idle = Instant::now();
                if let Err(e) = budgets.return_idle().await {
                    tracing::error!(error = %e, "returning idle budgets failed");
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A borrowed key finds what its owned form was stored under, and only that.
    #[test]
    fn a_borrowed_key_finds_the_budget() {
        let mut map: HashMap<BudgetKey, u32> = HashMap::default();
        for (i, (u, k, l)) in [("u1", "k1", false), ("u1", "k1", true), ("u1", "k2", false)]
            .into_iter()
            .enumerate()
        {
            map.insert((u.to_string(), k.to_string(), l), i as u32);
        }
        assert_eq!(map.get(&KeyRef("u1", "k1", false)), Some(&0));
        assert_eq!(map.get(&KeyRef("u1", "k1", true)), Some(&1));
        assert_eq!(map.get(&KeyRef("u1", "k2", false)), Some(&2));
        assert_eq!(map.get(&KeyRef("u1k", "1", false)), None);
        assert_eq!(map.get(&KeyRef("u2", "k1", false)), None);
        // A new key is made owned, field for field, only when it is inserted.
        *map.entry_ref(&KeyRef("u1", "k1", true)).or_insert(7) += 10;
        map.entry_ref(&KeyRef("u3", "k3", true)).or_insert(9);
        assert_eq!(map.get(&("u1".into(), "k1".into(), true)), Some(&11));
        assert_eq!(map.get(&("u3".into(), "k3".into(), true)), Some(&9));
        assert_eq!(map.len(), 4);
    }
}
