//! A test job for lazy keyed state (`LazyMapState`, `LazyListState`, read
//! through the host's `state` import). Modes (`--mode`):
//!
//! - `carts` (default): lines `user,op,arg` from `--input`, keyed by user.
//!   `add,item=n` adds n to the item's quantity in the user's cart (a lazy
//!   map) and logs it (a lazy list); `remove,item` removes it and prints
//!   `user remove item had=BOOL`; `show` prints `user show CART | N LOG`;
//!   `clear` empties both. At the end of input a timer prints
//!   `user final CART | N LOG` for every user. CART is `item=qty,...` in
//!   the map's iteration order, LOG the list's elements joined by `;`.
//!   Both states iterate with a page size of `--page N` (default 2), so
//!   a few entries already take several host calls. `--digest` prints
//!   LOG as its FNV-1a hash (16 hex digits) instead, to keep lines short.
//! - `misuse`: uses a lazy map in a (non-keyed) map function and calls the
//!   host's `state.scan` import there; prints the errors the guest gets.

use wflink_sdk::prelude::*;

/// A user's cart and the log of what happened to it.
struct Carts {
    items: LazyMapState<String, i64>,
    log: LazyListState<String>,
    /// Print the log as a hash.
    digest: bool,
}

impl Carts {
    /// `CART | N LOG` for the current key, read page by page.
    fn describe(&self) -> Result<String, JobError> {
        let mut cart = Vec::new();
        for entry in self.items.iter()? {
            let (item, qty) = entry?;
            cart.push(format!("{item}={qty}"));
        }
        let log: Vec<String> = self.log.iter()?.collect::<Result<_, _>>()?;
        let log = log.join(";");
        let log = match self.digest {
            true => format!("{:016x}", log.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))),
            false => log,
        };
        Ok(format!("{} | {} {log}", cart.join(","), self.log.len()?))
    }
}

impl KeyedProcessFunction<(String, String, String), String> for Carts {
    fn process_element(&mut self, (user, op, arg): (String, String, String), ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        // Fires once the end of input moves the watermark to the end of time.
        ctx.register_event_time_timer(0)?;
        match op.as_str() {
            "add" => {
                let (item, n) = arg.split_once('=').ok_or_else(|| JobError::user(format!("bad add '{arg}'")))?;
                let n: i64 = n.parse().map_err(|_| JobError::user(format!("bad quantity '{n}'")))?;
                let item = item.to_owned();
                let total = self.items.get(&item)?.unwrap_or(0) + n;
                self.items.put(&item, &total)?;
                self.log.add(&format!("+{n} {item}"))?;
            }
            "remove" => {
                let had = self.items.contains(&arg)?;
                self.items.remove(&arg)?;
                self.log.add(&format!("-{arg}"))?;
                ctx.collect(format!("{user} remove {arg} had={had}"));
            }
            "show" => ctx.collect(format!("{user} show {}", self.describe()?)),
            "clear" => {
                self.items.clear()?;
                self.log.clear()?;
            }
            other => return Err(JobError::user(format!("unknown op '{other}'"))),
        }
        Ok(())
    }

    fn on_timer(&mut self, _timestamp: i64, ctx: &mut Context<'_, String>) -> Result<(), JobError> {
        let user: String = ctx.current_key()?;
        ctx.collect(format!("{user} final {}", self.describe()?));
        Ok(())
    }
}

fn parse(line: String, out: &mut Collector<'_, (String, String, String)>) {
    let mut fields = line.splitn(3, ',');
    if let (Some(user), Some(op)) = (fields.next(), fields.next()) {
        out.collect((user.to_owned(), op.to_owned(), fields.next().unwrap_or_default().to_owned()));
    }
}

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("lazy-state");
    match args.get("mode").unwrap_or("carts") {
        "carts" => {
            let page: u32 = args.get_parsed("page")?.unwrap_or(2);
            // One reader, parser and key selector keep each user's lines in
            // file order (a key-by at a higher parallelism would rebalance them).
            let lines = env.read_text_file(args.required("input")?).set_parallelism(1);
            let carts = Carts {
                items: LazyMapState::new("cart").with_page_size(page),
                log: LazyListState::new("cart-log").with_page_size(page),
                digest: args.flag("digest"),
            };
            lines
                .flat_map(parse)
                .set_parallelism(1)
                .key_by(|r: &(String, String, String)| r.0.clone())
                .set_parallelism(1)
                .process(carts)
                .print();
        }
        "misuse" => {
            let cart = LazyMapState::<String, i64>::new("unkeyed-cart");
            env.datagen(0, 1)
                .map(move |_: u64| {
                    let sdk = match cart.get(&"apple".to_owned()) {
                        Err(e) => format!("sdk: {e}"),
                        Ok(v) => format!("sdk: unexpectedly read {v:?}"),
                    };
                    format!("{sdk} | host: {}", wasm_state_scan())
                })
                .print();
        }
        other => return Err(JobError::invalid_arguments(format!("unknown --mode '{other}'"))),
    }
    Ok(())
}

/// Calls the host's `state.scan` import directly, outside any keyed call.
fn wasm_state_scan() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        use wflink_sdk::__private::bindings::wflink::job::state;
        match state::scan(1, &[], &[], None, 10) {
            Ok(e) => format!("unexpectedly read {} entries", e.state_ids.len()),
            Err(e) => format!("{e:?}"),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    String::new()
}

wflink_sdk::export_job!(build);
