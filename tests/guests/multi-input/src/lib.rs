//! A test job of several inputs. Every input file has lines
//! `key,timestamp_ms,amount`; `--a`, `--b` (and `--c`) name them, and
//! `--output DIR` writes to files instead of printing. Modes (`--mode`):
//!
//! - `union`: the records of `a`, `b` and `c` merged, then a running sum
//!   of the amounts per key: prints `(key,sum)` after each record.
//! - `union-socket`: the records of `a` merged with the lines of a socket
//!   at `127.0.0.1:--port` (same format), then the running sum per key as
//!   in `union`: a bounded source beside an unbounded one.
//! - `co-map`: `a` connected with `b`, a CoMap: `A key amount` for each
//!   record of `a`, `B key amount` for each of `b`.
//! - `co-flat-map`: a CoFlatMap: each record of `a` becomes as many
//!   `A key i` lines as its amount modulo 3; each of `b` one `B key`.
//! - `co-process`: a CoProcessFunction: records of `a` with an amount
//!   above 50 go to the side output `big` (`BIG key amount`), the others
//!   to the main output (`A key amount`; with `--output DIR`, the side
//!   output goes to `DIR/big`); records of `b` print
//!   `B key timestamp`, with the timestamp the function sees.
//! - `keyed`: both inputs get event time (bounded out-of-orderness of
//!   2 s) and are keyed by `key`; a KeyedCoProcessFunction keeps, per key
//!   and 10 s window, the sum of `a`'s amounts and the count of `b`'s
//!   records in one map state, and when the window's event timer fires it
//!   prints `key,window_end,sum_a,count_b`. A record the watermark has
//!   already passed prints `LATE key timestamp` instead.
//! - `partition`: the lines of `a`, read at parallelism `--up N` (1),
//!   travel by `--strategy` (`rebalance`, `rescale`, `shuffle`,
//!   `broadcast`, `global`, `forward`, `custom` or `custom-out-of-range`)
//!   to a map at the job's parallelism, which passes them on unchanged.
//!   `custom` is a `partition_custom` sending key `kN` to subtask
//!   `N mod parallelism`; `custom-out-of-range` picks partition
//!   `parallelism`, one too many.
//! - `broadcast`: `b`, read at parallelism 1, is broadcast with the map
//!   state `limits` (key → amount) to a BroadcastProcessFunction on `a`:
//!   each record of `b` sets its key's limit and prints, in every
//!   subtask, `B key amount size=N` (N: the state's entries after it);
//!   each record of `a` prints `A key amount limit=L`, L its key's limit
//!   as that subtask knew it (`none` before any).
//! - `apply-keyed`: `a` keyed by key, connected to the lines of a socket
//!   at `127.0.0.1:--port` (read at parallelism 1) broadcast with the map
//!   state `commands`, into a KeyedBroadcastProcessFunction: each record
//!   of `a` adds its amount to its key's `sum` and prints `A key amount`;
//!   a socket line with the key `double` doubles every key's sum
//!   (`apply_to_keyed_state`) and prints `DOUBLED n=K` once per subtask,
//!   K the keys it visited; `flush` prints `FLUSH key sum` for every key,
//!   clears it, then prints `FLUSHED n=K`.

use std::time::Duration;

use wflink_sdk::prelude::*;

type Rec = (String, i64, i64);

fn parse(line: String, out: &mut Collector<'_, Rec>) {
    let mut fields = line.split(',');
    if let (Some(key), Some(Ok(ts)), Some(Ok(amount))) =
        (fields.next(), fields.next().map(str::parse), fields.next().map(str::parse))
    {
        out.collect((key.to_owned(), ts, amount));
    }
}

/// The number `N` of a line's key `kN` (0 if it has none).
fn key_number(line: &String) -> u64 {
    line.split(',').next().and_then(|key| key.strip_prefix('k')).and_then(|n| n.parse().ok()).unwrap_or(0)
}

const WINDOW_MS: i64 = 10_000;

/// Sums `a` and counts `b` per key and window; both inputs share the state.
struct WindowTotals {
    totals: MapState<i64, (i64, i64)>,
}

impl WindowTotals {
    fn add(&mut self, r: &Rec, sum: i64, count: i64, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        if r.1 <= ctx.current_watermark() {
            ctx.collect(format!("LATE {} {}", r.0, r.1));
            return Ok(());
        }
        let end = r.1 - r.1.rem_euclid(WINDOW_MS) + WINDOW_MS - 1;
        let (s, c) = self.totals.get(&end)?.unwrap_or((0, 0));
        self.totals.put(&end, &(s + sum, c + count))?;
        ctx.register_event_time_timer(end)?;
        Ok(())
    }
}

impl KeyedCoProcessFunction<Rec, Rec, String> for WindowTotals {
    fn process_element1(&mut self, r: Rec, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        self.add(&r, r.2, 0, ctx)
    }

    fn process_element2(&mut self, r: Rec, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        self.add(&r, 0, 1, ctx)
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        let key: String = ctx.current_key()?;
        if let Some((sum, count)) = self.totals.get(&timestamp)? {
            self.totals.remove(&timestamp)?;
            ctx.collect(format!("{key},{timestamp},{sum},{count}"));
        }
        Ok(())
    }
}

/// Keeps the latest amount of each key of `b` in broadcast state; `a` reads it.
struct Limits {
    limits: MapStateDescriptor<String, i64>,
}

impl BroadcastProcessFunction<Rec, Rec, String> for Limits {
    fn process_element(&mut self, r: Rec, ctx: &mut ReadOnlyBroadcastContext<'_, String>) -> Result<(), JobError> {
        let limit = ctx.broadcast_state(&self.limits).get(&r.0)?.map_or("none".to_owned(), |l| l.to_string());
        ctx.collect(format!("A {} {} limit={limit}", r.0, r.2));
        Ok(())
    }

    fn process_broadcast_element(&mut self, r: Rec, ctx: &mut BroadcastContext<'_, String>) -> Result<(), JobError> {
        let mut limits = ctx.broadcast_state(&self.limits);
        limits.put(&r.0, &r.2)?;
        let size = limits.len();
        ctx.collect(format!("B {} {} size={size}", r.0, r.2));
        Ok(())
    }
}

/// Sums `a` per key; commands from the broadcast input reach every key's sum.
struct Commands {
    sum: ValueState<i64>,
}

impl KeyedBroadcastProcessFunction<Rec, Rec, String> for Commands {
    fn process_element(&mut self, r: Rec, ctx: &mut ReadOnlyBroadcastContext<'_, String>) -> Result<(), JobError> {
        self.sum.update(&(self.sum.value()?.unwrap_or(0) + r.2))?;
        ctx.collect(format!("A {} {}", r.0, r.2));
        Ok(())
    }

    fn process_broadcast_element(&mut self, r: Rec, ctx: &mut BroadcastContext<'_, String>) -> Result<(), JobError> {
        let mut lines = Vec::new();
        match r.0.as_str() {
            "double" => {
                let visited = ctx.apply_to_keyed_state(&self.sum, |_: String, sum| {
                    Ok(sum.update(&(sum.value()?.unwrap_or(0) * 2))?)
                })?;
                lines.push(format!("DOUBLED n={visited}"));
            }
            "flush" => {
                let visited = ctx.apply_to_keyed_state(&self.sum, |key: String, sum| {
                    lines.push(format!("FLUSH {key} {}", sum.value()?.unwrap_or(0)));
                    Ok(sum.clear()?)
                })?;
                lines.push(format!("FLUSHED n={visited}"));
            }
            _ => {}
        }
        lines.into_iter().for_each(|line| ctx.collect(line));
        Ok(())
    }
}

/// Routes big amounts of `a` to a side output.
struct Router {
    big: OutputTag<String>,
}

impl CoProcessFunction<Rec, Rec, String> for Router {
    fn process_element1(&mut self, r: Rec, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        match r.2 > 50 {
            true => ctx.output(&self.big, format!("BIG {} {}", r.0, r.2)),
            false => ctx.collect(format!("A {} {}", r.0, r.2)),
        }
        Ok(())
    }

    fn process_element2(&mut self, r: Rec, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        ctx.collect(format!("B {} {}", r.0, ctx.timestamp().unwrap_or(-1)));
        Ok(())
    }
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("multi-input");
    let output = args.get("output").map(str::to_owned);
    if args.required("mode")? == "partition" {
        let up = args.get_parsed::<u32>("up")?.unwrap_or(1);
        let lines = env.read_text_file(args.required("a")?).set_parallelism(up);
        let lines = match args.required("strategy")? {
            "rebalance" => lines.rebalance(),
            "rescale" => lines.rescale(),
            "shuffle" => lines.shuffle(),
            "broadcast" => lines.broadcast(),
            "global" => lines.global(),
            "forward" => lines.forward(),
            "custom" => {
                lines.partition_custom(|n: &u64, partitions: usize| (*n % partitions as u64) as usize, key_number)
            }
            "custom-out-of-range" => lines.partition_custom(|_: &u64, partitions: usize| partitions, key_number),
            other => return Err(JobError::InvalidArguments(format!("unknown strategy {other}"))),
        };
        lines.map(|line: String| line).print_or_write(output);
        return Ok(());
    }
    if args.required("mode")? == "broadcast" {
        let limits = MapStateDescriptor::<String, i64>::new("limits");
        let b = env.read_text_file(args.required("b")?).set_parallelism(1).flat_map(parse).set_parallelism(1);
        let a = env.read_text_file(args.required("a")?).flat_map(parse);
        a.connect(b.broadcast_state(&limits)).process(Limits { limits }).print_or_write(output);
        return Ok(());
    }
    let a = env.read_text_file(args.required("a")?).flat_map(parse);
    if args.required("mode")? == "apply-keyed" {
        let port = args.get_parsed::<u16>("port")?.ok_or_else(|| JobError::InvalidArguments("--port".into()))?;
        let commands = MapStateDescriptor::<String, i64>::new("commands");
        let socket = env.socket_text_stream("127.0.0.1", port).flat_map(parse).set_parallelism(1);
        a.key_by(|r: &Rec| r.0.clone())
            .connect(socket.broadcast_state(&commands))
            .process(Commands { sum: ValueState::new("sum") })
            .print_or_write(output);
        return Ok(());
    }
    if args.required("mode")? == "union-socket" {
        let port = args.get_parsed::<u16>("port")?.ok_or_else(|| JobError::InvalidArguments("--port".into()))?;
        let socket = env.socket_text_stream("127.0.0.1", port).flat_map(parse);
        a.union([socket])
            .map(|r: Rec| (r.0, r.2))
            .key_by(|r: &(String, i64)| r.0.clone())
            .sum_by(|r| &mut r.1)
            .print_or_write(output);
        return Ok(());
    }
    let b = env.read_text_file(args.required("b")?).flat_map(parse);
    match args.required("mode")? {
        "union" => {
            let c = env.read_text_file(args.required("c")?).flat_map(parse);
            a.union([b, c])
                .map(|r: Rec| (r.0, r.2))
                .key_by(|r: &(String, i64)| r.0.clone())
                .sum_by(|r| &mut r.1)
                .print_or_write(output);
        }
        "co-map" => {
            a.connect(b)
                .map(|r: Rec| format!("A {} {}", r.0, r.2), |r: Rec| format!("B {} {}", r.0, r.2))
                .print_or_write(output);
        }
        "co-flat-map" => {
            let each_a = |r: Rec, out: &mut Collector<'_, String>| {
                (0..r.2 % 3).for_each(|i| out.collect(format!("A {} {i}", r.0)));
            };
            let each_b = |r: Rec, out: &mut Collector<'_, String>| out.collect(format!("B {}", r.0));
            a.connect(b).flat_map(each_a, each_b).print_or_write(output);
        }
        "co-process" => {
            let big = OutputTag::<String>::new("big");
            let b = b.assign_timestamps_and_watermarks(WatermarkStrategy::for_monotonous_timestamps(), |r: &Rec| r.1);
            let routed = a.connect(b).process(Router { big: big.clone() });
            routed.get_side_output(&big).print_or_write(output.as_ref().map(|dir| format!("{dir}/big")));
            routed.print_or_write(output);
        }
        "keyed" => {
            let strategy = WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_secs(2));
            let a = a.assign_timestamps_and_watermarks(strategy.clone(), |r: &Rec| r.1);
            let b = b.assign_timestamps_and_watermarks(strategy, |r: &Rec| r.1);
            let totals = WindowTotals { totals: MapState::new("totals") };
            a.connect(b)
                .key_by(|r: &Rec| r.0.clone(), |r: &Rec| r.0.clone())
                .process(totals)
                .uid("window-totals")
                .print_or_write(output);
        }
        other => return Err(JobError::InvalidArguments(format!("unknown mode {other}"))),
    }
    Ok(())
}

wflink_sdk::export_job!(build);
