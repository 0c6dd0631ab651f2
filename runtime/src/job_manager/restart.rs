//! Restart strategies with Flink's names and keys: what a JobManager does
//! when a task fails (a trap in a guest, a lost TaskManager): fail the job
//! (`none`), or restart it from the latest completed checkpoint after a
//! delay, a bounded number of times (`fixed-delay`, `exponential-delay`).

use std::time::{Duration, Instant};

use crate::config::RestartStrategy;

/// A job's restart budget: how many restarts it had and when it last failed.
#[derive(Debug)]
pub struct RestartBackoff {
    strategy: RestartStrategy,
    /// Restarts so far (counted since the last reset for exponential-delay).
    restarts: u32,
    /// The wait of the next exponential-delay restart.
    next_backoff: Duration,
    last_failure: Option<Instant>,
}

impl RestartBackoff {
    /// A fresh budget for `strategy`.
    pub fn new(strategy: RestartStrategy) -> Self {
        let next_backoff = match &strategy {
            RestartStrategy::ExponentialDelay { initial_backoff, .. } => *initial_backoff,
            _ => Duration::ZERO,
        };
        RestartBackoff { strategy, restarts: 0, next_backoff, last_failure: None }
    }

    /// A task failed at `now`: the delay before the restart, or `None`
    /// when the strategy gives up (then the job fails).
    pub fn on_failure(&mut self, now: Instant) -> Option<Duration> {
        let since_last = self.last_failure.map(|at| now.saturating_duration_since(at));
        self.last_failure = Some(now);
        match &self.strategy {
            RestartStrategy::None => None,
            RestartStrategy::FixedDelay { attempts, delay } => (self.restarts < *attempts).then(|| {
                self.restarts += 1;
                *delay
            }),
            RestartStrategy::ExponentialDelay {
                initial_backoff,
                max_backoff,
                multiplier,
                reset_threshold,
                attempts,
            } => {
                if since_last.is_some_and(|quiet| quiet >= *reset_threshold) {
                    self.restarts = 0;
                    self.next_backoff = *initial_backoff;
                }
                if self.restarts >= *attempts {
                    return None;
                }
                self.restarts += 1;
                let delay = self.next_backoff.min(*max_backoff);
                self.next_backoff = self.next_backoff.mul_f64(*multiplier).min(*max_backoff);
                Some(delay)
            }
        }
    }

    /// Restarts so far.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, Configuration};

    fn strategy(overrides: &[&str]) -> Result<RestartStrategy, ConfigError> {
        RestartStrategy::from_config(&Configuration::default().with_overrides(overrides)?)
    }

    #[test]
    fn flink_defaults_depend_on_checkpointing() {
        assert_eq!(strategy(&[]).unwrap(), RestartStrategy::None);
        assert!(matches!(
            strategy(&["execution.checkpointing.interval=1 s"]).unwrap(),
            RestartStrategy::ExponentialDelay { .. }
        ));
        let err = strategy(&["restart-strategy.type=sometimes"]).unwrap_err().to_string();
        assert!(err.contains("restart-strategy.type") && err.contains("sometimes"), "{err}");
    }

    #[test]
    fn fixed_delay_gives_up_after_its_attempts() {
        let s = strategy(&[
            "restart-strategy.type=fixed-delay",
            "restart-strategy.fixed-delay.attempts=2",
            "restart-strategy.fixed-delay.delay=200 ms",
        ]);
        let mut backoff = RestartBackoff::new(s.unwrap());
        let now = Instant::now();
        assert_eq!(backoff.on_failure(now), Some(Duration::from_millis(200)));
        assert_eq!(backoff.on_failure(now), Some(Duration::from_millis(200)));
        assert_eq!(backoff.on_failure(now), None);
        assert_eq!(RestartBackoff::new(RestartStrategy::None).on_failure(now), None);
    }

    #[test]
    fn exponential_delay_grows_caps_and_resets() {
        let s = strategy(&[
            "restart-strategy.type=exponential-delay",
            "restart-strategy.exponential-delay.initial-backoff=100 ms",
            "restart-strategy.exponential-delay.max-backoff=300 ms",
            "restart-strategy.exponential-delay.backoff-multiplier=2",
            "restart-strategy.exponential-delay.reset-backoff-threshold=10 s",
        ]);
        let mut backoff = RestartBackoff::new(s.unwrap());
        let start = Instant::now();
        let delays: Vec<_> = (0..4).map(|_| backoff.on_failure(start).unwrap().as_millis()).collect();
        assert_eq!(delays, [100, 200, 300, 300]);
        assert_eq!(backoff.on_failure(start + Duration::from_secs(11)), Some(Duration::from_millis(100)));
        let err = strategy(&[
            "restart-strategy.type=exponential-delay",
            "restart-strategy.exponential-delay.backoff-multiplier=0.5",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("backoff-multiplier"), "{err}");
    }
}
