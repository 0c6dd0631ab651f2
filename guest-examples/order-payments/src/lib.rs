//! Order payments (e-commerce): orders `order_id,customer,timestamp_ms,amount`
//! and payments `payment_id,order_id,timestamp_ms,amount`, joined on the
//! order id by an interval join: a payment counts when it comes within
//! 15 minutes of its order (`between(0, 15 min)`). Orders without such a
//! payment leave on a side output once their 15 minutes have passed (the
//! watermark says so), and so do payments that met no order. See
//! README.md for the exact rules.
//!
//! ```text
//! --orders PATH      the orders (a file or a directory)
//! --payments PATH    the payments (a file or a directory)
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wflink_sdk::prelude::*;

/// How long after its order a payment still counts.
const PAY_WITHIN_MS: i64 = 15 * 60 * 1000;

/// How far records may come out of timestamp order, per input.
const OUT_OF_ORDERNESS: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Order {
    id: String,
    customer: String,
    timestamp: i64,
    /// As written in the input (`25.00` stays `25.00`).
    amount: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Payment {
    id: String,
    order: String,
    timestamp: i64,
    amount: String,
}

/// The four comma-separated fields of a line, the third an integer
/// timestamp; `None` when the line is malformed.
fn fields(line: &str) -> Option<(String, String, i64, String)> {
    let parts: Vec<&str> = line.trim().split(',').map(str::trim).collect();
    let [first, second, timestamp, amount] = parts.as_slice() else {
        return None;
    };
    if first.is_empty() || second.is_empty() || amount.is_empty() {
        return None;
    }
    Some((first.to_string(), second.to_string(), timestamp.parse().ok()?, amount.to_string()))
}

/// Reads the lines at `path`, parses them with `parse`, and sends the
/// malformed ones to `malformed` as `MALFORMED <what>: <line>`.
fn read<T: Data>(
    env: &mut StreamExecutionEnvironment,
    path: &str,
    what: &'static str,
    malformed: &OutputTag<String>,
    parse: fn(String, String, i64, String) -> T,
) -> DataStream<T> {
    let tag = malformed.clone();
    env.read_text_file(path)
        .process(move |line: String, ctx: &mut Context<'_, T>| {
            match fields(&line) {
                Some((a, b, ts, amount)) => ctx.collect(parse(a, b, ts, amount)),
                None => ctx.output(&tag, format!("MALFORMED {what}: {line}")),
            }
            Ok(())
        })
        .name(format!("parse {what}"))
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("order-payments");
    let strategy = WatermarkStrategy::for_bounded_out_of_orderness(OUT_OF_ORDERNESS);
    let bad_orders = OutputTag::<String>::new("malformed-orders");
    let bad_payments = OutputTag::<String>::new("malformed-payments");
    let orders = read(env, args.required("orders")?, "order", &bad_orders, |id, customer, timestamp, amount| Order {
        id,
        customer,
        timestamp,
        amount,
    });
    let payments = read(env, args.required("payments")?, "payment", &bad_payments, |id, order, timestamp, amount| {
        Payment { id, order, timestamp, amount }
    });
    orders.get_side_output(&bad_orders).print();
    payments.get_side_output(&bad_payments).print();
    let orders = orders.assign_timestamps_and_watermarks(strategy, |o: &Order| o.timestamp);
    let payments = payments.assign_timestamps_and_watermarks(strategy, |p: &Payment| p.timestamp);

    let unpaid = OutputTag::<Order>::new("unpaid");
    let stray = OutputTag::<Payment>::new("unmatched-payments");
    let paid = orders
        .key_by(|o: &Order| o.id.clone())
        .interval_join(payments.key_by(|p: &Payment| p.order.clone()))
        .between(0, PAY_WITHIN_MS)?
        .side_output_left_unmatched(&unpaid)
        .side_output_right_unmatched(&stray)
        .process(|o: Order, p: Payment, ctx: &mut Context<'_, String>| {
            let after = (p.timestamp - o.timestamp) / 1000;
            ctx.collect(format!("PAID {} {} {} by {} after {after} s", o.id, o.customer, o.amount, p.id));
            Ok(())
        })
        .uid("pay-within-15-minutes");
    paid.get_side_output(&unpaid).map(|o: Order| format!("UNPAID {} {} {}", o.id, o.customer, o.amount)).print();
    paid.get_side_output(&stray).map(|p: Payment| format!("UNMATCHED {} for {}", p.id, p.order)).print();
    paid.print();
    Ok(())
}

wflink_sdk::export_job!(build);
