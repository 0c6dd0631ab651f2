//! Flink 2.3's own web dashboard against wflink, and the REST endpoints it
//! needs in the shapes a real Flink 2.3 answers (`tests/flink-rest-samples/`).
//!
//! The dashboard's files come from the `apache-flink-libraries` wheel on
//! PyPI: `cargo xtask install` extracts the `web/` folder of its flink-dist
//! jar into `target/flink-dashboard/web` (never committed), and
//! `tests/browser/flink-dashboard.mjs` serves it through a proxy to a real
//! cluster and drives it in Debian's chromium.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::cluster::{TestCluster, wait_for};
use crate::common::feed::WordFeed;
use crate::common::shapes::{assert_same_shape, sample};
use crate::common::wordcount_wasm;
use wflink::guest_build::repo;

/// Every page issue 18 lists, in Flink's unmodified dashboard: overview,
/// applications and jobs (running and completed), the job graph, subtasks,
/// checkpoints with a vertex's subtask details, exceptions, configuration,
/// TaskManager (metrics, log, stdout, thread dump), JobManager
/// (configuration, metrics, log), Submit New Job (upload, parallelism 2,
/// arguments) and Cancel Job; no error toast, every API call answered. Against
/// a second cluster with `web.submit.enable: false` it hides Submit New Job
/// (its uploads and runs answer 403: `security::submit_and_cancel_can_be_switched_off`).
#[test]
fn flinks_own_dashboard_shows_a_wflink_cluster() {
    let browser_dir = repo::root().join("tests").join("browser");
    let web = repo::root().join("target").join("flink-dashboard").join("web");
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists()
            && browser_dir.join("node_modules/playwright-core").exists()
            && web.join("index.html").exists(),
        "this test needs Debian's chromium, playwright-core and Flink's dashboard in {}: run `cargo xtask install`",
        web.display()
    );
    let wasm = wordcount_wasm();
    let feed = WordFeed::start();
    let mut cluster = TestCluster::start("flink-dashboard", 0, &["execution.checkpointing.interval=500ms"]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=2"]);
    cluster.wait_for_taskmanagers(1);
    let no_submit = TestCluster::start("flink-dashboard-no-submit", 0, &["web.submit.enable=false"]);

    let mut node = Command::new("node");
    node.arg(browser_dir.join("flink-dashboard.mjs")).current_dir(&browser_dir);
    node.env("FLINK_WEB", &web)
        .env("WFLINK_URL", format!("http://{}", cluster.rest))
        .env("WASM", &wasm)
        .env("SOCKET_PORT", feed.port.to_string())
        .env("NO_SUBMIT_URL", format!("http://{}", no_submit.rest))
        .env("SCREENSHOTS", repo::root().join("target").join("ui-screenshots"));
    let output = crate::common::run_with_limit(node, Duration::from_secs(240));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the browser script failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    println!("{stdout}");
    let job = stdout.lines().find_map(|l| l.strip_prefix("JOB ")).expect("the script names its job");
    assert_eq!(cluster.job_status(job), "CANCELED");
    assert_eq!(cluster.get("/applications/overview")["applications"][0]["status"], "CANCELED");
}

/// Starts the word count on `feed` at parallelism 2 and waits until every task runs.
pub(crate) fn start_wordcount(cluster: &TestCluster, feed: &WordFeed) -> String {
    let jar = cluster.upload("wordcount.wasm", &std::fs::read(wordcount_wasm()).unwrap());
    let args = ["--hostname", "127.0.0.1", "--port", &feed.port.to_string()];
    let job = cluster.run_jar(&jar, json!({ "programArgsList": args, "parallelism": 2 }));
    cluster.wait_for_status(&job, "RUNNING");
    wait_for("every task to run", || {
        let vertices = cluster.get(&format!("/jobs/{job}"))["vertices"].as_array()?.clone();
        vertices.iter().all(|v| v["status"] == "RUNNING").then_some(())
    });
    job
}

/// Polls an asynchronous operation's status until it is `COMPLETED`.
pub(crate) fn completed(cluster: &TestCluster, path: &str) -> Value {
    wait_for(path, || {
        let answer = cluster.get(path);
        (answer["status"]["id"] == "COMPLETED").then_some(answer)
    })
}

/// The applications, job configuration, environment, log urls and thread
/// dumps answer in Flink 2.3's shapes; an application is its job.
#[test]
fn applications_and_process_views_have_flinks_shapes() {
    let feed = WordFeed::start();
    let mut cluster = TestCluster::start("flink-shapes", 0, &[]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=2"]);
    cluster.wait_for_taskmanagers(1);
    let job = start_wordcount(&cluster, &feed);
    let tm = cluster.get("/taskmanagers")["taskmanagers"][0]["id"].as_str().unwrap().to_string();
    for (path, recorded) in [
        ("/applications/overview".to_string(), "applications_overview_running.json"),
        (format!("/applications/{job}"), "applications_id_running.json"),
        (format!("/applications/{job}/exceptions"), "applications_id_exceptions.json"),
        (format!("/applications/{job}/jobmanager/config"), "applications_id_jobmanager_config.json"),
        (format!("/jobs/{job}/config"), "jobs_id_config.json"),
        ("/jobmanager/environment".to_string(), "jobmanager_environment.json"),
        (format!("/jobs/{job}/jobmanager/environment"), "jobmanager_environment.json"),
        (format!("/jobs/{job}/jobmanager/config"), "applications_id_jobmanager_config.json"),
        (format!("/jobs/{job}/jobmanager/log-url"), "jobs_id_jobmanager_log_url.json"),
        (format!("/jobs/{job}/taskmanagers/{tm}/log-url"), "jobs_id_taskmanagers_id_log_url.json"),
        ("/jobmanager/thread-dump".to_string(), "jobmanager_thread_dump.json"),
        (format!("/taskmanagers/{tm}/thread-dump"), "taskmanagers_id_thread_dump.json"),
    ] {
        assert_same_shape(&path, &sample(recorded), &cluster.get(&path));
    }
    let application = cluster.get(&format!("/applications/{job}"));
    assert_eq!(application["name"], "SingleJobApplication(wordcount)");
    assert_eq!(application["jobs"][0]["jid"], job.as_str());
    let config = cluster.get(&format!("/jobs/{job}/config"));
    assert_eq!(config["execution-config"]["user-config"]["port"], feed.port.to_string());
    assert_eq!(config["execution-config"]["job-parallelism"], 2);
    let names = |path: &str| -> Vec<String> {
        let threads = cluster.get(path)["threadInfos"].as_array().unwrap().clone();
        threads.iter().map(|t| t["threadName"].as_str().unwrap().to_string()).collect()
    };
    let jobmanager = names("/jobmanager/thread-dump");
    assert!(jobmanager.iter().any(|t| t == "wasm-epoch"), "{jobmanager:?}");
    // The TaskManager process lists its own threads: its data server and task threads are not the JobManager's.
    let taskmanager = names(&format!("/taskmanagers/{tm}/thread-dump"));
    assert!(taskmanager.iter().any(|t| t == "data-server"), "{taskmanager:?}");
    assert!(!jobmanager.iter().any(|t| t == "data-server"), "{jobmanager:?}");
    assert_eq!(cluster.raw("GET", "/taskmanagers/no-such-tm/thread-dump", "", b"").0, 404);
    assert_eq!(cluster.raw("GET", "/applications/00000000000000000000000000000000", "", b"").0, 404);
    assert_eq!(cluster.raw("GET", "/applications/nope", "", b"").0, 400);

    // Flink's dashboard cancels with a GET; the application follows its job.
    let (status, answer) = cluster.raw("GET", &format!("/jobs/{job}/yarn-cancel"), "", b"");
    assert_eq!((status, &answer), (202, &sample("jobs_id_yarn_cancel.json")));
    cluster.wait_for_status(&job, "CANCELED");
    let overview = cluster.get("/applications/overview");
    assert_same_shape("/applications/overview", &sample("applications_overview_after_cancel.json"), &overview);
    assert_eq!(overview["applications"][0]["status"], "CANCELED");
    assert_eq!(overview["applications"][0]["jobs"]["CANCELED"], 1);

    let second = start_wordcount(&cluster, &feed);
    let (status, answer) = cluster.raw("POST", &format!("/applications/{second}/cancel"), "", b"");
    assert_eq!((status, &answer), (202, &sample("applications_id_cancel.json")));
    cluster.wait_for_status(&second, "CANCELED");
    assert_eq!(cluster.raw("POST", &format!("/applications/{second}/cancel"), "", b"").0, 409);
}

/// A checkpoint triggered through REST completes with its id, as Flink
/// answers; each subtask's acknowledgement shows in the checkpoint's
/// details; a savepoint is disposed of (and a directory that is not one is
/// refused and kept).
#[test]
fn checkpoints_on_request_subtask_details_and_savepoint_disposal() {
    let feed = WordFeed::start();
    let mut cluster = TestCluster::start("flink-checkpoint-ops", 0, &[]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=2"]);
    cluster.wait_for_taskmanagers(1);
    let job = start_wordcount(&cluster, &feed);

    let (status, trigger) = cluster.raw("POST", &format!("/jobs/{job}/checkpoints"), "application/json", b"{}");
    assert_eq!(status, 202, "{trigger}");
    assert_same_shape("POST /jobs/:id/checkpoints", &sample("jobs_id_checkpoints_trigger.json"), &trigger);
    let done = completed(&cluster, &format!("/jobs/{job}/checkpoints/{}", trigger["request-id"].as_str().unwrap()));
    assert_same_shape("/jobs/:id/checkpoints/:triggerid", &sample("jobs_id_checkpoints_triggerid.json"), &done);
    let id = done["operation"]["checkpointId"].as_u64().unwrap();
    let history = cluster.get(&format!("/jobs/{job}/checkpoints"))["history"].clone();
    assert!(history.as_array().unwrap().iter().any(|c| c["id"] == id && c["status"] == "COMPLETED"), "{history}");
    assert_eq!(cluster.raw("GET", &format!("/jobs/{job}/checkpoints/{}", "0".repeat(32)), "", b"").0, 404);

    let vertex = cluster.get(&format!("/jobs/{job}"))["vertices"][1]["id"].as_str().unwrap().to_string();
    let details = cluster.get(&format!("/jobs/{job}/checkpoints/details/{id}/subtasks/{vertex}"));
    // Flink sends "NaN" for the percentiles of this view; wflink leaves them out.
    let mut recorded = sample("jobs_id_checkpoints_details_id_subtasks_vid.json");
    drop_nan(&mut recorded);
    assert_same_shape("/jobs/:id/checkpoints/details/:cid/subtasks/:vid", &recorded, &details);
    assert_eq!(details["num_acknowledged_subtasks"], 2);
    assert!(details["subtasks"].as_array().unwrap().iter().all(|s| s["status"] == "completed"), "{details}");

    let target = cluster.dir.join("savepoints");
    let body = json!({ "target-directory": target, "cancel-job": false }).to_string();
    let (_, savepoint) = cluster.raw("POST", &format!("/jobs/{job}/savepoints"), "application/json", body.as_bytes());
    let request = savepoint["request-id"].as_str().unwrap();
    let location = completed(&cluster, &format!("/jobs/{job}/savepoints/{request}"))["operation"]["location"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(std::path::Path::new(&location).join("_metadata").exists());
    let body = json!({ "savepoint-path": location }).to_string();
    let (status, disposal) = cluster.raw("POST", "/savepoint-disposal", "application/json", body.as_bytes());
    assert_eq!(status, 202, "{disposal}");
    assert_same_shape("POST /savepoint-disposal", &sample("savepoint_disposal.json"), &disposal);
    let done = completed(&cluster, &format!("/savepoint-disposal/{}", disposal["request-id"].as_str().unwrap()));
    assert_eq!(done, sample("savepoint_disposal_triggerid.json"));
    assert!(!std::path::Path::new(&location).exists(), "the savepoint is gone");

    let body = json!({ "savepoint-path": cluster.dir }).to_string();
    let (_, disposal) = cluster.raw("POST", "/savepoint-disposal", "application/json", body.as_bytes());
    let failed = completed(&cluster, &format!("/savepoint-disposal/{}", disposal["request-id"].as_str().unwrap()));
    let cause = failed["operation"]["failure-cause"]["stack-trace"].as_str().unwrap();
    assert!(cause.contains("_metadata"), "{failed}");
    assert!(cluster.dir.exists(), "a directory that is not a savepoint is kept");
}

/// Removes the fields whose value is the string "NaN".
fn drop_nan(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| v != "NaN");
            map.values_mut().for_each(drop_nan);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nan),
        _ => {}
    }
}
