//! A job whose map never returns from its first record: the runtime's
//! deadline (epoch interruption) must stop it and fail the task.

use wflink_sdk::prelude::*;

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("looping-job");
    env.read_text_file(args.required("input")?)
        .map(|line: String| -> String {
            loop {
                std::hint::black_box(&line);
            }
        })
        .name("loop")
        .print();
    Ok(())
}

wflink_sdk::export_job!(build);
