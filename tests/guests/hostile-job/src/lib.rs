//! A job that misbehaves on purpose, as `--mode` says, for the tests that
//! prove one tenant cannot harm the cluster. `describe-*` modes misbehave
//! while the plan is built (the job's build function), `map-*` modes in
//! the map of every record. The source is `datagen` (`--rate`, `--count`,
//! 0 = unbounded), so a job in mode `none` runs until cancelled. In mode
//! `map-slow` the map takes 200 µs a record at parallelism 2, apart from
//! the source, so a fast source is held back by it (back pressure).

use std::time::Duration;

use wflink_sdk::prelude::*;

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    let mode = args.get("mode").unwrap_or("none").to_string();
    match mode.as_str() {
        "describe-print" => {
            for i in 0..3 {
                println!("hello from describe {i}");
            }
            eprintln!("a line on stderr from describe");
        }
        "describe-panic" => panic!("describe panicked on purpose"),
        "describe-sleep" => std::thread::sleep(Duration::from_secs(600)),
        "describe-loop" => loop {
            std::hint::black_box(&mode);
        },
        "describe-alloc" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 16 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "describe-exit" => std::process::exit(3),
        _ => {}
    }
    env.set_job_name(&format!("hostile-{mode}"));
    let rate = args.get_parsed::<u64>("rate")?.unwrap_or(100);
    let count = args.get_parsed::<u64>("count")?.unwrap_or(0);
    let slow = mode == "map-slow";
    let mapped = env
        .datagen(rate, count)
        .map(move |n: u64| -> u64 {
            match mode.as_str() {
                "map-sleep" => {
                    println!("sleeping in map");
                    std::thread::sleep(Duration::from_secs(400));
                }
                "map-loop" => {
                    println!("looping in map");
                    loop {
                        std::hint::black_box(n);
                    }
                }
                "map-print" => {
                    for i in 0..2_000 {
                        println!("record {n} line {i}: {}", "x".repeat(100));
                    }
                }
                "map-exit" => std::process::exit(3),
                "map-slow" => std::thread::sleep(Duration::from_micros(200)),
                "map-recurse" => return recurse(n, 0),
                _ => {}
            }
            n
        })
        .name("hostile");
    // Another parallelism than the source's breaks the chain: the slow map runs in tasks of its own.
    let mapped = if slow { mapped.set_parallelism(2) } else { mapped };
    mapped.discard();
    Ok(())
}

/// Recurses until the stack runs out.
#[allow(unconditional_recursion)]
fn recurse(n: u64, depth: u64) -> u64 {
    let frame = std::hint::black_box([n; 64]);
    recurse(frame[(depth % 64) as usize], depth + 1) + frame[0]
}

wflink_sdk::export_job!(build);
