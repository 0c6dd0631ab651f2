//! Click counts (marketing): page views `user,page,timestamp_ms`; views per
//! page in sliding event-time windows of 60 s every 10 s, and the top pages
//! of each window. See README.md for the exact output.
//!
//! ```text
//! --input PATH | --hostname HOST --port PORT   where page views come from
//! --output DIR                                 top/ and malformed/ under DIR (default: print)
//! --top N                                      pages per window (default 3)
//! --strict                                     fail on the first malformed line
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wflink_sdk::prelude::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct View {
    page: String,
    timestamp: i64,
}

/// The count of one page in one window.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PageCount {
    start: i64,
    end: i64,
    page: String,
    count: u64,
}

fn parse(line: &str) -> Option<View> {
    let mut fields = line.trim().split(',');
    let (user, page, timestamp) = (fields.next()?, fields.next()?, fields.next()?);
    if fields.next().is_some() || user.is_empty() || page.is_empty() {
        return None;
    }
    Some(View { page: page.to_owned(), timestamp: timestamp.trim().parse().ok()? })
}

/// Counts views.
struct Count;

impl AggregateFunction for Count {
    type In = View;
    type Acc = u64;
    type Out = u64;
    fn create_accumulator(&mut self) -> u64 {
        0
    }
    fn add(&mut self, _: View, acc: u64) -> u64 {
        acc + 1
    }
    fn get_result(&mut self, acc: u64) -> u64 {
        acc
    }
    fn merge(&mut self, a: u64, b: u64) -> u64 {
        a + b
    }
}

/// Collects the page counts of a window (keyed by the window's end) and
/// emits its top pages once the watermark says every count has arrived.
struct TopPages {
    counts: ListState<(String, u64)>,
    start: ValueState<i64>,
    top: usize,
}

impl KeyedProcessFunction<PageCount, String> for TopPages {
    fn process_element(&mut self, c: PageCount, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        self.counts.add(&(c.page, c.count))?;
        self.start.update(&c.start)?;
        // Counts of a window carry its last millisecond; once the watermark
        // passes it, every page's count of the window is here.
        ctx.register_event_time_timer(c.end - 1)?;
        Ok(())
    }

    fn on_timer(&mut self, timestamp: i64, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        let mut counts = self.counts.get()?;
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let start = self.start.value()?.unwrap_or_default();
        let top: Vec<String> = counts.iter().take(self.top).map(|(page, n)| format!("{page}={n}")).collect();
        ctx.collect(format!("{start},{},{}", timestamp + 1, top.join(" ")));
        self.counts.clear()?;
        self.start.clear()?;
        Ok(())
    }
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("click-counts");
    let output = args.get("output").map(str::to_owned);
    let to = |sub: &str| output.as_ref().map(|dir| format!("{dir}/{sub}"));
    let strict = args.flag("strict");
    let top: usize = args.get_parsed("top")?.unwrap_or(3);
    if top == 0 {
        return Err(JobError::invalid_arguments("--top must be at least 1"));
    }
    let malformed = OutputTag::<String>::new("malformed");
    let tag = malformed.clone();
    let views = env
        .read_text_input(args)?
        .process(move |line: String, ctx: &mut Context<'_, View>| {
            match parse(&line) {
                Some(view) => ctx.collect(view),
                None if strict => return Err(JobError::user(format!("malformed page view '{line}'"))),
                None => {
                    wflink_sdk::metrics::counter_add("malformed-lines", 1);
                    ctx.output(&tag, format!("MALFORMED {line}"));
                }
            }
            Ok(())
        })
        .name("parse");
    views.get_side_output(&malformed).print_or_write(to("malformed"));
    views
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_secs(5)),
            |v: &View| v.timestamp,
        )
        .key_by(|v: &View| v.page.clone())
        .window(SlidingEventTimeWindows::of(Duration::from_secs(60), Duration::from_secs(10)))
        .aggregate_with(Count, |page: &String, w: &TimeWindow, count: u64, out: &mut Collector<'_, PageCount>| {
            out.collect(PageCount { start: w.start, end: w.end, page: page.clone(), count });
        })
        .name("views-per-page")
        .key_by(|c: &PageCount| c.end)
        .process(TopPages { counts: ListState::new("page-counts"), start: ValueState::new("window-start"), top })
        .name("top-pages")
        .print_or_write(to("top"));
    Ok(())
}

wflink_sdk::export_job!(build);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_views() {
        assert_eq!(parse("u1,/home,1000").unwrap().page, "/home");
        assert!(parse("u1,/home").is_none());
        assert!(parse("u1,/home,later").is_none());
    }
}
