//! Fault specs: `name` or `name=value`, comma separated. They let tests make
//! the upstream fail, slow down or misbehave in a controlled way. This module
//! is wire-format agnostic; each format renders `status` faults itself.

use std::time::Duration;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Answer with this HTTP status instead of a real response.
    pub status: Option<u16>,
    /// Sleep before sending response headers.
    pub latency_ms: u64,
    /// Sleep between stream chunks.
    pub chunk_delay_ms: u64,
    /// Abort a stream after this many content chunks.
    pub cut_after: Option<usize>,
    /// Reply length in words.
    pub words: Option<usize>,
    /// Drop usage from answers and streams.
    pub no_usage: bool,
    /// An async task (video) ends failed instead of succeeded.
    pub task_fail: bool,
    /// An async task's queued and running times in ms (`task_ms=Q:R`).
    pub task_ms: Option<(u64, u64)>,
}

impl Faults {
    pub fn parse(spec: &str) -> Faults {
        let mut faults = Faults::default();
        faults.merge(spec);
        faults
    }

    /// Apply `spec` on top of `self`; entries in `spec` win.
    pub fn merge(&mut self, spec: &str) {
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = match item.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim())),
                None => (item, None),
            };
            if !self.set(name, value) {
                tracing::warn!(fault = item, "ignoring unknown or malformed sim fault");
            }
        }
    }

    /// Returns false when the entry was not understood.
    fn set(&mut self, name: &str, value: Option<&str>) -> bool {
        let num = value.and_then(|v| v.parse::<u64>().ok());
        match (name, num) {
            // Non-error codes clear the fault, so a later source can undo it.
            ("status", Some(code)) => {
                self.status = (400..=599).contains(&code).then_some(code as u16)
            }
            ("latency_ms", Some(ms)) => self.latency_ms = ms,
            ("chunk_delay_ms", Some(ms)) => self.chunk_delay_ms = ms,
            ("cut_after", Some(n)) => self.cut_after = Some(n as usize),
            ("words", Some(n)) => self.words = Some(n as usize),
            ("no_usage", _) => return set_flag(&mut self.no_usage, value),
            ("task_fail", _) => return set_flag(&mut self.task_fail, value),
            ("task_ms", _) => return self.set_task_ms(value),
            _ => return false,
        }
        true
    }

    fn set_task_ms(&mut self, value: Option<&str>) -> bool {
        let parsed = value.and_then(|v| v.split_once(':')).and_then(|(q, r)| {
            let ms = |s: &str| s.trim().parse::<u64>().ok();
            Some((ms(q)?, ms(r)?))
        });
        if parsed.is_some() {
            self.task_ms = parsed;
        }
        parsed.is_some()
    }

    pub async fn wait_latency(&self) {
        if self.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.latency_ms)).await;
        }
    }

    pub fn chunk_delay(&self) -> Duration {
        Duration::from_millis(self.chunk_delay_ms)
    }
}

/// A boolean fault: bare `name` turns it on, `name=0|false` off again.
fn set_flag(flag: &mut bool, value: Option<&str>) -> bool {
    match value {
        None | Some("1" | "true") => *flag = true,
        Some("0" | "false") => *flag = false,
        Some(_) => return false,
    }
    true
}

/// Split a model name like `gpt-4o-mini@status=500` into the reported model
/// and its fault spec.
pub fn split_model(model: &str) -> (&str, Option<&str>) {
    match model.split_once('@') {
        Some((name, spec)) => (name, Some(spec)),
        None => (model, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_names() {
        let f = Faults::parse(
            "status=503, latency_ms=10,chunk_delay_ms=5,cut_after=2,words=3,no_usage",
        );
        assert_eq!(f.status, Some(503));
        assert_eq!(f.latency_ms, 10);
        assert_eq!(f.chunk_delay_ms, 5);
        assert_eq!(f.cut_after, Some(2));
        assert_eq!(f.words, Some(3));
        assert!(f.no_usage);
        let f = Faults::parse("task_fail,task_ms=100:400");
        assert!(f.task_fail);
        assert_eq!(f.task_ms, Some((100, 400)));
    }

    #[test]
    fn task_faults_merge_and_reject_bad_timing() {
        let mut f = Faults::parse("task_fail,task_ms=1:2");
        f.merge("task_fail=false,task_ms=5,task_ms=x:1");
        assert!(!f.task_fail);
        assert_eq!(f.task_ms, Some((1, 2)));
    }

    #[test]
    fn later_wins_and_bad_entries_are_ignored() {
        let mut f = Faults::parse("status=500,words=4");
        f.merge("status=200,bogus,words=x,no_usage=false");
        assert_eq!(f.status, None);
        assert_eq!(f.words, Some(4));
        assert!(!f.no_usage);
        assert_eq!(Faults::parse(""), Faults::default());
    }

    #[test]
    fn splits_model_spec() {
        assert_eq!(split_model("gpt-4o"), ("gpt-4o", None));
        assert_eq!(
            split_model("gpt-4o@status=500,words=2"),
            ("gpt-4o", Some("status=500,words=2"))
        );
    }
}
