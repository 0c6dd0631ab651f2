//! Fraud detection (finance): transactions `account_id,timestamp_ms,amount`;
//! flags an account when a transaction under 1.00 is followed within 60 s
//! (event time) by one over 500.00, printing `FRAUD account_id timestamp_ms`.
//! See README.md for the exact rules.
//!
//! ```text
//! --input PATH | --hostname HOST --port PORT   where transactions come from
//! --output DIR                                 alerts/ and malformed/ under DIR (default: print)
//! --strict                                     fail on the first malformed line
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wflink_sdk::prelude::*;

/// A small transaction arms the flag...
const SMALL_CENTS: u64 = 100;
/// ...a large one within this window trips it.
const LARGE_CENTS: u64 = 50_000;
const WINDOW_MS: i64 = 60_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Transaction {
    account: String,
    timestamp: i64,
    cents: u64,
}

/// Parses `account_id,timestamp_ms,amount` with amount `D+[.D{1,2}]`.
fn parse(line: &str) -> Option<Transaction> {
    let mut fields = line.trim().split(',');
    let (account, timestamp, amount) = (fields.next()?, fields.next()?, fields.next()?);
    if fields.next().is_some() || account.is_empty() {
        return None;
    }
    Some(Transaction { account: account.to_owned(), timestamp: timestamp.trim().parse().ok()?, cents: cents(amount.trim())? })
}

/// `12.5` → 1250 cents; at most two decimals, no sign.
fn cents(amount: &str) -> Option<u64> {
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (amount.contains('.') && !digits(fraction)) || fraction.len() > 2 {
        return None;
    }
    let fraction: u64 = format!("{fraction:0<2}").parse().ok()?;
    whole.parse::<u64>().ok()?.checked_mul(100)?.checked_add(fraction)
}

/// Flink's fraud detector, in event time: transactions wait in `pending`
/// until the watermark passes them, then are checked in timestamp order.
/// `armed_at` holds the time of the last small transaction; a timer at
/// `armed_at + 60 s` clears it (state + event-time timer, as in Flink's
/// fraud detection walkthrough).
struct FraudDetector {
    pending: MapState<i64, Vec<u64>>,
    armed_at: ValueState<i64>,
}

impl KeyedProcessFunction<Transaction, String> for FraudDetector {
    fn process_element(&mut self, t: Transaction, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        if t.timestamp <= ctx.current_watermark() {
            return Ok(()); // Too late to be checked in order.
        }
        let mut at = self.pending.get(&t.timestamp)?.unwrap_or_default();
        at.push(t.cents);
        self.pending.put(&t.timestamp, &at)?;
        ctx.register_event_time_timer(t.timestamp)?;
        Ok(())
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        if let Some(mut amounts) = self.pending.get(&timestamp)? {
            self.pending.remove(&timestamp)?;
            amounts.sort_unstable();
            for cents in amounts {
                let armed = self.armed_at.value()?;
                if cents > LARGE_CENTS && armed.is_some_and(|at| timestamp - at <= WINDOW_MS) {
                    let account: String = ctx.current_key()?;
                    ctx.collect(format!("FRAUD {account} {timestamp}"));
                    self.armed_at.clear()?;
                }
                if cents < SMALL_CENTS {
                    // An older flag's timer stays: it may also be a
                    // transaction's timer, and finds nothing to clear.
                    self.armed_at.update(&timestamp)?;
                    ctx.register_event_time_timer(timestamp + WINDOW_MS)?;
                }
            }
        }
        // The flag's own timer: 60 s after the small transaction.
        if self.armed_at.value()?.is_some_and(|at| timestamp >= at + WINDOW_MS) {
            self.armed_at.clear()?;
        }
        Ok(())
    }
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("fraud-detection");
    let output = args.get("output").map(str::to_owned);
    let to = |sub: &str| output.as_ref().map(|dir| format!("{dir}/{sub}"));
    let strict = args.flag("strict");
    let malformed = OutputTag::<String>::new("malformed");
    let tag = malformed.clone();
    let transactions = env
        .read_text_input(args)?
        .process(move |line: String, ctx: &mut Context<'_, Transaction>| {
            match parse(&line) {
                Some(t) => ctx.collect(t),
                None if strict => return Err(JobError::user(format!("malformed transaction '{line}'"))),
                None => {
                    wflink_sdk::metrics::counter_add("malformed-lines", 1);
                    ctx.output(&tag, format!("MALFORMED {line}"));
                }
            }
            Ok(())
        })
        .name("parse");
    transactions.get_side_output(&malformed).print_or_write(to("malformed"));
    transactions
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_secs(5)),
            |t: &Transaction| t.timestamp,
        )
        .key_by(|t: &Transaction| t.account.clone())
        .process(FraudDetector { pending: MapState::new("pending"), armed_at: ValueState::new("armed-at") })
        .name("fraud-detector")
        .print_or_write(to("alerts"));
    Ok(())
}

wflink_sdk::export_job!(build);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_cents() {
        assert_eq!(cents("0.99"), Some(99));
        assert_eq!(cents("500.01"), Some(50_001));
        assert_eq!(cents("500"), Some(50_000));
        assert_eq!(cents("1.5"), Some(150));
        assert_eq!(cents("1.234"), None);
        assert_eq!(cents("-3"), None);
        assert_eq!(cents("abc"), None);
        assert!(parse("a1,notatime,3.00").is_none());
    }
}
