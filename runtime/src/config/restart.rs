//! The restart strategy a configuration names, with Flink's keys. Read
//! (and so checked) with the rest of the configuration; the JobManager's
//! `restart` module applies it.

use std::time::Duration;

use super::{ConfigError, Configuration};

/// How a job reacts to a failed task (`restart-strategy.type`).
#[derive(Debug, Clone, PartialEq)]
pub enum RestartStrategy {
    /// The job fails.
    None,
    /// Restart after `delay`, at most `attempts` times.
    FixedDelay {
        /// `restart-strategy.fixed-delay.attempts`.
        attempts: u32,
        /// `restart-strategy.fixed-delay.delay`.
        delay: Duration,
    },
    /// Restart after a wait that grows by `multiplier` up to `max_backoff`,
    /// back to `initial_backoff` after `reset_threshold` without failure.
    ExponentialDelay {
        /// `restart-strategy.exponential-delay.initial-backoff`.
        initial_backoff: Duration,
        /// `restart-strategy.exponential-delay.max-backoff`.
        max_backoff: Duration,
        /// `restart-strategy.exponential-delay.backoff-multiplier`.
        multiplier: f64,
        /// `restart-strategy.exponential-delay.reset-backoff-threshold`.
        reset_threshold: Duration,
        /// `restart-strategy.exponential-delay.attempts-before-reset-backoff`.
        attempts: u32,
    },
}

impl RestartStrategy {
    /// One line for users, as Flink's `/jobs/:id/config` describes a strategy.
    pub fn describe(&self) -> String {
        match self {
            RestartStrategy::None => "Restart deactivated.".into(),
            RestartStrategy::FixedDelay { attempts, delay } => {
                format!("Restart with fixed delay ({delay:?}). #{attempts} restart attempts.")
            }
            RestartStrategy::ExponentialDelay { initial_backoff, max_backoff, multiplier, .. } => format!(
                "Restart with exponential delay: initial backoff {initial_backoff:?}, max backoff {max_backoff:?}, \
                 multiplier {multiplier}."
            ),
        }
    }

    /// The strategy the configuration names; unset, Flink's default:
    /// `exponential-delay` when checkpointing is enabled, else `none`.
    pub fn from_config(config: &Configuration) -> Result<Self, ConfigError> {
        let kind = config.text("restart-strategy.type").to_ascii_lowercase();
        let kind = match kind.as_str() {
            "" if config.duration("execution.checkpointing.interval")?.is_zero() => "none",
            "" => "exponential-delay",
            other => other,
        };
        Ok(match kind {
            "none" | "off" | "disable" => RestartStrategy::None,
            "fixed-delay" | "fixeddelay" => RestartStrategy::FixedDelay {
                attempts: config.positive_int("restart-strategy.fixed-delay.attempts")?,
                delay: config.duration("restart-strategy.fixed-delay.delay")?,
            },
            "exponential-delay" | "exponentialdelay" => RestartStrategy::ExponentialDelay {
                initial_backoff: config.duration("restart-strategy.exponential-delay.initial-backoff")?,
                max_backoff: config.duration("restart-strategy.exponential-delay.max-backoff")?,
                multiplier: config.multiplier("restart-strategy.exponential-delay.backoff-multiplier")?,
                reset_threshold: config.duration("restart-strategy.exponential-delay.reset-backoff-threshold")?,
                attempts: config.positive_int("restart-strategy.exponential-delay.attempts-before-reset-backoff")?,
            },
            _ => {
                return Err(ConfigError::InvalidValue {
                    key: "restart-strategy.type".into(),
                    value: config.text("restart-strategy.type"),
                    expected: "none, fixed-delay or exponential-delay",
                });
            }
        })
    }
}
