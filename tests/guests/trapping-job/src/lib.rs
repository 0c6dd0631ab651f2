//! A job whose map panics (the instance traps) at the `--trap-at N`th record
//! its subtask sees, counting from 1 across batches. The panic message is
//! `trapping-job: bad record N`; the runtime must fail the task with it.

use wflink_sdk::prelude::*;

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("trapping-job");
    let trap_at: u64 = args.required_parsed("trap-at")?;
    let mut seen = 0u64;
    env.read_text_file(args.required("input")?)
        .map(move |line: String| {
            seen += 1;
            if seen == trap_at {
                wflink_sdk::log::warn!("trapping-job: failing on purpose at record {seen}");
                panic!("trapping-job: bad record {seen}");
            }
            line
        })
        .name("trap")
        .print();
    Ok(())
}

wflink_sdk::export_job!(build);
