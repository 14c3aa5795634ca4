//! A future wrapper that keeps a connection's task on its worker thread.
//!
//! tokio treats a task woken while it is being polled as a task that yields: it goes to the
//! back of the run queue and a parked worker is woken to steal it. A served HTTP/1.1
//! connection wakes itself that way on almost every request: the handler waits on the
//! request body's channel, and the connection's own dispatcher, in the same poll, fills it.
//! So every request hopped to the other worker thread (a futex wake, two context switches and
//! cold caches; the gateway spent about a third more CPU per request at concurrency 1 than
//! with one worker).
//!
//! `Coalesce` gives the inner future its own waker. A wake that arrives while the inner
//! future is being polled only marks it, and the wrapper polls again before returning; a wake
//! at any other time goes to tokio as usual.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use parking_lot::Mutex;

/// Re-polls in a row before a self-wake is handed to tokio after all (a future that keeps
/// waking itself, like one out of coop budget, must still let others run).
const MAX_REPOLLS: u32 = 16;

const IDLE: u8 = 0;
const POLLING: u8 = 1;
const WOKEN: u8 = 2;

pub struct Coalesce<F> {
    inner: Pin<Box<F>>,
    flag: Arc<Flag>,
    waker: Waker,
}

struct Flag {
    state: AtomicU8,
    /// The task's own waker, for wakes outside a poll.
    task: Mutex<Option<Waker>>,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let next = match s {
                POLLING => WOKEN,
                WOKEN => return,
                _ => break,
            };
            match self
                .state
                .compare_exchange(s, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(now) => s = now,
            }
        }
        if let Some(w) = self.task.lock().as_ref() {
            w.wake_by_ref();
        }
    }
}

impl<F: Future> Coalesce<F> {
    pub fn new(inner: F) -> Self {
        let flag = Arc::new(Flag {
            state: AtomicU8::new(IDLE),
            task: Mutex::new(None),
        });
        Coalesce {
            inner: Box::pin(inner),
            waker: Waker::from(flag.clone()),
            flag,
        }
    }
}

impl<F: Future> Future for Coalesce<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        {
            let mut task = this.flag.task.lock();
            if !task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        let mut own = Context::from_waker(&this.waker);
        for _ in 0..MAX_REPOLLS {
            this.flag.state.store(POLLING, Ordering::Release);
            if let Poll::Ready(out) = this.inner.as_mut().poll(&mut own) {
                this.flag.state.store(IDLE, Ordering::Release);
                return Poll::Ready(out);
            }
            if this
                .flag
                .state
                .compare_exchange(POLLING, IDLE, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Poll::Pending;
            }
            // Woken during the poll: go again at once, on this thread.
        }
        this.flag.state.store(IDLE, Ordering::Release);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Wakes itself during its first `n` polls, like hyper's body channel does.
    struct SelfWaking {
        left: usize,
        polls: Arc<AtomicUsize>,
    }

    impl Future for SelfWaking {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::Relaxed);
            if self.left == 0 {
                return Poll::Ready(());
            }
            self.left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    struct Counting(AtomicUsize);
    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_wake_during_the_poll_polls_again_without_waking_the_task() {
        let polls = Arc::new(AtomicUsize::new(0));
        let mut f = Coalesce::new(SelfWaking {
            left: 3,
            polls: polls.clone(),
        });
        let woken = Arc::new(Counting(AtomicUsize::new(0)));
        let waker = Waker::from(woken.clone());
        let out = Pin::new(&mut f).poll(&mut Context::from_waker(&waker));
        assert!(out.is_ready());
        assert_eq!(polls.load(Ordering::Relaxed), 4);
        assert_eq!(woken.0.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_future_that_keeps_waking_itself_still_yields_to_the_task() {
        let polls = Arc::new(AtomicUsize::new(0));
        let mut f = Coalesce::new(SelfWaking {
            left: usize::MAX,
            polls: polls.clone(),
        });
        let woken = Arc::new(Counting(AtomicUsize::new(0)));
        let waker = Waker::from(woken.clone());
        let out = Pin::new(&mut f).poll(&mut Context::from_waker(&waker));
        assert!(out.is_pending());
        assert_eq!(polls.load(Ordering::Relaxed), MAX_REPOLLS as usize);
        assert_eq!(woken.0.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_wake_after_the_poll_reaches_the_task() {
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        let task = tokio::spawn(Coalesce::new(rx));
        tokio::task::yield_now().await;
        tx.send(7).unwrap();
        assert_eq!(task.await.unwrap().unwrap(), 7);
    }
}
