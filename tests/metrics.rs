//! End-to-end: the metrics a running job's tasks count reach Flink's metric endpoints and vertex views, in the
//! shapes a real Flink 2.3 answers (`tests/flink-rest-samples/metrics_*.json`, `vertex_*.json`).

use serde_json::Value;

use crate::common::cluster::{DEADLINE, TestCluster, wait_for};
use crate::common::feed::WordFeed;
use crate::common::kafka::Broker;
use crate::common::shapes::{assert_same_shape, sample};
use crate::common::*;
use crate::fault_tolerance::submit;

/// The `id`s of a metric answer.
fn ids(answer: &Value) -> Vec<String> {
    answer.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect()
}

/// The `value` of metric `id` in a `?get=` answer, as a number.
fn value(answer: &Value, id: &str) -> Option<f64> {
    answer.as_array()?.iter().find(|m| m["id"] == id)?["value"].as_str()?.parse().ok()
}

/// A word count reading an endless socket on one TaskManager, with checkpoints: every metric endpoint answers in
/// Flink's shape, `/jobs/metrics` and `/taskmanagers/metrics` are not taken for a job or TaskManager id, the
/// counters, rates and checkpoint metrics move, and the vertex views (back pressure, watermarks, subtask times,
/// TaskManagers, one subtask) answer.
#[test]
fn a_running_job_answers_every_metric_endpoint_in_flinks_shapes() {
    let cluster = TestCluster::start("metrics-endpoints", 1, &["execution.checkpointing.interval=300 ms"]);
    let feed = WordFeed::start();
    let job = cluster.run_socket_wordcount(feed.port);
    let vertices = cluster.get(&format!("/jobs/{job}"))["vertices"].clone();
    let source = vertices[0]["id"].as_str().unwrap().to_string();
    let last = vertices.as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_string();
    let tm = cluster.get("/taskmanagers")["taskmanagers"][0]["id"].as_str().unwrap().to_string();

    // The records and their rate rise, as the JobManager's samples of the heartbeats see them.
    let vertex = format!("/jobs/{job}/vertices/{source}");
    wait_for("the source's records per second", || {
        let answer = cluster.get(&format!("{vertex}/metrics?get=0.numRecordsOut,0.numRecordsOutPerSecond"));
        (value(&answer, "0.numRecordsOut")? > 0.0 && value(&answer, "0.numRecordsOutPerSecond")? > 0.0).then_some(())
    });
    let first = value(&cluster.get(&format!("{vertex}/subtasks/0/metrics?get=numRecordsOut")), "numRecordsOut");
    wait_for("the counter to rise", || {
        let now = value(&cluster.get(&format!("{vertex}/subtasks/0/metrics?get=numRecordsOut")), "numRecordsOut");
        (now > first).then_some(())
    });

    let sink = format!("/jobs/{job}/vertices/{last}");
    for (path, recorded) in [
        ("/jobs/metrics".to_string(), "metrics_jobs_list.json"),
        ("/jobs/metrics?get=uptime,numRestarts,lastCheckpointDuration".into(), "metrics_jobs_get.json"),
        ("/jobs/metrics?get=uptime,numRestarts&agg=min,max".into(), "metrics_jobs_get_agg.json"),
        (format!("/jobs/{job}/metrics"), "metrics_job_list.json"),
        (format!("/jobs/{job}/metrics?get=uptime,numRestarts,lastCheckpointDuration"), "metrics_job_get.json"),
        (format!("{sink}/metrics"), "metrics_vertex_list.json"),
        (format!("{sink}/metrics?get=0.numRecordsIn,0.busyTimeMsPerSecond"), "metrics_vertex_get.json"),
        (format!("{sink}/subtasks/metrics"), "metrics_subtasks_list.json"),
        (format!("{sink}/subtasks/metrics?get=numRecordsIn,busyTimeMsPerSecond"), "metrics_subtasks_get.json"),
        (format!("{sink}/subtasks/metrics?get=numRecordsIn&agg=max,sum"), "metrics_subtasks_get_agg.json"),
        (format!("{vertex}/subtasks/0/metrics"), "metrics_subtask_list.json"),
        (format!("{vertex}/subtasks/0/metrics?get=numRecordsOut,idleTimeMsPerSecond"), "metrics_subtask_get.json"),
        ("/taskmanagers/metrics".into(), "metrics_taskmanagers_list.json"),
        (
            "/taskmanagers/metrics?get=Status.JVM.Memory.Heap.Used,Status.JVM.CPU.Load".into(),
            "metrics_taskmanagers_get.json",
        ),
        (format!("/taskmanagers/{tm}/metrics"), "metrics_taskmanager_list.json"),
        (format!("/taskmanagers/{tm}/metrics?get=Status.JVM.Memory.Heap.Used"), "metrics_taskmanager_get.json"),
        ("/jobmanager/metrics".into(), "metrics_jobmanager_list.json"),
        ("/jobmanager/metrics?get=numRunningJobs,taskSlotsTotal".into(), "metrics_jobmanager_get.json"),
        (format!("{sink}/watermarks"), "vertex_watermarks.json"),
        (format!("{sink}/subtasktimes"), "vertex_subtasktimes.json"),
        (format!("{sink}/taskmanagers"), "vertex_taskmanagers.json"),
        (format!("{sink}/subtasks/0"), "vertex_subtask.json"),
        (format!("{sink}/accumulators"), "vertex_accumulators.json"),
        (format!("{sink}/subtasks/accumulators"), "vertex_subtasks_accumulators.json"),
        (format!("/jobs/{job}/accumulators"), "job_accumulators.json"),
        (format!("{sink}/subtasks/0/attempts/0"), "vertex_subtask_attempt.json"),
        (format!("{sink}/subtasks/0/attempts/0/accumulators"), "vertex_subtask_attempt_accumulators.json"),
    ] {
        let ours = cluster.get(&path);
        assert!(!ours.as_array().is_some_and(|a| a.is_empty()), "{path}: empty answer");
        assert_same_shape(&path, &sample(recorded), &ours);
        assert_same_shape(&path, &sample(recorded), &cluster.get(&format!("/v1{path}")));
    }
    // No operator of wflink runs in the JobManager: no metrics there, as Flink answers for such a vertex.
    assert_eq!(cluster.get(&format!("{sink}/jm-operator-metrics")), sample("vertex_jm_operator_metrics.json"));
    let unknown = cluster.get(&format!("{sink}/jm-operator-metrics?get=foo"));
    assert_eq!(unknown, sample("vertex_jm_operator_metrics_get.json"));
    // Flame graphs sample JVM stacks: answered as Flink answers with rest.flamegraph.enabled off.
    let flamegraph = cluster.get(&format!("{sink}/flamegraph?type=on_cpu"));
    assert_eq!(flamegraph, sample("jobs_id_vertices_id_flamegraph.json"));
    // Flink answers NaN (a string) for a busy ratio it has not measured; ours is always measured.
    let mut backpressure = sample("vertex_backpressure.json");
    backpressure["subtasks"][0]["busyRatio"] = serde_json::json!(0.0);
    assert_same_shape("backpressure", &backpressure, &cluster.get(&format!("{vertex}/backpressure")));

    let jobs = ids(&cluster.get("/jobs/metrics"));
    for metric in
        ["uptime", "numRestarts", "lastCheckpointDuration", "lastCheckpointSize", "numberOfCompletedCheckpoints"]
    {
        assert!(jobs.contains(&metric.to_string()), "/jobs/metrics lacks {metric}: {jobs:?}");
    }
    let subtask = ids(&cluster.get(&format!("{vertex}/subtasks/0/metrics")));
    for metric in ["numRecordsInPerSecond", "busyTimeMsPerSecond", "idleTimeMsPerSecond", "currentInputWatermark"] {
        assert!(subtask.contains(&metric.to_string()), "a subtask lacks {metric}: {subtask:?}");
    }
    assert!(subtask.iter().any(|id| id.ends_with(".currentOutputWatermark")), "{subtask:?}");
    let jobmanager = cluster.get("/jobmanager/metrics?get=numRunningJobs,Status.ProcessTree.Memory.RSS");
    assert_eq!(value(&jobmanager, "numRunningJobs"), Some(1.0));
    assert!(value(&jobmanager, "Status.ProcessTree.Memory.RSS").unwrap() > 0.0);
    let taskmanager = cluster.get(&format!("/taskmanagers/{tm}/metrics?get=Status.ProcessTree.Memory.RSS"));
    assert!(value(&taskmanager, "Status.ProcessTree.Memory.RSS").unwrap() > 0.0, "{taskmanager}");
    let uptime = &cluster.get(&format!("/jobs/{job}/metrics?get=uptime"));
    assert!(value(uptime, "uptime").unwrap() > 0.0, "{uptime}");
    let checkpoints =
        format!("/jobs/{job}/metrics?get=numberOfCompletedCheckpoints,lastCheckpointDuration,lastCheckpointSize");
    let answer = wait_for("a completed checkpoint in the job's metrics", || {
        let answer = cluster.get(&checkpoints);
        (value(&answer, "numberOfCompletedCheckpoints")? >= 1.0).then_some(answer)
    });
    assert!(value(&answer, "lastCheckpointDuration").unwrap() >= 0.0, "{answer}");
    assert!(value(&answer, "lastCheckpointSize").unwrap() >= 0.0, "{answer}");
    // Deployed subtasks report their counters: Flink's dashboard shows them rather than "loading...".
    let running = cluster.get(&format!("/jobs/{job}"));
    assert_eq!(running["vertices"][0]["metrics"]["read-records-complete"], true, "{running}");
    let time = cluster.get(&format!("{vertex}/subtasktimes"));
    assert!(time["subtasks"][0]["timestamps"]["RUNNING"].as_u64().unwrap() > 0, "{time}");

    // Bad queries: one clear line, 4xx.
    let (status, answer) = cluster.raw("GET", &format!("{sink}/subtasks/metrics?get=numRecordsIn&agg=median"), "", b"");
    assert_eq!(status, 400, "{answer}");
    assert!(answer["errors"][0].as_str().unwrap().contains("median"), "{answer}");
    assert_same_shape("agg=median", &sample("metrics_error_agg.json"), &answer);
    let (status, _) = cluster.raw("GET", &format!("{sink}/subtasks/7/metrics"), "", b"");
    assert_eq!(status, 404);
    let (status, _) = cluster.raw("GET", &format!("{sink}/subtasks/x"), "", b"");
    assert_eq!(status, 400);
    let (status, _) = cluster.raw("GET", "/taskmanagers/nope/metrics", "", b"");
    assert_eq!(status, 404);
    let (status, _) = cluster.raw("GET", &format!("{sink}/subtasks/0/attempts/1"), "", b"");
    assert_eq!(status, 404, "only the current attempt is kept");

    let (status, _) = cluster.raw("PATCH", &format!("/jobs/{job}?mode=cancel"), "", b"");
    assert_eq!(status, 202);
    cluster.wait_for_status(&job, "CANCELED");
}

/// Sensor alerts on a file with a malformed line, on a TaskManager process: the guest's own counter
/// (`malformed-lines`, through the `metrics` import) shows under its operator's scope and as a user
/// accumulator, and the event-time watermarks reach the vertex views.
#[test]
fn guest_counters_and_watermarks_reach_the_metrics() {
    let cluster = TestCluster::start("metrics-guest", 1, &[]);
    let input = cluster.dir.join("readings.csv");
    std::fs::write(&input, "s1,1000,20.0\ns2,4000,bad\ns1,9500,19.0\nnonsense\ns1,12000,23.0\n").unwrap();
    let mut command = wflink();
    command.args(["run", "-m", &cluster.rest, "-p", "1"]).arg(example_wasm("sensor-alerts")).arg("--input").arg(&input);
    let output = run_with_limit(command, DEADLINE);
    assert!(output.status.success(), "run failed: {}", String::from_utf8_lossy(&output.stderr));
    let job = cluster.get("/jobs")["jobs"][0]["id"].as_str().unwrap().to_string();
    cluster.wait_for_status(&job, "FINISHED");
    let vertices = cluster.get(&format!("/jobs/{job}"))["vertices"].as_array().unwrap().clone();

    let mut counted = None;
    for vertex in &vertices {
        let path = format!("/jobs/{job}/vertices/{}", vertex["id"].as_str().unwrap());
        let metrics = ids(&cluster.get(&format!("{path}/metrics")));
        if let Some(id) = metrics.iter().find(|id| id.ends_with(".malformed-lines")) {
            assert!(id.starts_with("0."), "{id}");
            assert_eq!(value(&cluster.get(&format!("{path}/metrics?get={id}")), id), Some(2.0));
            let accumulators = cluster.get(&format!("{path}/accumulators"));
            let user = &accumulators["user-accumulators"][0];
            assert_eq!((user["name"].as_str(), user["value"].as_str()), (Some("malformed-lines"), Some("2")));
            let attempt = cluster.get(&format!("{path}/subtasks/0/attempts/0/accumulators"));
            assert_eq!(attempt["user-accumulators"][0]["value"], "2", "{attempt}");
            counted = Some(path);
        }
    }
    assert!(counted.is_some(), "no vertex shows the guest's counter");
    let job_accumulators = cluster.get(&format!("/jobs/{job}/accumulators"));
    let user = &job_accumulators["user-task-accumulators"][0];
    assert_eq!((user["name"].as_str(), user["value"].as_str()), (Some("malformed-lines"), Some("2")));

    // The downstream vertices saw the end-of-input watermark, and the first sent it.
    let last = format!("/jobs/{job}/vertices/{}", vertices.last().unwrap()["id"].as_str().unwrap());
    let watermarks = cluster.get(&format!("{last}/watermarks"));
    assert_eq!(watermarks[0]["id"], "0.currentInputWatermark");
    assert_eq!(watermarks[0]["value"].as_str(), Some(i64::MAX.to_string().as_str()), "{watermarks}");
}

/// The bad records the source of `job` (its first vertex) skipped, as its `numRecordsInErrors` metric counts them:
/// summed over the subtasks' ids of the vertex's metrics, and checked against the aggregate over its subtasks.
fn skipped_in_metric(cluster: &TestCluster, job: &str, parallelism: usize) -> f64 {
    let vertices = cluster.get(&format!("/jobs/{job}"))["vertices"].as_array().unwrap().clone();
    let source = format!("/jobs/{job}/vertices/{}", vertices[0]["id"].as_str().unwrap());
    let listed = ids(&cluster.get(&format!("{source}/metrics")));
    let per_subtask: Vec<&String> = listed.iter().filter(|id| id.ends_with(".numRecordsInErrors")).collect();
    assert_eq!(per_subtask.len(), parallelism, "one per subtask, under the source's scope: {listed:?}");
    let get = per_subtask.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(",");
    let answer = cluster.get(&format!("{source}/metrics?get={get}"));
    let counted: f64 = per_subtask.iter().map(|id| value(&answer, id).unwrap()).sum();
    let scope = per_subtask[0].split_once('.').unwrap().1;
    let summed = cluster.get(&format!("{source}/subtasks/metrics?get={scope}&agg=sum"));
    assert_eq!(summed[0]["sum"].as_f64(), Some(counted), "{summed}");
    let sink = format!("/jobs/{job}/vertices/{}", vertices.last().unwrap()["id"].as_str().unwrap());
    assert!(!ids(&cluster.get(&format!("{sink}/metrics"))).iter().any(|id| id.contains("numRecordsInErrors")));
    counted
}

/// How many skipped records the TaskManager's `skipped bad records` log lines count.
fn skipped_in_log(cluster: &TestCluster) -> u64 {
    let log = std::fs::read_to_string(cluster.dir.join("taskmanager-0.log")).unwrap();
    log.lines()
        .filter(|l| l.contains("skipped bad records"))
        .filter_map(|l| l.split_once(" skipped=")?.1.split(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Runs the `kafka-clicks` test guest on the cluster with `args`, skipping bad records; returns the job id.
fn run_clicks_skipping(cluster: &TestCluster, args: &[&str]) -> String {
    let before = cluster.get("/jobs")["jobs"].as_array().unwrap().len();
    let mut command = wflink();
    command.args(["run", "-m", &cluster.rest, "-p", "2"]).arg(test_guest("kafka-clicks"));
    command.args(["--format", "json", "--skip-bad-records"]).args(args);
    let run = run_with_limit(command, DEADLINE);
    assert!(run.status.success(), "run failed: {}", String::from_utf8_lossy(&run.stderr));
    let jobs = cluster.get("/jobs")["jobs"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), before + 1, "{jobs:?}");
    let job = String::from_utf8_lossy(&run.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Job has been submitted with JobID ").map(|id| id.trim().to_string()))
        .expect("the job's id");
    cluster.wait_for_status(&job, "FINISHED");
    job
}

/// Bad JSON records read at p=2 with `bad-records=skip` on a TaskManager process, from a file and from a Kafka
/// topic (a real broker): each source counts the records it skipped in Flink's `numRecordsInErrors` under its
/// operator's scope (per subtask, and summed over them), its TaskManager logs them, and the good records' totals are
/// whole.
#[test]
fn bad_records_file_and_kafka_sources_skip_are_counted_in_their_metric() {
    let mut cluster = TestCluster::start("metrics-skipped", 0, &[]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=2"]);
    cluster.wait_for_taskmanagers(1);
    let input = cluster.dir.join("clicks.jsonl");
    let mut text = String::new();
    let mut expected = std::collections::BTreeMap::new();
    for i in 0..300 {
        match i {
            17 => text.push_str("{\"user\": oops}\n"),
            150 => text.push_str("not json at all\n"),
            299 => text.push_str("{\"user\":\"u1\",\"clicks\":\n"),
            _ => {
                let user = format!("u{}", i % 5);
                *expected.entry(user.clone()).or_insert(0) += i;
                text.push_str(&format!("{{\"user\":\"{user}\",\"clicks\":{i}}}\n"));
            }
        }
    }
    std::fs::write(&input, text).unwrap();
    let output = cluster.dir.join("totals");
    let job =
        run_clicks_skipping(&cluster, &["--input", input.to_str().unwrap(), "--output", output.to_str().unwrap()]);
    assert_eq!(skipped_in_metric(&cluster, &job, 2), 3.0);
    assert_eq!(skipped_in_log(&cluster), 3, "the TaskManager logs what the file source skipped");
    let mut totals = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(&output).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with('.') {
            continue;
        }
        for line in std::fs::read_to_string(path).unwrap().lines().skip(1) {
            let (user, clicks) = line.split_once(',').unwrap();
            let best = totals.entry(user.to_string()).or_insert(0);
            *best = (*best).max(clicks.parse::<i32>().unwrap());
        }
    }
    assert_eq!(totals, expected, "the good lines' totals");

    let broker = Broker::start("metrics-skipped");
    broker.create_topic("clicks", 2);
    broker.create_topic("totals", 1);
    let records = [
        (0, None, r#"{"user":"u1","clicks":1}"#),
        (1, None, "{oops"),
        (0, None, "[1,"),
        (1, None, r#"{"user":"u2","clicks":5}"#),
    ];
    broker.produce("clicks", &records);
    let args = ["--brokers", &broker.address, "--topic", "clicks", "--output-topic", "totals"];
    let job = run_clicks_skipping(&cluster, &args);
    assert_eq!(skipped_in_metric(&cluster, &job, 2), 2.0);
    assert_eq!(skipped_in_log(&cluster), 5, "the TaskManager logs what the Kafka source skipped too");
    assert_eq!(broker.values("totals").len(), 2, "the good records' totals");
}

/// A port free on this machine just now (the reporter takes the first free one of its range anyway).
fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0").unwrap().local_addr().unwrap().port()
}

/// The URL a process printed for its Prometheus endpoint into `file`.
fn prometheus_url(file: &std::path::Path) -> String {
    wait_for("the Prometheus endpoint to be announced", || {
        let text = std::fs::read_to_string(file).ok()?;
        let line = text.lines().find_map(|l| l.strip_prefix("Prometheus endpoint: "))?;
        Some(line.trim().replace("localhost", "127.0.0.1"))
    })
}

/// `GET url` as text.
fn scrape(url: &str) -> String {
    ureq::get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}")).body_mut().read_to_string().unwrap()
}

/// The sum of every series of `name` (with labels) in a scrape.
fn sum_of(text: &str, name: &str) -> f64 {
    let prefix = format!("{name}{{");
    text.lines().filter(|l| l.starts_with(&prefix)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum()
}

/// With Flink's reporter keys, the JobManager and the TaskManager each serve `/metrics` in the Prometheus text
/// format with Flink's names and labels, and a running job's counters rise between two scrapes.
#[test]
fn prometheus_is_served_with_flinks_names_and_the_counters_rise() {
    let factory = "metrics.reporter.prom.factory.class=org.apache.flink.metrics.prometheus.PrometheusReporterFactory";
    let jm_port = format!("metrics.reporter.prom.port={}", free_port());
    let mut cluster = TestCluster::start("metrics-prometheus", 0, &[factory, &jm_port]);
    let tm_port = free_port();
    cluster.add_taskmanager(&[factory, &format!("metrics.reporter.prom.port={tm_port}-{}", tm_port + 20)]);
    cluster.wait_for_taskmanagers(1);
    let jobmanager = prometheus_url(&cluster.dir.join("jobmanager.out"));
    let taskmanager = prometheus_url(&cluster.dir.join("taskmanager-0.log"));

    let feed = WordFeed::start();
    let job = cluster.run_socket_wordcount(feed.port);

    let records = "flink_taskmanager_job_task_numRecordsOut";
    let first = wait_for("records counted in the TaskManager's scrape", || {
        let n = sum_of(&scrape(&taskmanager), records);
        (n > 0.0).then_some(n)
    });
    wait_for("the records to rise between scrapes", || (sum_of(&scrape(&taskmanager), records) > first).then_some(()));
    let text = scrape(&taskmanager);
    let line = text.lines().find(|l| l.starts_with("flink_taskmanager_job_task_numRecordsIn{")).unwrap();
    for label in [format!("job_id=\"{job}\""), "subtask_index=\"0\"".into(), "task_name=\"".into(), "tm_id=\"".into()] {
        assert!(line.contains(&label), "{label} missing from {line}");
    }
    assert!(text.contains("# TYPE flink_taskmanager_job_task_numRecordsIn gauge"), "{text}");
    assert!(text.contains("flink_taskmanager_job_task_operator_currentOutputWatermark{"), "{text}");
    assert!(sum_of(&text, "flink_taskmanager_Status_ProcessTree_Memory_RSS") > 0.0, "{text}");
    wait_for("a rate in the scrape", || {
        (sum_of(&scrape(&taskmanager), "flink_taskmanager_job_task_numRecordsOutPerSecond") > 0.0).then_some(())
    });

    let text = scrape(&jobmanager);
    assert_eq!(sum_of(&text, "flink_jobmanager_numRunningJobs"), 1.0, "{text}");
    assert_eq!(sum_of(&text, "flink_jobmanager_numRegisteredTaskManagers"), 1.0, "{text}");
    let uptime = text.lines().find(|l| l.starts_with("flink_jobmanager_job_uptime{")).expect("a job's uptime");
    assert!(uptime.contains(&format!("job_id=\"{job}\"")), "{uptime}");
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let other = jobmanager.replace("/metrics", "/other");
    assert_eq!(agent.get(&other).call().unwrap().status(), 404);

    let (status, _) = cluster.raw("PATCH", &format!("/jobs/{job}?mode=cancel"), "", b"");
    assert_eq!(status, 202);
    cluster.wait_for_status(&job, "CANCELED");
}

/// `wflink run --local` with Flink's reporter keys serves `/metrics` too, for as long as the job runs: the job's
/// metrics and its tasks' (the one process is JobManager and TaskManager), with Flink's names and labels, and the
/// counters rise between scrapes.
#[test]
fn a_local_run_serves_prometheus_and_its_counters_rise() {
    let factory = "metrics.reporter.prom.factory.class=org.apache.flink.metrics.prometheus.PrometheusReporterFactory";
    let port = free_port();
    let dir = scratch("metrics-prometheus-local");
    let feed = WordFeed::start();
    let mut command = wflink();
    command.args(["run", "--local", "-p", "2", "-D", factory, "-D"]);
    command.arg(format!("metrics.reporter.prom.port={port}-{}", port + 20)).arg(wordcount_wasm());
    command.args(["--hostname", "127.0.0.1", "--port", &feed.port.to_string()]);
    let err = dir.join("run.err");
    command.stdout(std::fs::File::create(dir.join("run.out")).unwrap());
    command.stderr(std::fs::File::create(&err).unwrap());
    let mut run = Running::spawned(command.spawn().unwrap());
    let url = prometheus_url(&err);

    let records = "flink_taskmanager_job_task_numRecordsIn";
    let first = wait_for("records counted in the local run's scrape", || {
        let n = sum_of(&scrape(&url), records);
        (n > 0.0).then_some(n)
    });
    wait_for("the records to rise between scrapes", || (sum_of(&scrape(&url), records) > first).then_some(()));
    let text = scrape(&url);
    let line = text.lines().find(|l| l.starts_with("flink_taskmanager_job_task_numRecordsIn{")).unwrap();
    for label in ["job_id=\"", "job_name=\"", "subtask_index=\"1\"", "task_name=\"", "tm_id=\""] {
        assert!(text.lines().any(|l| l.starts_with(records) && l.contains(label)), "{label} missing from {line}");
    }
    assert!(text.contains("flink_taskmanager_job_task_operator_currentOutputWatermark{"), "{text}");
    assert_eq!(sum_of(&text, "flink_jobmanager_numRunningJobs"), 1.0, "{text}");
    assert!(text.lines().any(|l| l.starts_with("flink_jobmanager_job_uptime{")), "{text}");
    wait_for("a rate in the scrape", || {
        (sum_of(&scrape(&url), "flink_taskmanager_job_task_numRecordsInPerSecond") > 0.0).then_some(())
    });
    assert!(run.child.try_wait().unwrap().is_none(), "the local run still runs");
}

/// The back pressure view of `vertex` (its index in the job) of `job`.
fn backpressure(cluster: &TestCluster, job: &str, vertex: usize) -> Value {
    let id = cluster.get(&format!("/jobs/{job}"))["vertices"][vertex]["id"].as_str().unwrap().to_string();
    cluster.get(&format!("/jobs/{job}/vertices/{id}/backpressure"))
}

/// A map slower than its source (the hostile job's `map-slow`: 200 µs a record, at parallelism 2 in tasks of its
/// own) holds a fast source back: the source's vertex reports back pressure `high`, with its subtask's ratio; the
/// slow map's subtasks are busy, not back-pressured (`ok`). A job with little to do reports `ok` and is idle.
#[test]
fn a_slow_operator_back_pressures_its_source_and_an_idle_job_reports_ok() {
    let mut cluster = TestCluster::start("metrics-backpressure", 0, &[]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=3"]);
    cluster.wait_for_taskmanagers(1);
    let hostile = test_guest("hostile-job");
    let hostile = hostile.to_str().unwrap();
    let slow = submit(&cluster, &[hostile, "--mode", "map-slow", "--rate", "50000"]);
    let idle = submit(&cluster, &[hostile, "--mode", "none", "--rate", "1"]);

    let source = wait_for("the slow job's source to be back-pressured high", || {
        let answer = backpressure(&cluster, &slow, 0);
        (answer["backpressureLevel"] == "high").then_some(answer)
    });
    let mut recorded = sample("vertex_backpressure.json");
    recorded["subtasks"][0]["busyRatio"] = serde_json::json!(0.0);
    assert_same_shape("backpressure", &recorded, &source);
    let subtask = &source["subtasks"][0];
    assert!(subtask["ratio"].as_f64().unwrap() > 0.5, "{source}");
    assert_eq!(subtask["backpressureLevel"], "high", "{source}");
    let map = wait_for("the slow map's subtasks to be busy", || {
        let answer = backpressure(&cluster, &slow, 1);
        let subtasks = answer["subtasks"].as_array()?.clone();
        (subtasks.len() == 2 && subtasks.iter().all(|s| s["busyRatio"].as_f64().unwrap_or(0.0) > 0.5)).then_some(answer)
    });
    assert_eq!(map["backpressureLevel"], "ok", "the slow map is busy, not held back: {map}");

    let quiet = wait_for("the idle job's source to be measured idle", || {
        let answer = backpressure(&cluster, &idle, 0);
        (answer["subtasks"][0]["idleRatio"].as_f64()? > 0.5).then_some(answer)
    });
    assert_eq!(quiet["backpressureLevel"], "ok", "{quiet}");
    assert!(quiet["subtasks"][0]["ratio"].as_f64().unwrap() <= 0.1, "{quiet}");
}
