//! Channel health: a channel that failed K of its last N requests is benched for a cool-down;
//! after it, one request is let through as a probe, and its outcome decides.

use std::collections::VecDeque;

use hashbrown::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;

#[derive(Debug, Clone, Copy, serde::Deserialize, Serialize)]
#[serde(default)]
pub struct HealthSettings {
    /// K: failures within the window that bench a channel.
    pub failures: usize,
    /// N: how many recent requests the window holds.
    pub window: usize,
    pub cooldown_secs: u64,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            failures: 5,
            window: 10,
            cooldown_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
}

#[derive(Debug, Default)]
struct State {
    recent: VecDeque<bool>,
    benched_until: Option<Instant>,
    probing: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthView {
    pub recent_failures: usize,
    pub recent_requests: usize,
    pub benched_for_secs: Option<u64>,
}

pub struct Health {
    settings: HealthSettings,
    channels: Mutex<HashMap<String, State>>,
}

impl Health {
    pub fn new(settings: HealthSettings) -> Self {
        Health {
            settings,
            channels: Mutex::new(HashMap::default()),
        }
    }

    /// May this channel take a request now? After a cool-down, exactly one probe gets a yes.
    pub fn admit(&self, channel: &str) -> bool {
        let mut all = self.channels.lock();
        let Some(s) = all.get_mut(channel) else {
            return true;
        };
        match s.benched_until {
            None => true,
            Some(until) if Instant::now() < until => false,
            Some(_) if s.probing => false,
            Some(_) => {
                s.probing = true;
                true
            }
        }
    }

    pub fn record(&self, channel: &str, outcome: Outcome) {
        let cfg = self.settings;
        let mut all = self.channels.lock();
        // `entry_ref`: the channel's id is copied only the first time it is seen, not per request.
        let s = all.entry_ref(channel).or_default();
        let ok = outcome == Outcome::Ok;
        if s.benched_until.is_some() && (s.probing || ok) {
            // The probe's answer: back to service with a clean slate, or benched again.
            s.probing = false;
            if ok {
                *s = State::default();
            } else {
                s.benched_until = Some(Instant::now() + Duration::from_secs(cfg.cooldown_secs));
            }
            return;
        }
        s.recent.push_back(!ok);
        while s.recent.len() > cfg.window.max(1) {
            s.recent.pop_front();
        }
        // Only a failure can make the count reach the bar.
        if !ok && s.recent.iter().filter(|f| **f).count() >= cfg.failures.max(1) {
            tracing::warn!(channel, "channel benched after repeated failures");
            s.benched_until = Some(Instant::now() + Duration::from_secs(cfg.cooldown_secs));
            s.recent.clear();
        }
    }

    pub fn view(&self, channel: &str) -> HealthView {
        let all = self.channels.lock();
        let s = all.get(channel);
        let now = Instant::now();
        HealthView {
            recent_failures: s
                .map(|s| s.recent.iter().filter(|f| **f).count())
                .unwrap_or(0),
            recent_requests: s.map(|s| s.recent.len()).unwrap_or(0),
            benched_for_secs: s
                .and_then(|s| s.benched_until)
                .map(|u| u.saturating_duration_since(now).as_secs()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_after_k_of_n_then_probe() {
        let h = Health::new(HealthSettings {
            failures: 2,
            window: 3,
            cooldown_secs: 0,
        });
        h.record("c", Outcome::Failed);
        h.record("c", Outcome::Ok);
        assert!(h.admit("c"));
        h.record("c", Outcome::Failed);
        // Benched; with a zero cool-down one probe is admitted, a second concurrent one is not.
        assert!(h.admit("c"));
        assert!(!h.admit("c"));
        h.record("c", Outcome::Failed);
        assert!(
            h.admit("c"),
            "benched again, next probe after the cool-down"
        );
        h.record("c", Outcome::Ok);
        assert!(h.admit("c") && h.admit("c"), "healthy again");
        assert_eq!(h.view("c").recent_failures, 0);
    }

    #[test]
    fn cooldown_blocks() {
        let h = Health::new(HealthSettings {
            failures: 1,
            window: 1,
            cooldown_secs: 60,
        });
        h.record("c", Outcome::Failed);
        assert!(!h.admit("c"));
        assert!(h.admit("other"));
        assert!(h.view("c").benched_for_secs.is_some());
    }
}
