//! Word count (running `(word, count)` per occurrence, to `--output DIR`)
//! whose tokenizer traps on the `--trap-at N`th line its subtask sees, but
//! only in the job's first attempt: the host tells the guest which attempt
//! it runs in through the `WFLINK_ATTEMPT` environment variable, so after
//! the restart from a checkpoint the job runs through and its results must
//! be exact. With `--long-lines DIR`, lines over 60 characters also go to
//! a side output written to DIR, which must hold each of them exactly once.
//! With `--pace-ms N` the first attempt sleeps N ms every 1000 lines, so
//! checkpoints complete before the trap however fast the machine is.

use wflink_sdk::prelude::*;

fn build(env: &mut StreamExecutionEnvironment, args: &Args) -> Result<(), JobError> {
    env.set_job_name("trap-once");
    let trap_at: u64 = args.required_parsed("trap-at")?;
    let pace = std::time::Duration::from_millis(args.get_parsed("pace-ms")?.unwrap_or(0));
    let long_lines = OutputTag::<String>::new("long-lines");
    let tag = long_lines.clone();
    let mut seen = 0u64;
    let words = env
        .read_text_file(args.required("input")?)
        .process(move |line: String, ctx: &mut Context<'_, (String, i64)>| {
            seen += 1;
            let first_attempt = std::env::var("WFLINK_ATTEMPT").is_ok_and(|a| a == "0");
            if first_attempt && seen == trap_at {
                panic!("trap-once: failing on purpose at line {seen}");
            }
            if first_attempt && seen % 1000 == 0 && !pace.is_zero() {
                std::thread::sleep(pace);
            }
            for word in line.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
                ctx.collect((word.to_ascii_lowercase(), 1));
            }
            if line.len() > 60 {
                ctx.output(&tag, line);
            }
            Ok(())
        })
        .name("tokenize");
    if let Some(dir) = args.get("long-lines") {
        words.get_side_output(&long_lines).write_as_text(dir);
    }
    words
        .key_by(|(word, _): &(String, i64)| word.clone())
        .sum_by(|(_, count)| count)
        .name("count")
        .write_as_text(args.required("output")?);
    Ok(())
}

wflink_sdk::export_job!(build);
