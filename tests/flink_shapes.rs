//! The answers of the endpoints the other tests do not hold to a recorded Flink 2.3 answer: the jars,
//! a job's plan, exceptions, checkpoints (statistics, configuration, one checkpoint), savepoints (done
//! and failed), stop and cancel, one vertex, one TaskManager, and the logs. Each has the shape of what a
//! real Flink 2.3 answered to the same call (`tests/flink-rest-samples/`, recorded by
//! `recorder/record.sh` there).

use serde_json::{Value, json};

use crate::common::cluster::{TestCluster, multipart, wait_for};
use crate::common::feed::WordFeed;
use crate::common::shapes::{assert_same_shape, sample};
use crate::common::*;
use crate::flink_dashboard::{completed, start_wordcount};

/// Uploads, plans, runs and deletes a jar; a socket word count with checkpoints every 200 ms: its
/// plan, checkpoint statistics, checkpoint configuration, one checkpoint, a vertex, the TaskManager and
/// the log lists; a savepoint (and one into a directory that cannot be written), stop with a savepoint,
/// a cancel; then a job that fails once and restarts, for its exceptions.
#[test]
fn jars_checkpoints_savepoints_logs_and_exceptions_have_flinks_recorded_shapes() {
    let feed = WordFeed::start();
    let mut cluster = TestCluster::start_fault_tolerant("flink-recorded-shapes", 0, "200 ms");
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=2"]);
    cluster.wait_for_taskmanagers(1);
    let post = |path: &str, body: Value| cluster.raw("POST", path, "application/json", body.to_string().as_bytes());

    let (content_type, body) = multipart("wordcount.wasm", &std::fs::read(wordcount_wasm()).unwrap());
    let (status, upload) = cluster.raw("POST", "/jars/upload", &content_type, &body);
    assert_eq!(status, 200, "{upload}");
    assert_same_shape("POST /jars/upload", &sample("jars_upload.json"), &upload);
    let jar = upload["filename"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    assert_same_shape("/jars", &sample("jars_list.json"), &cluster.get("/jars"));
    let args = ["--hostname", "127.0.0.1", "--port", &feed.port.to_string()];
    let plan = cluster.get(&format!("/jars/{jar}/plan?parallelism=2&programArgs={}", args.join("+")));
    assert_same_shape("/jars/:id/plan", &sample("jars_id_plan.json"), &plan);
    let (status, plan) = post(&format!("/jars/{jar}/plan"), json!({ "programArgsList": args, "parallelism": 2 }));
    assert_eq!(status, 200, "{plan}");
    assert_same_shape("POST /jars/:id/plan", &sample("jars_id_plan_post.json"), &plan);
    let (status, run) = post(&format!("/jars/{jar}/run"), json!({ "programArgsList": args, "parallelism": 2 }));
    assert_eq!(status, 200, "{run}");
    assert_same_shape("POST /jars/:id/run", &sample("jars_id_run.json"), &run);
    let job = run["jobid"].as_str().unwrap().to_string();
    cluster.wait_for_status(&job, "RUNNING");
    let jobs = format!("/jobs/{job}");
    wait_for("two completed checkpoints", || {
        (cluster.get(&format!("{jobs}/checkpoints"))["counts"]["completed"].as_u64()? >= 2).then_some(())
    });

    let checkpoints = cluster.get(&format!("{jobs}/checkpoints"));
    let id = checkpoints["latest"]["completed"]["id"].as_u64().unwrap();
    let vertex = cluster.get(&jobs)["vertices"][0]["id"].as_str().unwrap().to_string();
    let tm = cluster.get("/taskmanagers")["taskmanagers"][0]["id"].as_str().unwrap().to_string();
    for (path, recorded) in [
        (format!("{jobs}/plan"), "jobs_id_plan.json"),
        (format!("{jobs}/checkpoints/config"), "jobs_id_checkpoints_config.json"),
        (format!("{jobs}/checkpoints/details/{id}"), "jobs_id_checkpoints_details_id.json"),
        (format!("{jobs}/vertices/{vertex}"), "jobs_id_vertices_id.json"),
        (format!("/taskmanagers/{tm}"), "taskmanagers_id.json"),
        ("/jobmanager/logs".to_string(), "jobmanager_logs.json"),
        (format!("/taskmanagers/{tm}/logs"), "taskmanagers_id_logs.json"),
    ] {
        assert_same_shape(&path, &sample(recorded), &cluster.get(&path));
    }
    // Flink's job had restored from a checkpoint and this one has not (`restored`: see the restarted job below),
    // and neither has taken a savepoint yet.
    let mut recorded = sample("jobs_id_checkpoints.json");
    recorded["latest"]["savepoint"] = Value::Null;
    recorded["latest"]["restored"] = Value::Null;
    assert_same_shape("/jobs/:id/checkpoints", &recorded, &checkpoints);
    let log = cluster.get("/jobmanager/logs")["logs"][0]["name"].as_str().unwrap().to_string();
    let tm_log = cluster.get(&format!("/taskmanagers/{tm}/logs"))["logs"][0]["name"].as_str().unwrap().to_string();
    for (path, recorded) in [
        ("/jobmanager/log".to_string(), "jobmanager_log.head.txt"),
        ("/jobmanager/stdout".to_string(), "jobmanager_stdout.head.txt"),
        (format!("/jobmanager/logs/{log}"), "jobmanager_logs_name.head.txt"),
        (format!("/taskmanagers/{tm}/log"), "taskmanagers_id_log.head.txt"),
        (format!("/taskmanagers/{tm}/stdout"), "taskmanagers_id_stdout.head.txt"),
        (format!("/taskmanagers/{tm}/logs/{tm_log}"), "taskmanagers_id_logs_name.head.txt"),
    ] {
        assert_eq!(head(&cluster, &path), recorded_head(recorded), "GET {path}");
    }

    let target = cluster.dir.join("savepoints");
    let (status, trigger) =
        post(&format!("{jobs}/savepoints"), json!({ "target-directory": target, "cancel-job": false }));
    assert_eq!(status, 202, "{trigger}");
    assert_same_shape("POST /jobs/:id/savepoints", &sample("jobs_id_savepoints.json"), &trigger);
    let done = completed(&cluster, &format!("{jobs}/savepoints/{}", trigger["request-id"].as_str().unwrap()));
    assert_same_shape("/jobs/:id/savepoints/:id", &sample("jobs_id_savepoints_triggerid_completed.json"), &done);
    // As when Flink's was recorded: a checkpoint after the savepoint, the latest in the history.
    let after = wait_for("a checkpoint after the savepoint", || {
        let after = cluster.get(&format!("{jobs}/checkpoints"));
        (after["history"][0]["is_savepoint"] == false).then_some(after)
    });
    let mut recorded = sample("jobs_id_checkpoints_after_savepoint.json");
    recorded["latest"]["restored"] = Value::Null;
    assert_same_shape("/jobs/:id/checkpoints", &recorded, &after);
    let body = json!({ "target-directory": "/proc/no-savepoints-here", "cancel-job": false });
    let (status, trigger) = post(&format!("{jobs}/savepoints"), body);
    assert_eq!(status, 202, "{trigger}");
    let failed = completed(&cluster, &format!("{jobs}/savepoints/{}", trigger["request-id"].as_str().unwrap()));
    // Flink adds the Java-serialized exception, which only a JVM could make; `class` and `stack-trace` say why.
    let mut recorded = sample("jobs_id_savepoints_triggerid_failed.json");
    recorded["operation"]["failure-cause"].as_object_mut().unwrap().remove("serialized-throwable");
    assert_same_shape("/jobs/:id/savepoints/:id", &recorded, &failed);
    let (status, stop) = post(&format!("{jobs}/stop"), json!({ "targetDirectory": target, "drain": false }));
    assert_eq!(status, 202, "{stop}");
    assert_same_shape("POST /jobs/:id/stop", &sample("jobs_id_stop.json"), &stop);
    let done = completed(&cluster, &format!("{jobs}/savepoints/{}", stop["request-id"].as_str().unwrap()));
    assert_same_shape("stop's /jobs/:id/savepoints/:id", &sample("jobs_id_stop_triggerid_completed.json"), &done);
    cluster.wait_for_status(&job, "FINISHED");

    let job = start_wordcount(&cluster, &feed);
    let answer = cluster.raw("PATCH", &format!("/jobs/{job}?mode=cancel"), "", b"");
    assert_eq!(answer, (202, sample("jobs_id_patch_cancel.json")));
    cluster.wait_for_status(&job, "CANCELED");
    for jar in cluster.get("/jars")["files"].as_array().unwrap().clone() {
        let answer = cluster.raw("DELETE", &format!("/jars/{}", jar["id"].as_str().unwrap()), "", b"");
        assert_eq!(answer, (200, sample("jars_id_delete.json")));
    }
    let (status, error) = post(&format!("/jars/{jar}/run"), json!({}));
    assert_eq!(status, 404, "{error}");
    assert_same_shape("POST /jars/:id/run of a deleted jar", &sample("jars_id_run_deleted.json"), &error);

    let job = run_a_job_that_restarts_from_a_checkpoint(&cluster);
    let exceptions = cluster.get(&format!("/jobs/{job}/exceptions"));
    assert_same_shape("/jobs/:id/exceptions", &sample("jobs_id_exceptions.json"), &exceptions);
    let restored = &cluster.get(&format!("/jobs/{job}/checkpoints"))["latest"]["restored"];
    assert_same_shape("restored", &sample("jobs_id_checkpoints.json")["latest"]["restored"], restored);
}

/// Runs the word count that fails once (`trap-once`, at its 100,000th line, paced so that checkpoints complete
/// first) to its end through a restart from its latest checkpoint; returns its id.
fn run_a_job_that_restarts_from_a_checkpoint(cluster: &TestCluster) -> String {
    let input = cluster.dir.join("input.txt");
    std::fs::write(&input, generate_text(1_500_000, 3)).unwrap();
    let jar = cluster.upload("trap-once.wasm", &std::fs::read(test_guest("trap-once")).unwrap());
    let output = cluster.dir.join("trap-once-out");
    let (input, output) = (input.to_str().unwrap(), output.to_str().unwrap());
    let args = ["--trap-at", "100000", "--pace-ms", "10", "--input", input, "--output", output];
    let job = cluster.run_jar(&jar, json!({ "programArgsList": args }));
    cluster.wait_for_status(&job, "FINISHED");
    job
}

/// The status code and media type of `GET path` (a file the REST API sends), as `N text/plain`.
fn head(cluster: &TestCluster, path: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let response = agent.get(&format!("http://{}{path}", cluster.rest)).call().unwrap();
    let media = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    format!("{} {}", response.status().as_u16(), media.split(';').next().unwrap().trim())
}

/// A recorded status line and Content-Type (`*.head.txt`) as `N text/plain`.
fn recorded_head(name: &str) -> String {
    let path = wflink::guest_build::repo::root().join("tests").join("flink-rest-samples").join(name);
    let text = std::fs::read_to_string(path).unwrap();
    let status = text.lines().next().unwrap().split(' ').nth(1).unwrap();
    let media = text.lines().find_map(|l| l.to_lowercase().strip_prefix("content-type:").map(|m| m.trim().to_string()));
    format!("{status} {}", media.unwrap())
}
