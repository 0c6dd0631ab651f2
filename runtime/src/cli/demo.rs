//! `wflink demo`: builds the wordcount example, runs it on a built-in text
//! on an in-process cluster, and prints the final count of every word.

use std::collections::BTreeMap;

use anyhow::Context;

use crate::config::Configuration;
use crate::guest_build::{build_guest, repo};
use crate::minicluster::run_job_locally;
use crate::protocol::JobStatus;
use crate::wasm::WasmEngine;

/// The text Flink's own WordCount example counts by default.
const TEXT: &str = "To be, or not to be,--that is the question:--
Whether 'tis nobler in the mind to suffer
The slings and arrows of outrageous fortune
Or to take arms against a sea of troubles,
And by opposing end them?--To die,--to sleep,--
No more; and by a sleep to say we end
The heartache, and the thousand natural shocks
That flesh is heir to,--'tis a consummation
Devoutly to be wish'd. To die,--to sleep;--
To sleep! perchance to dream:--ay, there's the rub;
For in that sleep of death what dreams may come,
When we have shuffled off this mortal coil,
Must give us pause: there's the respect
That makes calamity of so long life;
";

pub(super) fn demo(parallelism: u32) -> anyhow::Result<()> {
    eprintln!("Building guest-examples/wordcount ...");
    let wasm = build_guest(&repo::example("wordcount"), Some(&repo::guest_target_dir()))?;
    let bytes = std::fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;

    let work = std::env::temp_dir().join(format!("wflink-demo-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let input = work.join("hamlet.txt");
    let output = work.join("counts");
    std::fs::write(&input, TEXT).with_context(|| format!("cannot write {}", input.display()))?;

    let args =
        vec!["--input".to_string(), input.display().to_string(), "--output".to_string(), output.display().to_string()];
    eprintln!("Running wordcount at parallelism {parallelism} on an in-process cluster ...");
    let details = run_job_locally(WasmEngine::new()?, &bytes, &args, Some(parallelism), Configuration::default())?;
    if details.status != JobStatus::Finished {
        let reason = details.failure.map(|f| f.message).unwrap_or_default();
        anyhow::bail!("the demo job ended {}: {reason}", details.status);
    }

    // The job emits a running count per update; the final count is the largest.
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for entry in std::fs::read_dir(&output).with_context(|| format!("cannot read {}", output.display()))? {
        let text = std::fs::read_to_string(entry?.path())?;
        for line in text.lines() {
            if let Some((word, count)) = line.trim_start_matches('(').trim_end_matches(')').rsplit_once(',') {
                let count: u64 = count.parse().unwrap_or(0);
                let best = counts.entry(word.to_string()).or_default();
                *best = (*best).max(count);
            }
        }
    }
    let mut sorted: Vec<(String, u64)> = counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (word, count) in &sorted {
        println!("({word},{count})");
    }
    let duration = details.end_time.unwrap_or(details.start_time) - details.start_time;
    eprintln!(
        "Job {} finished in {duration} ms: {} distinct words; component {}",
        details.job_id,
        sorted.len(),
        wasm.display()
    );
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
