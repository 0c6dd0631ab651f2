//! The threads that prepare submitted jobs, apart from the control plane.
//!
//! Preparing a job runs its code: the component's `describe` builds the
//! plan. A describe may print, panic, sleep, loop or allocate, so it never
//! runs on an actor's thread or inside a tokio runtime, where it could
//! stall heartbeats and REST answers or (a blocking WASI call inside a
//! runtime) panic the thread. It runs here instead: on a fixed number of
//! plain threads (`wasm.describe.threads`), each call with its own deadline
//! and memory cap (`wasm.describe.timeout`, `wasm.describe.memory`), behind
//! a queue of bounded length (`wasm.describe.queue`), past which a request
//! is refused at once rather than left to wait.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crossbeam_channel::{Sender, TrySendError};
use tokio::sync::oneshot;

use super::SubmitError;
use crate::config::Configuration;

/// A request the pool cannot take or could not finish.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PoolError {
    /// Every thread is busy and the queue is full.
    #[error(
        "too many jobs are being prepared: {queue} wait already for {threads} describe threads (wasm.describe.queue); try again later"
    )]
    Busy {
        /// The queue's length.
        queue: usize,
        /// The pool's threads.
        threads: usize,
    },
    /// The work panicked: a bug in wflink, not in the job.
    #[error("internal error (this is likely a bug): preparing the job panicked: {0}")]
    Panicked(String),
    /// The pool's threads are gone (the process is ending).
    #[error("the describe threads have stopped")]
    Stopped,
    /// The threads could not be started.
    #[error("cannot start the describe threads: {0}")]
    Start(String),
}

type Work = Box<dyn FnOnce() + Send>;

/// A fixed set of threads with a bounded queue, for work that runs job code.
pub struct PreparePool {
    queue: Sender<Work>,
    threads: usize,
    capacity: usize,
}

impl PreparePool {
    /// A pool of `threads` threads with room for `queue` waiting requests.
    pub fn new(threads: usize, queue: usize) -> std::io::Result<Arc<Self>> {
        let (sender, receiver) = crossbeam_channel::bounded::<Work>(queue);
        for index in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new().name(format!("describe-{index}")).spawn(move || {
                for work in receiver {
                    work();
                }
            })?;
        }
        Ok(Arc::new(PreparePool { queue: sender, threads, capacity: queue }))
    }

    /// The pool the configuration asks for.
    pub fn from_config(config: &Configuration) -> Result<Arc<Self>, SubmitError> {
        let threads = config.positive_int("wasm.describe.threads")? as usize;
        let queue = config.positive_int("wasm.describe.queue")? as usize;
        Ok(Self::new(threads, queue).map_err(|e| PoolError::Start(e.to_string()))?)
    }

    /// Queues `work`; the answer resolves with its result. Refused at once
    /// with [`PoolError::Busy`] when the queue is full.
    pub fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<impl Future<Output = Result<T, PoolError>> + Send + 'static, PoolError> {
        let (answer, result) = oneshot::channel();
        let job: Work = Box::new(move || {
            let outcome = catch_unwind(AssertUnwindSafe(work))
                .map_err(|panic| PoolError::Panicked(crate::panics::panic_message(&*panic)));
            let _ = answer.send(outcome);
        });
        match self.queue.try_send(job) {
            Ok(()) => Ok(async move { result.await.map_err(|_| PoolError::Stopped)? }),
            Err(TrySendError::Full(_)) => Err(PoolError::Busy { queue: self.capacity, threads: self.threads }),
            Err(TrySendError::Disconnected(_)) => Err(PoolError::Stopped),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_full_queue_refuses_at_once_and_frees_up_again() {
        let pool = PreparePool::new(1, 1).unwrap();
        let (release, wait) = mpsc::channel::<()>();
        let (started, running) = mpsc::channel::<()>();
        let first = pool
            .submit(move || {
                started.send(()).unwrap();
                wait.recv().unwrap();
                1
            })
            .unwrap();
        running.recv_timeout(Duration::from_secs(10)).unwrap();
        let second = pool.submit(|| 2).unwrap();
        assert!(matches!(pool.submit(|| 3), Err(PoolError::Busy { queue: 1, threads: 1 })));
        release.send(()).unwrap();
        assert_eq!(futures::executor::block_on(first).unwrap(), 1);
        assert_eq!(futures::executor::block_on(second).unwrap(), 2);
        assert_eq!(futures::executor::block_on(pool.submit(|| 4).unwrap()).unwrap(), 4);
    }

    #[test]
    fn a_panic_is_an_answer_and_the_thread_goes_on() {
        let pool = PreparePool::new(1, 4).unwrap();
        let panicked = pool.submit(|| -> u32 { panic!("boom") }).unwrap();
        let answer = futures::executor::block_on(panicked);
        assert!(matches!(&answer, Err(PoolError::Panicked(m)) if m == "boom"), "{answer:?}");
        assert_eq!(futures::executor::block_on(pool.submit(|| 5).unwrap()).unwrap(), 5);
    }
}
