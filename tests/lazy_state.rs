//! Lazy keyed state through the real binary: a keyed process function
//! keeps a `LazyMapState` and a `LazyListState` that never travel with the
//! batch; it reads them through the host's `state` import (entry by entry
//! and in pages), sees its own writes within a call, and finds them stored
//! in later calls. Used outside a keyed context, it gets an error back.

use std::collections::BTreeMap;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use crate::common::*;

const LIMIT: Duration = Duration::from_secs(120);

/// Runs the carts mode on `input` and returns its stdout lines (read as
/// they come, so a long output never blocks the job on a full pipe).
fn run_carts(name: &str, input: &str, parallelism: &str, extra: &[&str]) -> String {
    let dir = scratch(name);
    let path = dir.join("ops.txt");
    std::fs::write(&path, input).unwrap();
    let mut command = wflink();
    command.args(["run", "--local", "-p", parallelism]).arg(test_guest("lazy-state"));
    command.args(["--mode", "carts", "--input"]).arg(&path).args(extra);
    let mut running = Running::start(command);
    let mut stdout = String::new();
    let deadline = Instant::now() + LIMIT;
    loop {
        match running.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                stdout.push_str(&line);
                stdout.push('\n');
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => panic!("the carts job did not end within {LIMIT:?}"),
        }
    }
    running.wait_success(LIMIT);
    stdout
}

const CARTS: &str = "alice,add,apple=3\nbob,add,pear=1\nalice,add,kiwi=2\nalice,add,apple=1\nalice,show\n\
bob,remove,apple\nalice,remove,kiwi\nalice,add,banana=5\nalice,show\nbob,add,fig=7\ncarol,add,x=1\n\
carol,clear\ncarol,add,y=2\nbob,show\n";

/// Map entries come in the order of their MessagePack encodings (short
/// strings: by length, then bytes), lists in insertion order; `remove`
/// knows what is stored; the final lines are read by timers in a later
/// call, from what the host stored. Same at parallelism 1 and 2.
#[test]
fn a_lazy_map_and_list_give_exact_results_at_parallelism_1_and_2() {
    let mut expected = vec![
        "alice show kiwi=2,apple=4 | 3 +3 apple;+2 kiwi;+1 apple",
        "alice remove kiwi had=true",
        "alice show apple=4,banana=5 | 5 +3 apple;+2 kiwi;+1 apple;-kiwi;+5 banana",
        "alice final apple=4,banana=5 | 5 +3 apple;+2 kiwi;+1 apple;-kiwi;+5 banana",
        "bob remove apple had=false",
        "bob show fig=7,pear=1 | 3 +1 pear;-apple;+7 fig",
        "bob final fig=7,pear=1 | 3 +1 pear;-apple;+7 fig",
        "carol final y=2 | 1 +2 y",
    ];
    expected.sort();
    for p in ["1", "2"] {
        let stdout = run_carts(&format!("lazy-carts-p{p}"), CARTS, p, &[]);
        assert_eq!(sorted_lines(&stdout), expected, "at parallelism {p}");
    }
}

/// FNV-1a, 64 bits: the guest's `--digest` of a log.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// A cart in the model: its items (name, quantity) and its log lines.
type Cart = (Vec<(String, i64)>, Vec<String>);

/// What the guest must print for `input` with `--digest`, computed by plain Rust.
fn model(input: &str) -> BTreeMap<String, Vec<String>> {
    let mut carts: BTreeMap<String, Cart> = BTreeMap::new();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let describe = |(items, log): &Cart| {
        let mut items = items.clone();
        // The MessagePack order of short strings: length, then bytes.
        items.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
        let cart: Vec<String> = items.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{} | {} {:016x}", cart.join(","), log.len(), fnv1a(&log.join(";")))
    };
    for line in input.lines() {
        let mut fields = line.splitn(3, ',');
        let (user, op, arg) = (fields.next().unwrap(), fields.next().unwrap(), fields.next().unwrap_or(""));
        let cart = carts.entry(user.to_owned()).or_default();
        let lines = out.entry(user.to_owned()).or_default();
        match op {
            "add" => {
                let (item, n) = arg.split_once('=').unwrap();
                let n: i64 = n.parse().unwrap();
                match cart.0.iter_mut().find(|(k, _)| k == item) {
                    Some((_, v)) => *v += n,
                    None => cart.0.push((item.to_owned(), n)),
                }
                cart.1.push(format!("+{n} {item}"));
            }
            "remove" => {
                let had = cart.0.iter().any(|(k, _)| k == arg);
                cart.0.retain(|(k, _)| k != arg);
                cart.1.push(format!("-{arg}"));
                lines.push(format!("{user} remove {arg} had={had}"));
            }
            "show" => lines.push(format!("{user} show {}", describe(cart))),
            "clear" => *cart = Default::default(),
            _ => unreachable!(),
        }
    }
    for (user, cart) in &carts {
        out.get_mut(user).unwrap().push(format!("{user} final {}", describe(cart)));
    }
    out
}

/// Thousands of operations over several source batches at parallelism 2:
/// each user's lines, in order, match a plain-Rust model, so reads in
/// later calls see what earlier calls stored, across many pages.
#[test]
fn many_batches_of_lazy_state_match_a_plain_rust_model() {
    let mut input = String::new();
    let mut seed = 12345u64;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for i in 0..12_000 {
        let user = format!("u{}", next(8));
        let item = format!("item{}", next(30));
        let line = match (i % 997, next(10)) {
            (996, _) => format!("{user},show"),
            (_, 0..=6) => format!("{user},add,{item}={}", next(9) + 1),
            (_, 7 | 8) => format!("{user},remove,{item}"),
            _ if next(40) == 0 => format!("{user},clear"),
            _ => format!("{user},add,{item}=1"),
        };
        input.push_str(&line);
        input.push('\n');
    }
    let stdout = run_carts("lazy-carts-many", &input, "2", &["--page", "16", "--digest"]);
    let mut got: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in stdout.lines().filter(|l| !l.is_empty()) {
        let line = line.split_once("> ").map_or(line, |(_, rest)| rest);
        let user = line.split(' ').next().unwrap().to_owned();
        got.entry(user).or_default().push(line.to_owned());
    }
    let expected = model(&input);
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    for (user, lines) in &expected {
        assert_eq!(&got[user], lines, "lines of {user}");
    }
}

/// A lazy map used in a map function gets `NoKeyedContext` from the SDK,
/// and the host's `scan` import called there returns the same error to
/// the guest instead of failing the task.
#[test]
fn lazy_state_outside_a_keyed_context_is_an_error_for_the_guest() {
    let mut command = wflink();
    command.args(["run", "--local"]).arg(test_guest("lazy-state")).args(["--mode", "misuse"]);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "sdk: keyed state accessed outside a keyed context (use it in a keyed process function or window) \
         | host: StateError::NoKeyedContext"
    );
}
