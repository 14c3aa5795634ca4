//! Which channels may serve a request, in the order to try them: the highest priority tier
//! first, a weighted random order inside each tier, benched channels left out.

mod health;

use std::sync::Arc;

pub use health::{Health, HealthSettings, Outcome};

use crate::catalog::{Catalog, ChannelEntry};

/// Channels in `group` serving `model`, in the order to try them.
pub fn candidates(cat: &Catalog, group: &str, model: &str) -> Vec<Arc<ChannelEntry>> {
    let mut matching: Vec<Arc<ChannelEntry>> = cat
        .channels
        .iter()
        .filter(|c| c.in_group(group) && c.serves(model))
        .cloned()
        .collect();
    // `cat.channels` is already sorted by priority (highest first); shuffle within each tier.
    let mut start = 0;
    while start < matching.len() {
        let prio = matching[start].priority;
        let end = start
            + matching[start..]
                .iter()
                .take_while(|c| c.priority == prio)
                .count();
        weighted_shuffle(&mut matching[start..end]);
        start = end;
    }
    matching
}

/// Order a tier so each channel comes first with probability weight / total weight
/// (Efraimidis–Spirakis: sort by u^(1/w) descending). Weight 0 goes last.
fn weighted_shuffle(tier: &mut [Arc<ChannelEntry>]) {
    if tier.len() < 2 {
        return;
    }
    let mut keyed: Vec<(f64, Arc<ChannelEntry>)> = tier
        .iter()
        .map(|c| {
            let u: f64 = rand::random::<f64>().max(f64::MIN_POSITIVE);
            let k = if c.weight > 0 {
                u.powf(1.0 / c.weight as f64)
            } else {
                -u
            };
            (k, c.clone())
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (slot, (_, c)) in tier.iter_mut().zip(keyed) {
        *slot = c;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(id: &str, priority: i64, weight: i64) -> Arc<ChannelEntry> {
        Arc::new(ChannelEntry {
            id: id.into(),
            name: id.into(),
            kind: "openai".into(),
            base_url: "http://x".into(),
            keys: vec![],
            models: vec!["m".into()],
            model_map: Default::default(),
            groups: vec!["default".into()],
            priority,
            weight,
            status: "enabled".into(),
            test_model: None,
        })
    }

    #[test]
    fn tiers_then_weights() {
        let cat = Catalog {
            channels: vec![ch("hi", 10, 1), ch("a", 0, 9), ch("b", 0, 1)],
            ..Default::default()
        };
        let mut a_first = 0;
        for _ in 0..2000 {
            let c = candidates(&cat, "default", "m");
            assert_eq!(c[0].id, "hi");
            if c[1].id == "a" {
                a_first += 1;
            }
        }
        // Expect 90% ± a generous margin.
        assert!((1650..1950).contains(&a_first), "{a_first}");
        assert!(candidates(&cat, "vip", "m").is_empty());
        assert!(candidates(&cat, "default", "other").is_empty());
    }
}
