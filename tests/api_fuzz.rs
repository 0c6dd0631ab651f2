//! The REST API against its own description: schemathesis (from PyPI)
//! reads `/openapi.json` of a live JobManager with a TaskManager, sends
//! every operation valid and invalid requests (wrong types, missing and
//! extra fields, odd path segments, bodies of the wrong kind), and fails
//! on any 500 (`not_a_server_error`), on a status, content type, header or
//! body the description does not allow (the `*_conformance` checks), on
//! an invalid request accepted (`negative_data_rejection`) and on the
//! other checks in [`CHECKS`]. Left out: `positive_data_acceptance`, since
//! the job rightly refuses a schema-valid run with arbitrary program
//! arguments, and `object_level_authorization`, which needs two users.
//! Half the path identifiers it
//! sends are real (an uploaded component, a finished job and its vertex,
//! the TaskManager), so handlers are reached past their 404s: plans and
//! runs of a real component with fuzzed arguments, a real job's details.
//! The run is bounded by a number of examples per operation and a fixed
//! seed, so it is the same every time and takes well under a minute.
//!
//! Needs schemathesis in `target/schemathesis` (`cargo xtask install`
//! puts it there). A longer run: `WFLINK_API_FUZZ_EXAMPLES=500 cargo test
//! --test e2e api_fuzz::` (and `WFLINK_API_FUZZ_SEED` for other inputs).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::cluster::TestCluster;
use crate::common::{generate_text, wordcount_wasm};
use wflink::guest_build::repo;

/// What schemathesis checks on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance,response_headers_conformance,negative_data_rejection,unsupported_method,\
missing_required_header,allow_header_conformance,use_after_free,ensure_resource_availability,ignored_auth";
/// Examples per operation in a normal run.
const EXAMPLES: u32 = 12;
/// The seed of a normal run.
const SEED: u64 = 20261205;
/// The longest a normal run may take before the test fails.
const LIMIT: Duration = Duration::from_secs(150);

fn schemathesis() -> PathBuf {
    let st = repo::root().join("target").join("schemathesis").join("bin").join("st");
    assert!(
        st.is_file(),
        "the API fuzz test needs schemathesis in {}: run `cargo xtask install` (it pip-installs the pinned version there)",
        st.display()
    );
    st
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// No request schemathesis makes gets a 500 or an answer `/openapi.json`
/// does not allow, and the JobManager is still up and answering after.
#[test]
fn no_request_gets_a_server_error_or_an_answer_the_description_does_not_allow() {
    let st = schemathesis();
    let cluster = TestCluster::start("api-fuzz", 1, &[]);
    let config = real_identifiers(&cluster);
    let examples = env_number("WFLINK_API_FUZZ_EXAMPLES", EXAMPLES as u64);
    let seed = env_number("WFLINK_API_FUZZ_SEED", SEED);
    let limit = if examples > EXAMPLES as u64 { LIMIT * (examples as u32 / EXAMPLES).max(1) } else { LIMIT };
    fuzz(&st, &cluster, &config, examples, seed, &[], limit);
}

/// On a cluster closed by a token with submit and cancel switched off,
/// the 401s (no token) and 403s (with it) it answers are the ones the
/// description names.
#[test]
fn a_closed_cluster_answers_only_documented_refusals() {
    let st = schemathesis();
    let token = "api-fuzz-token";
    let settings =
        [format!("security.rest.token={token}"), "web.submit.enable=false".into(), "web.cancel.enable=false".into()];
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let cluster = TestCluster::start("api-fuzz-closed", 0, &settings);
    let bearer = format!("Authorization: Bearer {token}");
    fuzz(&st, &cluster, "", 3, SEED, &["--header", &bearer], LIMIT);
    // Without the token everything is 401, an undeclared method too: who
    // asks is checked before what is asked.
    fuzz(&st, &cluster, "", 2, SEED, &["--exclude-checks", "unsupported_method"], LIMIT);
}

/// Runs schemathesis against `cluster` with the configuration `config`
/// (TOML), `examples` per operation and `seed`, plus `extra` arguments;
/// fails the test on any failure it reports, or when the JobManager
/// panicked or stopped answering.
fn fuzz(st: &Path, cluster: &TestCluster, config: &str, examples: u64, seed: u64, extra: &[&str], limit: Duration) {
    let url = format!("http://{}", cluster.rest);
    let config_file = cluster.dir.join("schemathesis.toml");
    std::fs::write(&config_file, config).unwrap();
    // The description as the server serves it, read with the cluster's
    // token if it has one: the requests carry only what `extra` adds.
    let schema = cluster.dir.join("openapi.json");
    std::fs::write(&schema, cluster.get("/openapi.json").to_string()).unwrap();
    let mut command = Command::new(st);
    command
        .current_dir(&cluster.dir)
        .arg("--config-file")
        .arg(&config_file)
        .arg("run")
        .arg(&schema)
        .args(["--url", &url])
        .args(["--checks", CHECKS])
        .args(["--max-examples", &examples.to_string(), "--seed", &seed.to_string()])
        .args(["--phases", "examples,coverage,fuzzing", "--generation-database", "none"])
        .args(["--workers", "1", "--request-timeout", "20", "--no-color"])
        .args(["--suppress-health-check", "all"])
        .args(extra)
        .env("NO_COLOR", "1");
    let started = Instant::now();
    let output = crate::common::run_with_limit(command, limit);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("schemathesis ran {:.1} s\n{}", started.elapsed().as_secs_f64(), tail(&stdout, 60));
    assert!(
        output.status.success(),
        "schemathesis found failures (exit {:?}):\n{}\nstderr:\n{}\nJobManager log:\n{}",
        output.status.code(),
        tail(&stdout, 400),
        tail(&stderr, 40),
        tail(&cluster.jobmanager_log(), 40)
    );
    assert!(cluster.get("/overview")["taskmanagers"].is_number(), "the JobManager still answers");
    let log = cluster.jobmanager_log();
    assert!(!log.contains("panicked"), "the JobManager panicked:\n{}", tail(&log, 60));
}

/// A schemathesis configuration whose path identifiers are, half the
/// time, real ones: a component uploaded, a wordcount job run to its end
/// from it (its vertex too), and the TaskManager. Deletes get a second
/// upload of their own, so the first stays for plans and runs.
fn real_identifiers(cluster: &TestCluster) -> String {
    let wasm = std::fs::read(wordcount_wasm()).unwrap();
    let jar = cluster.upload("wordcount.wasm", &wasm);
    let doomed = cluster.upload("wordcount-to-delete.wasm", &wasm);
    let input = cluster.dir.join("input.txt");
    std::fs::write(&input, generate_text(200, 7)).unwrap();
    let args = serde_json::json!({ "programArgsList": ["--input", input.to_str().unwrap()] });
    let job = cluster.run_jar(&jar, args);
    cluster.wait_for_status(&job, "FINISHED");
    let vertex = cluster.get(&format!("/jobs/{job}"))["vertices"][0]["id"].as_str().unwrap().to_string();
    let taskmanager = cluster.get("/taskmanagers")["taskmanagers"][0]["id"].as_str().unwrap().to_string();
    format!(
        r#"[dictionaries]
jars = {{ values = ["{jar}"] }}
doomed = {{ values = ["{doomed}"] }}
jobs = {{ values = ["{job}"] }}
vertices = {{ values = ["{vertex}"] }}
taskmanagers = {{ values = ["{taskmanager}"] }}

[parameters]
"path.jarid" = {{ dictionary = "jars", probability = 0.5 }}
"path.jobid" = {{ dictionary = "jobs", probability = 0.5 }}
"path.vertexid" = {{ dictionary = "vertices", probability = 0.5 }}
"path.id" = {{ dictionary = "taskmanagers", probability = 0.5 }}

[[operations]]
include-name = "DELETE /jars/{{jarid}}"
parameters = {{ "path.jarid" = {{ dictionary = "doomed", probability = 0.5 }} }}
"#
    )
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
