//! Per-path request counters, so tests can assert how often the gateway hit
//! (or avoided) an upstream.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Default)]
pub struct Stats {
    counts: Mutex<HashMap<String, u64>>,
}

impl Stats {
    pub fn hit(&self, path: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        // Avoid allocating a key on the hot path once the path is known.
        match counts.get_mut(path) {
            Some(n) => *n += 1,
            None => {
                counts.insert(path.to_owned(), 1);
            }
        }
    }

    pub fn get(&self, path: &str) -> u64 {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(path).copied().unwrap_or(0)
    }

    /// Sorted copy, so `/sim/stats` output is stable.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_path() {
        let s = Stats::default();
        s.hit("/a");
        s.hit("/a");
        s.hit("/b");
        assert_eq!(s.get("/a"), 2);
        assert_eq!(s.get("/b"), 1);
        assert_eq!(s.get("/c"), 0);
        assert_eq!(s.snapshot().len(), 2);
    }
}
