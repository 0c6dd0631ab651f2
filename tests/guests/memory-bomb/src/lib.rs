//! A job whose map keeps allocating memory it never frees: the slot's
//! memory budget must stop it with a trap that fails the task, not the
//! process.

use wflink_sdk::prelude::*;

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("memory-bomb");
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    env.read_text_file(args.required("input")?)
        .map(move |_line: String| -> String {
            loop {
                // 16 MiB at a time, touched so the pages are real.
                hoard.push(vec![1u8; 16 << 20]);
                std::hint::black_box(&hoard);
            }
        })
        .name("hoard")
        .print();
    Ok(())
}

wflink_sdk::export_job!(build);
