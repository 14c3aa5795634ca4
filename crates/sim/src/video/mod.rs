//! Simulated video-task providers: one module per wire format, sharing the
//! task clock and store here.
//!
//! A task's state is a pure function of the time since it was submitted
//! (queued for Q ms, then running for R ms with progress rising linearly,
//! then done), so there are no background jobs and a poll at any moment sees
//! a consistent, predictable state. Whether it ends failed is decided at
//! submission: the `task_fail` fault or `[fail]` in the prompt.

mod kling;
mod luma;
mod luma_legacy;
mod runway;
mod sora;
mod veo;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::fault::{self, Faults};
use crate::Sim;

pub use kling::SECRET as KLING_SECRET;

/// Default queued and running times: `--demo` tasks finish in about 4 s.
const DEFAULT_TIMING: Timing = Timing {
    queued_ms: 1000,
    running_ms: 3000,
};

/// Tasks kept per sim; the oldest are forgotten first. A long demo run must
/// not grow without bound, and no client polls thousands of tasks back.
const MAX_TASKS: usize = 4096;

/// Why a simulated task failed, in every provider's failure field.
pub const FAILURE: &str = "simulated generation failure";

/// A prompt containing this ends failed, so a chat user can try failure.
const FAIL_MARK: &str = "[fail]";

pub fn routes() -> Router<Sim> {
    Router::new()
        .merge(luma::routes())
        .merge(luma_legacy::routes())
        .merge(runway::routes())
        .merge(kling::routes())
        .merge(sora::routes())
        .merge(veo::routes())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub queued_ms: u64,
    pub running_ms: u64,
}

/// Which API a task was created through; a task is only visible there (and
/// Kling's two families are separate, as they are upstream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Luma,
    LumaLegacy,
    Runway,
    KlingText,
    KlingImage,
    Sora,
    Veo,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Phase {
    Queued,
    /// Fraction done, in `[0, 1)`.
    Running(f64),
    Succeeded,
    Failed,
    Cancelled,
}

impl Phase {
    pub fn is_final(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed | Phase::Cancelled)
    }
}

#[derive(Clone, Debug)]
pub struct Task {
    pub id: String,
    pub kind: Kind,
    /// The model as reported back: without any `@spec`.
    pub model: String,
    pub prompt: String,
    /// Request fields needed in later answers (Kling's duration, …); Luma's
    /// official API echoes the whole request.
    pub request: Value,
    /// A caller-chosen alias to poll by (Kling's `external_task_id`).
    pub external_id: Option<String>,
    /// The Host the task was submitted to; result URLs point back at it.
    pub host: String,
    /// Unix ms at submission.
    pub created_ms: u64,
    pub failure: Option<String>,
    submitted: Instant,
    timing: Timing,
    /// Time since submission when the task was cancelled.
    cancelled_after: Option<Duration>,
    seq: u64,
}

impl Task {
    pub fn phase(&self) -> Phase {
        if self.cancelled_after.is_some() {
            return Phase::Cancelled;
        }
        let elapsed = self.submitted.elapsed().as_millis() as u64;
        phase_at(elapsed, self.timing, self.failure.is_some())
    }

    /// Unix ms when the task left the queue.
    pub fn started_ms(&self) -> u64 {
        self.created_ms + self.timing.queued_ms
    }

    /// Unix ms when the task finished (or will finish).
    pub fn finished_ms(&self) -> u64 {
        match self.cancelled_after {
            Some(after) => self.created_ms + after.as_millis() as u64,
            None => self.started_ms() + self.timing.running_ms,
        }
    }

    /// Unix ms of the latest state change.
    pub fn updated_ms(&self) -> u64 {
        match self.phase() {
            Phase::Queued => self.created_ms,
            Phase::Running(_) => self.started_ms(),
            _ => self.finished_ms(),
        }
    }

    /// Absolute URL of one of the `/sim/files/` media.
    pub fn file_url(&self, name: &str) -> String {
        format!("http://{}/sim/files/{name}", self.host)
    }
}

/// The state `elapsed` ms after submission; pure, for unit tests.
fn phase_at(elapsed: u64, timing: Timing, fails: bool) -> Phase {
    if elapsed < timing.queued_ms {
        return Phase::Queued;
    }
    let running = elapsed - timing.queued_ms;
    if running < timing.running_ms {
        return Phase::Running(running as f64 / timing.running_ms as f64);
    }
    if fails {
        Phase::Failed
    } else {
        Phase::Succeeded
    }
}

/// Every sim's tasks, the timing for new ones and the salt for their ids.
pub struct Tasks {
    inner: Mutex<Store>,
    timing: Mutex<Timing>,
    next: AtomicU64,
    /// Ids must not collide between sims (a gateway test may run several as
    /// separate channels), so each sim hashes its counter with its own salt.
    salt: [u8; 16],
}

#[derive(Default)]
struct Store {
    tasks: HashMap<String, Task>,
    /// Ids oldest first, for eviction; deleted ids are skipped lazily.
    order: VecDeque<String>,
}

/// What `DELETE` did to a task, for providers that cancel.
#[derive(Debug, PartialEq, Eq)]
pub enum Removal {
    Cancelled,
    Deleted,
}

impl Default for Tasks {
    fn default() -> Self {
        Tasks {
            inner: Mutex::default(),
            timing: Mutex::new(DEFAULT_TIMING),
            next: AtomicU64::new(1),
            salt: new_salt(),
        }
    }
}

impl Tasks {
    pub fn set_timing(&self, timing: Timing) {
        *self.timing.lock().unwrap_or_else(|e| e.into_inner()) = timing;
    }

    fn timing(&self) -> Timing {
        *self.timing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// 32 pseudo-random bytes, unique per call and per sim.
    fn random(&self) -> [u8; 32] {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut hash = Sha256::new();
        hash.update(self.salt);
        hash.update(n.to_le_bytes());
        hash.finalize().into()
    }

    /// A version-4-shaped UUID, as Luma and Runway use.
    pub fn uuid(&self) -> String {
        let mut b = self.random();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex::encode(&b[..16]);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }

    /// `len` lowercase hex digits (up to 64).
    pub fn hex(&self, len: usize) -> String {
        let mut h = hex::encode(self.random());
        h.truncate(len);
        h
    }

    /// A decimal id of `len` digits (2 to 19) with no leading zero, like
    /// Kling's task ids.
    pub fn digits(&self, len: u32) -> String {
        let b = self.random();
        let n = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        let low = 10u64.pow(len.clamp(2, 19) - 1);
        (low + n % (9 * low)).to_string()
    }

    /// Store a new task built from a prepared request.
    pub fn submit(&self, new: NewTask) -> Task {
        let timing = new.faults.task_ms.map_or_else(
            || self.timing(),
            |(queued_ms, running_ms)| Timing {
                queued_ms,
                running_ms,
            },
        );
        let fails = new.faults.task_fail || new.prompt.contains(FAIL_MARK);
        let task = Task {
            id: new.id,
            kind: new.kind,
            model: new.model,
            prompt: new.prompt,
            request: new.request,
            external_id: new.external_id,
            host: new.host,
            created_ms: unix_ms(),
            failure: fails.then(|| FAILURE.to_owned()),
            submitted: Instant::now(),
            timing,
            cancelled_after: None,
            seq: self.next.fetch_add(1, Ordering::Relaxed),
        };
        self.store().insert(task.clone());
        task
    }

    /// A task by id (or external id) if it was created through `kind`.
    pub fn get(&self, kind: Kind, id: &str) -> Option<Task> {
        self.store().find(kind, id).cloned()
    }

    /// Tasks created through `kind`, oldest first.
    pub fn list(&self, kind: Kind) -> Vec<Task> {
        let store = self.store();
        let mut tasks: Vec<Task> = store
            .tasks
            .values()
            .filter(|t| t.kind == kind)
            .cloned()
            .collect();
        tasks.sort_by_key(|t| t.seq);
        tasks
    }

    pub fn delete(&self, kind: Kind, id: &str) -> bool {
        let mut store = self.store();
        let Some(id) = store.find(kind, id).map(|t| t.id.clone()) else {
            return false;
        };
        store.tasks.remove(&id).is_some()
    }

    /// Cancel a task still queued or running; delete one that has ended.
    pub fn cancel_or_delete(&self, kind: Kind, id: &str) -> Option<Removal> {
        let mut store = self.store();
        let task = store.find(kind, id)?;
        let id = task.id.clone();
        if task.phase().is_final() {
            store.tasks.remove(&id);
            return Some(Removal::Deleted);
        }
        let task = store.tasks.get_mut(&id)?;
        task.cancelled_after = Some(task.submitted.elapsed());
        Some(Removal::Cancelled)
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store {
    fn insert(&mut self, task: Task) {
        self.order.push_back(task.id.clone());
        self.tasks.insert(task.id.clone(), task);
        // Bounding the order bounds the tasks too: every live task is in it.
        while self.order.len() > MAX_TASKS {
            if let Some(old) = self.order.pop_front() {
                self.tasks.remove(&old);
            }
        }
    }

    fn find(&self, kind: Kind, id: &str) -> Option<&Task> {
        let direct = self.tasks.get(id).filter(|t| t.kind == kind);
        direct.or_else(|| {
            let mut tasks = self.tasks.values();
            tasks.find(|t| t.kind == kind && t.external_id.as_deref() == Some(id))
        })
    }
}

fn new_salt() -> [u8; 16] {
    static SIMS: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut hash = Sha256::new();
    hash.update(nanos.to_le_bytes());
    hash.update(std::process::id().to_le_bytes());
    hash.update(SIMS.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let digest: [u8; 32] = hash.finalize().into();
    digest[..16].try_into().unwrap_or_default()
}

/// What a provider hands to [`Tasks::submit`].
pub struct NewTask {
    pub id: String,
    pub kind: Kind,
    pub model: String,
    pub prompt: String,
    pub request: Value,
    pub external_id: Option<String>,
    pub host: String,
    pub faults: Faults,
}

impl NewTask {
    /// A task for `req` with the common fields filled in.
    pub fn new(id: String, kind: Kind, req: &Prepared, prompt: &str) -> NewTask {
        NewTask {
            id,
            kind,
            model: req.model.clone(),
            prompt: prompt.to_owned(),
            request: Value::Null,
            external_id: None,
            host: req.host.clone(),
            faults: req.faults,
        }
    }
}

/// How a provider renders an error with a status and a message.
pub type Render = fn(StatusCode, &str) -> Response;

/// A create request after faults were resolved and applied.
pub struct Prepared {
    pub body: Value,
    /// The requested model without any `@spec`.
    pub model: String,
    pub faults: Faults,
    pub host: String,
}

impl Prepared {
    pub fn str(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }
}

/// Parse a JSON object body; anything else is the provider's 400.
pub fn parse_json(body: &[u8], render: Render) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(render(StatusCode::BAD_REQUEST, "Invalid JSON body")),
    }
}

/// Resolve faults for a create call (defaults, header, then the `@spec` on
/// `raw_model`) and apply latency and status in the provider's error shape.
pub async fn prepare(
    sim: &Sim,
    headers: &HeaderMap,
    body: Value,
    raw_model: &str,
    render: Render,
) -> Result<Prepared, Response> {
    let (model, spec) = fault::split_model(raw_model);
    let faults = sim.faults_for(header_spec(headers), spec);
    apply_faults(&faults, render).await?;
    Ok(Prepared {
        body,
        model: model.to_owned(),
        faults,
        host: host(headers),
    })
}

/// Faults for polls, lists and deletes: defaults and header only.
pub async fn poll_faults(sim: &Sim, headers: &HeaderMap, render: Render) -> Result<(), Response> {
    apply_faults(&sim.faults_for(header_spec(headers), None), render).await
}

async fn apply_faults(faults: &Faults, render: Render) -> Result<(), Response> {
    faults.wait_latency().await;
    match faults.status {
        Some(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Err(render(status, fault_message(code)))
        }
        None => Ok(()),
    }
}

fn fault_message(code: u16) -> &'static str {
    match code {
        401 => "Invalid API key (simulated).",
        403 => "Forbidden (simulated).",
        429 => "Rate limit exceeded (simulated).",
        500..=599 => "Internal server error (simulated).",
        _ => "Simulated error.",
    }
}

fn header_spec(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-sim-fault").and_then(|v| v.to_str().ok())
}

fn host(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    host.unwrap_or("127.0.0.1").to_owned()
}

/// The token of an `Authorization: Bearer <token>` header, if non-empty.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Check a plain API key: missing and the sim's invalid key both fail.
pub fn check_key(headers: &HeaderMap, render: Render) -> Result<(), Response> {
    match bearer(headers) {
        None => Err(render(StatusCode::UNAUTHORIZED, "Missing API key")),
        Some(crate::openai::INVALID_KEY) => {
            Err(render(StatusCode::UNAUTHORIZED, "Invalid API key"))
        }
        Some(_) => Ok(()),
    }
}

pub fn either(result: Result<Response, Response>) -> Response {
    match result {
        Ok(resp) | Err(resp) => resp,
    }
}

pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// RFC 3339 UTC time with `digits` fractional digits (3 or 6), e.g.
/// `2024-12-22T13:38:40.139Z`; no date crate needed for one format.
pub fn iso8601(unix_ms: u64, digits: usize) -> String {
    let (days, ms_of_day) = (unix_ms / 86_400_000, unix_ms % 86_400_000);
    let (y, m, d) = civil_from_days(days as i64);
    let secs = ms_of_day / 1000;
    let frac = format!("{:03}000", ms_of_day % 1000);
    let frac = &frac[..digits.clamp(1, 6)];
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timing = Timing {
        queued_ms: 100,
        running_ms: 400,
    };

    #[test]
    fn phases_follow_the_clock() {
        assert_eq!(phase_at(0, T, false), Phase::Queued);
        assert_eq!(phase_at(99, T, false), Phase::Queued);
        assert_eq!(phase_at(100, T, false), Phase::Running(0.0));
        assert_eq!(phase_at(300, T, false), Phase::Running(0.5));
        assert_eq!(phase_at(500, T, false), Phase::Succeeded);
        assert_eq!(phase_at(500, T, true), Phase::Failed);
        assert_eq!(phase_at(499, T, true), Phase::Running(0.9975));
        let instant = Timing {
            queued_ms: 0,
            running_ms: 0,
        };
        assert_eq!(phase_at(0, instant, false), Phase::Succeeded);
    }

    #[test]
    fn demo_tasks_finish_in_about_four_seconds() {
        let timing = Tasks::default().timing();
        assert_eq!(timing.queued_ms + timing.running_ms, 4000);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0, 3), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_734_874_720_139, 6), "2024-12-22T13:38:40.139000Z");
        assert_eq!(iso8601(951_782_400_000, 3), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(4_107_542_399_999, 3), "2100-02-28T23:59:59.999Z");
    }

    #[test]
    fn ids_are_unique_and_shaped() {
        let a = Tasks::default();
        let b = Tasks::default();
        let u = a.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, a.uuid());
        assert_ne!(u, b.uuid());
        assert_eq!(a.hex(32).len(), 32);
        assert_ne!(a.hex(32), b.hex(32));
        let d = a.digits(18);
        assert_eq!(d.len(), 18);
        assert!(d.bytes().all(|c| c.is_ascii_digit()));
        assert_ne!(d, a.digits(18));
    }

    fn new_task(tasks: &Tasks, kind: Kind, prompt: &str, faults: &str) -> Task {
        tasks.submit(NewTask {
            id: tasks.uuid(),
            kind,
            model: "m".into(),
            prompt: prompt.into(),
            request: Value::Null,
            external_id: Some("ext-1".into()),
            host: "h".into(),
            faults: Faults::parse(faults),
        })
    }

    #[test]
    fn store_scopes_by_kind_and_fails_on_request() {
        let tasks = Tasks::default();
        tasks.set_timing(T);
        let t = new_task(&tasks, Kind::Luma, "a cat", "");
        assert!(t.failure.is_none());
        assert_eq!(t.timing, T);
        assert_eq!(t.started_ms() - t.created_ms, 100);
        assert_eq!(t.finished_ms() - t.created_ms, 500);
        assert_eq!(t.updated_ms(), t.created_ms);
        assert!(tasks.get(Kind::Luma, &t.id).is_some());
        assert!(tasks.get(Kind::Luma, "ext-1").is_some());
        assert!(tasks.get(Kind::LumaLegacy, &t.id).is_none());
        let failing = new_task(&tasks, Kind::LumaLegacy, "x [fail]", "");
        assert!(failing.failure.is_some());
        let slow = new_task(&tasks, Kind::LumaLegacy, "x", "task_fail,task_ms=5:7");
        assert_eq!(slow.failure.as_deref(), Some(FAILURE));
        assert_eq!(slow.timing.queued_ms + slow.timing.running_ms, 12);
        assert_eq!(tasks.list(Kind::LumaLegacy).len(), 2);
        assert!(tasks.delete(Kind::LumaLegacy, &slow.id));
        assert!(!tasks.delete(Kind::LumaLegacy, &slow.id));
    }

    #[test]
    fn cancel_then_delete() {
        let tasks = Tasks::default();
        let t = new_task(&tasks, Kind::Runway, "x", "");
        let cancel = tasks.cancel_or_delete(Kind::Runway, &t.id);
        assert_eq!(cancel, Some(Removal::Cancelled));
        let phase = tasks.get(Kind::Runway, &t.id).unwrap().phase();
        assert_eq!(phase, Phase::Cancelled);
        let delete = tasks.cancel_or_delete(Kind::Runway, &t.id);
        assert_eq!(delete, Some(Removal::Deleted));
        assert!(tasks.get(Kind::Runway, &t.id).is_none());
        assert_eq!(tasks.cancel_or_delete(Kind::Runway, &t.id), None);
    }

    #[test]
    fn oldest_tasks_are_evicted() {
        let tasks = Tasks::default();
        let first = new_task(&tasks, Kind::Luma, "x", "");
        for _ in 0..MAX_TASKS {
            new_task(&tasks, Kind::Luma, "x", "");
        }
        assert!(tasks.get(Kind::Luma, &first.id).is_none());
        assert_eq!(tasks.list(Kind::Luma).len(), MAX_TASKS);
    }
}
