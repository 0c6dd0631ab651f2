//! End-to-end: a real session cluster (a `wflink jobmanager` and
//! `wflink taskmanager` processes on loopback) driven through its REST
//! API and the `wflink` CLI.

use std::io::Write;
use std::net::{TcpListener, TcpStream};

use crate::common::cluster::{DEADLINE, TestCluster, multipart, wait_for};
use crate::common::shapes::{assert_same_shape, sample};
use crate::common::*;

/// A socket the socket source connects to: it writes `lines` to the job and
/// keeps the connection open, so the job runs until cancelled.
pub(crate) fn endless_socket(lines: &'static str) -> (u16, std::thread::JoinHandle<Vec<TcpStream>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(lines.as_bytes()).unwrap();
        vec![stream]
    });
    (port, handle)
}

/// Wordcount at parallelism 2 on two TaskManagers of one slot each: the
/// key-by sends records between the TaskManager processes over TCP, each
/// TaskManager's print sink writes its half to its own `.out` file with
/// the `N> ` prefix, and the counts are exact. Submitted with `wflink run -m`,
/// which waits for the end and exits 0.
#[test]
fn wordcount_is_exact_across_two_taskmanagers() {
    let cluster = TestCluster::start("cluster-wordcount", 2, &[]);
    let (text, output) = cluster.run_wordcount(40_000, 11, 2);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "run failed: {stdout} {}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("Job has been submitted with JobID"), "{stdout}");

    let (first, second) = (cluster.taskmanager_out(0), cluster.taskmanager_out(1));
    assert!(!first.is_empty() && !second.is_empty(), "both TaskManagers print their subtask's counts");
    let prefixes = |out: &str| {
        out.lines().map(|l| l.split_once("> ").unwrap().0.to_string()).collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(prefixes(&first).len(), 1, "one sink subtask per TaskManager");
    assert_ne!(prefixes(&first), prefixes(&second));
    let (counts, updates) = final_counts(&(first + &second));
    let expected = expected_counts(&text);
    assert_eq!(counts, expected);
    assert_eq!(updates as u64, expected.values().sum::<u64>());

    // The JobManager saw every record cross from the tokenizer to the counter.
    let jobs = cluster.get("/jobs/overview");
    let job_id = jobs["jobs"][0]["jid"].as_str().unwrap();
    let job = cluster.get(&format!("/jobs/{job_id}"));
    assert_eq!(job["state"], "FINISHED");
    let vertices = job["vertices"].as_array().unwrap();
    assert_eq!(vertices[0]["metrics"]["write-records"], vertices[1]["metrics"]["read-records"]);
    assert_eq!(vertices[1]["metrics"]["read-records"].as_u64().unwrap(), expected.values().sum::<u64>());
    let ports: std::collections::BTreeSet<_> = cluster.get("/taskmanagers")["taskmanagers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tm| tm["dataPort"].as_i64())
        .collect();
    assert_eq!(ports.len(), 2, "two TaskManagers on one machine, each with its own data port");
}

/// The REST API answers with Flink's field names and JSON types, as
/// recorded from a real Flink 2.3 cluster, on every path also under `/v1`;
/// it serves an OpenAPI document.
#[test]
fn rest_responses_have_flinks_shapes() {
    let cluster = TestCluster::start("cluster-rest-shapes", 1, &[]);
    for (path, recorded) in [
        ("/overview", "overview_idle.json"),
        ("/config", "config.json"),
        ("/jobs", "jobs_empty.json"),
        ("/jobs/overview", "jobs_overview_empty.json"),
        ("/taskmanagers", "taskmanagers_running.json"),
        ("/jobmanager/config", "jobmanager_config.json"),
    ] {
        assert_same_shape(path, &sample(recorded), &cluster.get(path));
        assert_same_shape(path, &sample(recorded), &cluster.get(&format!("/v1{path}")));
    }

    let (port, socket) = endless_socket("to be or not to be\n");
    let jar = cluster.upload("wordcount.wasm", &std::fs::read(wordcount_wasm()).unwrap());
    assert_eq!(cluster.get("/jars")["files"][0]["id"], jar.as_str());
    let job = cluster.run_jar(
        &jar,
        serde_json::json!({ "programArgsList": ["--hostname", "127.0.0.1", "--port", port.to_string()] }),
    );
    cluster.wait_for_status(&job, "RUNNING");
    wait_for("the records to be counted", || {
        let details = cluster.get(&format!("/jobs/{job}"));
        (details["vertices"].as_array()?.last()?["metrics"]["read-records"].as_u64()? == 6).then_some(())
    });
    assert_same_shape("/jobs/:id", &sample("jobs_id_running.json"), &cluster.get(&format!("/jobs/{job}")));
    assert_same_shape(
        "/jobs/:id/status",
        &sample("jobs_id_status_running.json"),
        &cluster.get(&format!("/jobs/{job}/status")),
    );
    assert_same_shape("/jobs/overview", &sample("jobs_overview_running.json"), &cluster.get("/jobs/overview"));
    assert_same_shape("/overview", &sample("overview_running.json"), &cluster.get("/overview"));
    let in_progress = cluster.get(&format!("/jobs/{job}/execution-result"));
    assert_same_shape("/jobs/:id/execution-result", &sample("jobs_id_execution_result_in_progress.json"), &in_progress);
    let vertices = cluster.get(&format!("/jobs/{job}"))["vertices"].as_array().unwrap().len();
    assert_eq!(cluster.get(&format!("/jobs/{job}/plan"))["plan"]["nodes"].as_array().unwrap().len(), vertices);

    let (status, _) = cluster.raw("PATCH", &format!("/jobs/{job}?mode=cancel"), "", b"");
    assert_eq!(status, 202);
    cluster.wait_for_status(&job, "CANCELED");
    drop(socket);
    assert_same_shape("/jobs/:id", &sample("jobs_id_canceled.json"), &cluster.get(&format!("/jobs/{job}")));
    assert_same_shape("/overview", &sample("overview_after_cancel.json"), &cluster.get("/overview"));
    assert_same_shape("/jobs/overview", &sample("jobs_overview_after_cancel.json"), &cluster.get("/jobs/overview"));
    let result = cluster.get(&format!("/jobs/{job}/execution-result"));
    assert_same_shape("/jobs/:id/execution-result", &sample("jobs_id_execution_result_completed.json"), &result);
    assert_eq!(result["job-execution-result"]["application-status"], "CANCELED");
    let (status, error) = cluster.raw("GET", "/jobs/00000000000000000000000000000000", "", b"");
    assert_eq!(status, 404);
    assert_same_shape("error", &sample("error_unknown_job.json"), &error);
    let openapi = cluster.get("/openapi.json");
    assert!(openapi["paths"]["/jars/upload"]["post"].is_object(), "{openapi}");
}

/// `GET /jobs` lists a job with the status `/jobs/:id/status` gives: RUNNING
/// while it runs (it said INITIALIZING until the job ended), then CANCELED.
#[test]
fn the_job_list_agrees_with_each_jobs_status() {
    let cluster = TestCluster::start("cluster-job-list", 1, &[]);
    let (port, socket) = endless_socket("to be or not to be\n");
    let jar = cluster.upload("wordcount.wasm", &std::fs::read(wordcount_wasm()).unwrap());
    let args = serde_json::json!({ "programArgsList": ["--hostname", "127.0.0.1", "--port", port.to_string()] });
    let job = cluster.run_jar(&jar, args);
    cluster.wait_for_status(&job, "RUNNING");
    let listed = |job: &str| {
        let jobs = cluster.get("/jobs")["jobs"].as_array().unwrap().clone();
        jobs.iter().find(|j| j["id"] == job).map(|j| j["status"].as_str().unwrap().to_string())
    };
    assert_eq!(listed(&job).as_deref(), Some("RUNNING"));
    assert_eq!(cluster.raw("PATCH", &format!("/jobs/{job}?mode=cancel"), "", b"").0, 202);
    cluster.wait_for_status(&job, "CANCELED");
    drop(socket);
    assert_eq!(listed(&job).as_deref(), Some("CANCELED"));
}

/// `wflink run -d` submits a long-running job and returns; `wflink list`
/// shows it RUNNING in Flink's format; `wflink cancel` ends it CANCELED;
/// `wflink list -a` shows it under terminated jobs; a second cancel fails
/// (409 from the REST API).
#[test]
fn list_and_cancel_through_the_cli() {
    let cluster = TestCluster::start("cluster-cli", 1, &[]);
    let (port, socket) = endless_socket("a b c\n");
    let mut command = wflink();
    command.args(["run", "-d", "-m", &cluster.rest]).arg(wordcount_wasm());
    command.args(["--hostname", "127.0.0.1", "--port", &port.to_string()]);
    let output = run_with_limit(command, DEADLINE);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
    let job = stdout.trim().rsplit(' ').next().unwrap().to_string();
    cluster.wait_for_status(&job, "RUNNING");

    let cli = |args: &[&str]| {
        let mut command = wflink();
        command.args(args).args(["-m", &cluster.rest]);
        run_with_limit(command, DEADLINE)
    };
    let listed = cli(&["list"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("------------------ Running/Restarting Jobs -------------------"), "{text}");
    assert!(text.contains(&format!(" : {job} : wordcount (RUNNING)")), "{text}");
    assert!(text.contains("No scheduled jobs."), "{text}");

    let cancelled = cli(&["cancel", &job]);
    let text = String::from_utf8_lossy(&cancelled.stdout);
    assert!(cancelled.status.success(), "{text} {}", String::from_utf8_lossy(&cancelled.stderr));
    assert_eq!(text, format!("Cancelling job {job}.\nCancelled job {job}.\n"));
    drop(socket);

    let listed = cli(&["list", "-a"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("No running jobs."), "{text}");
    assert!(text.contains("---------------------- Terminated Jobs -----------------------"), "{text}");
    assert!(text.contains(&format!(" : {job} : wordcount (CANCELED)")), "{text}");

    assert_clean_failure(&cli(&["cancel", &job]), "409");
    let (status, body) = cluster.raw("PATCH", &format!("/jobs/{job}?mode=cancel"), "", b"");
    assert_eq!(status, 409, "{body}");
    assert!(body["errors"][0].as_str().unwrap().contains("already ended"), "{body}");
    assert_clean_failure(&cli(&["cancel", "0123456789abcdef0123456789abcdef"]), "not found");
}

/// A TaskManager killed while its job runs is noticed within seconds: the
/// job FAILS naming the lost TaskManager, and the TaskManager leaves
/// `/taskmanagers` and the slot count.
#[test]
fn a_killed_taskmanager_fails_its_job_and_leaves_the_cluster() {
    let mut cluster = TestCluster::start("cluster-kill", 2, &["heartbeat.timeout=3 s"]);
    let (port, socket) = endless_socket("one two three four\n");
    let jar = cluster.upload("wordcount.wasm", &std::fs::read(wordcount_wasm()).unwrap());
    let args = ["--hostname", "127.0.0.1", "--port", &port.to_string()].map(String::from);
    let job = cluster.run_jar(&jar, serde_json::json!({ "programArgsList": args, "parallelism": 2 }));
    cluster.wait_for_status(&job, "RUNNING");
    wait_for("the words to be counted on both TaskManagers", || {
        let details = cluster.get(&format!("/jobs/{job}"));
        (details["vertices"].as_array()?.last()?["metrics"]["read-records"].as_u64()? == 4).then_some(())
    });

    cluster.kill_taskmanager(1);
    cluster.wait_for_status(&job, "FAILED");
    cluster.wait_for_taskmanagers(1);
    let overview = cluster.get("/overview");
    assert_eq!((overview["taskmanagers"].as_u64(), overview["slots-total"].as_u64()), (Some(1), Some(1)));
    let exceptions = cluster.get(&format!("/jobs/{job}/exceptions"));
    let root = exceptions["root-exception"].as_str().unwrap();
    assert!(root.contains("was lost"), "{exceptions}");
    drop(socket);
}

/// A JobManager killed with SIGKILL and started again on the same ports
/// gets its TaskManager back without touching it: the TaskManager notices
/// the loss, cancels the task it ran for the old JobManager (its socket
/// source lets go of its connection), registers again under the same id,
/// and runs a new wordcount with exact counts. A TaskManager whose
/// JobManager stays away keeps trying, and SIGTERM still ends it at once.
#[test]
fn a_taskmanager_registers_again_with_a_restarted_jobmanager() {
    let mut cluster = TestCluster::start("cluster-jm-restart", 1, &[]);
    let id = |cluster: &TestCluster| -> Option<String> {
        let answer = cluster.client.get("/taskmanagers").ok()?;
        Some(answer["taskmanagers"].as_array()?.first()?["id"].as_str()?.to_string())
    };
    let tm_id = id(&cluster).unwrap();
    let (port, socket) = endless_socket("one two three\n");
    let jar = cluster.upload("wordcount.wasm", &std::fs::read(wordcount_wasm()).unwrap());
    let args = ["--hostname", "127.0.0.1", "--port", &port.to_string()].map(String::from);
    let old_job = cluster.run_jar(&jar, serde_json::json!({ "programArgsList": args, "parallelism": 1 }));
    cluster.wait_for_status(&old_job, "RUNNING");
    let mut source_connection = socket.join().unwrap().pop().unwrap();

    cluster.kill_jobmanager();
    wait_for("the taskmanager to notice the lost jobmanager", || {
        cluster.taskmanager_log(0).contains("lost the JobManager").then_some(())
    });
    // Its task was cancelled: the socket source closed its connection.
    source_connection.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut rest = Vec::new();
    let ended = std::io::Read::read_to_end(&mut source_connection, &mut rest);
    assert!(
        ended.is_ok() || ended.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "{ended:?}"
    );
    assert!(cluster.taskmanager(0).try_wait().unwrap().is_none(), "the taskmanager outlives its jobmanager");

    cluster.restart_jobmanager();
    wait_for("the taskmanager to register again", || (id(&cluster)? == tm_id).then_some(()));
    assert_eq!(cluster.get("/overview")["slots-available"].as_u64(), Some(1));

    let (text, output) = cluster.run_wordcount(5_000, 23, 1);
    assert!(output.status.success(), "run failed: {}", String::from_utf8_lossy(&output.stderr));
    // The old job's words are not in the generated text; its counts (if printed) are left out.
    let old_words = ["(one,", "(two,", "(three,"];
    let out = cluster.taskmanager_out(0);
    let new_job_lines: Vec<&str> = out.lines().filter(|l| !old_words.iter().any(|w| l.contains(w))).collect();
    let (counts, updates) = final_counts(&new_job_lines.join("\n"));
    let expected = expected_counts(&text);
    assert_eq!(updates as u64, expected.values().sum::<u64>());
    assert_eq!(counts, expected);

    // The JobManager goes away for good: the TaskManager keeps trying, and a signal ends it promptly.
    cluster.kill_jobmanager();
    wait_for("the taskmanager to retry", || {
        (cluster.taskmanager_log(0).matches("lost the JobManager").count() == 2).then_some(())
    });
    wait_for("a failed registration attempt", || {
        cluster.taskmanager_log(0).contains("does not answer yet").then_some(())
    });
    let pid = cluster.taskmanager(0).id() as i32;
    // SAFETY: kill(2) only sends a signal, to the child process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = wait_for("the taskmanager to end on SIGTERM", || cluster.taskmanager(0).try_wait().unwrap());
    assert!(!status.success());
}

/// A JobManager that hangs (SIGSTOP) with its connection open is noticed
/// by the TaskManager after `heartbeat.timeout`; once it resumes, the
/// TaskManager's pending registration goes through, the cluster counts it
/// once (the stale connection's loss does not remove the new one), and
/// a job runs on it.
#[test]
fn a_taskmanager_notices_a_silent_jobmanager_and_comes_back() {
    let mut cluster = TestCluster::start("cluster-jm-frozen", 0, &["heartbeat.timeout=2 s"]);
    cluster.add_taskmanager(&["heartbeat.timeout=2 s"]);
    cluster.wait_for_taskmanagers(1);
    let tm_id = cluster.get("/taskmanagers")["taskmanagers"][0]["id"].as_str().unwrap().to_string();

    cluster.signal_jobmanager(libc::SIGSTOP);
    wait_for("the taskmanager to miss the jobmanager's heartbeats", || {
        cluster.taskmanager_log(0).contains("no heartbeat from the JobManager").then_some(())
    });
    cluster.signal_jobmanager(libc::SIGCONT);
    wait_for("one taskmanager with one slot, registered again", || {
        let tms = cluster.get("/taskmanagers")["taskmanagers"].as_array()?.clone();
        let overview = cluster.get("/overview");
        let back = cluster.taskmanager_log(0).contains("registered again with the JobManager");
        (back && tms.len() == 1 && tms[0]["id"] == tm_id.as_str() && overview["slots-total"].as_u64() == Some(1))
            .then_some(())
    });
    let (text, output) = cluster.run_wordcount(2_000, 5, 1);
    assert!(output.status.success(), "run failed: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(final_counts(&cluster.taskmanager_out(0)).0, expected_counts(&text));
}

/// Everything a client can get wrong gets a 4xx with a reason, and nothing
/// is stored or started: a file that is not wasm, a truncated component, a
/// core module, a component of the wrong world, an upload over the size
/// limit, an unknown or malformed job id, an unknown jar, malformed JSON,
/// an unknown mode, and a job needing more slots than exist (it fails
/// after `slot.request.timeout`).
#[test]
fn bad_requests_get_clear_4xx_answers() {
    let cluster =
        TestCluster::start("cluster-bad", 1, &["rest.server.max-content-length=4m", "slot.request.timeout=300 ms"]);
    let wasm = std::fs::read(wordcount_wasm()).unwrap();
    let post_file = |name: &str, bytes: &[u8]| {
        let (content_type, body) = multipart(name, bytes);
        cluster.raw("POST", "/jars/upload", &content_type, &body)
    };
    let cases: [(&str, Vec<u8>, u16, &str); 5] = [
        ("words.txt", b"hello world".to_vec(), 400, "magic"),
        ("truncated.wasm", wasm[..wasm.len() / 2].to_vec(), 400, "not a valid job component"),
        ("core.wasm", b"\0asm\x01\0\0\0".to_vec(), 400, "core"),
        ("not-a-job.wasm", std::fs::read(test_guest("not-a-job")).unwrap(), 400, "not a valid job component"),
        ("huge.wasm", vec![0u8; 64 << 20], 413, ""),
    ];
    for (name, bytes, expected, reason) in cases {
        let (status, body) = post_file(name, &bytes);
        assert_eq!(status, expected, "{name}: {body}");
        let message = body["errors"][0].as_str().unwrap_or_else(|| panic!("{name}: no errors array in {body}"));
        assert!(message.to_lowercase().contains(reason), "{name}: {message}");
    }
    assert_eq!(cluster.get("/jars")["files"].as_array().unwrap().len(), 0, "nothing bad was stored");

    let (status, _) = cluster.raw("POST", "/jars/upload", "multipart/form-data; boundary=x", b"garbage");
    assert_eq!(status, 400);
    assert_eq!(cluster.raw("GET", "/jobs/0123456789abcdef0123456789abcdef", "", b"").0, 404);
    assert_eq!(cluster.raw("GET", "/jobs/not-a-job-id/status", "", b"").0, 400);
    assert_eq!(cluster.raw("POST", "/jars/nope/run", "application/json", b"{}").0, 404);
    assert_eq!(cluster.raw("DELETE", "/jars/nope", "", b"").0, 404);
    assert_eq!(cluster.raw("GET", "/no/such/path", "", b"").0, 404);

    let jar = cluster.upload("wordcount.wasm", &wasm);
    let (status, body) = cluster.raw("POST", &format!("/jars/{jar}/run"), "application/json", b"{not json");
    assert_eq!(status, 400, "{body}");
    let (status, body) = cluster.raw("POST", &format!("/jars/{jar}/run"), "application/json", b"{}");
    assert_eq!(status, 400, "a job without its arguments is refused: {body}");
    assert!(body["errors"][0].as_str().unwrap().contains("--input"), "{body}");
    let (status, body) = cluster.raw("POST", &format!("/jars/{jar}/run?entryClass=Other"), "application/json", b"");
    assert_eq!(status, 400, "{body}");

    let input = cluster.dir.join("words.txt");
    std::fs::write(&input, "a b c\n").unwrap();
    let args = serde_json::json!({ "programArgsList": ["--input", input.to_str().unwrap()], "parallelism": 3 });
    let job = cluster.run_jar(&jar, args);
    cluster.wait_for_status(&job, "FAILED");
    let exceptions = cluster.get(&format!("/jobs/{job}/exceptions"));
    assert!(exceptions["root-exception"].as_str().unwrap().contains("not enough task slots"), "{exceptions}");
    let (status, _) = cluster.raw("PATCH", &format!("/jobs/{job}?mode=stop-with-magic"), "", b"");
    assert_eq!(status, 400);

    let (status, _) = cluster.raw("DELETE", &format!("/jars/{jar}"), "", b"");
    assert_eq!(status, 200);
    assert_eq!(cluster.get("/jars")["files"].as_array().unwrap().len(), 0);
}

/// Invalid configuration refuses to start a process, naming the key, from
/// `-D` and from the configuration file alike.
#[test]
fn invalid_configuration_refuses_to_start() {
    let dir = scratch("cluster-config");
    let mut command = wflink();
    command.args(["jobmanager", "-D", "taskmanager.numberOfTaskSlots=zero"]);
    assert_clean_failure(&run_with_limit(command, DEADLINE), "taskmanager.numberOfTaskSlots");
    let file = dir.join("config.yaml");
    std::fs::write(&file, "taskmanager:\n  memory:\n    flink.size: 1728mbb\n").unwrap();
    let mut command = wflink();
    command.args(["taskmanager", "--jobmanager", "127.0.0.1:1", "--config"]).arg(&file);
    assert_clean_failure(&run_with_limit(command, DEADLINE), "taskmanager.memory.flink.size");
    let mut command = wflink();
    command.args(["jobmanager", "--config"]).arg(dir.join("missing.yaml"));
    assert_clean_failure(&run_with_limit(command, DEADLINE), "missing.yaml");
}

/// Picks a port that is free now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Stops the cluster of a log directory when the test ends, also on failure.
struct StopOnDrop(std::path::PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let mut command = wflink();
        command.args(["cluster", "stop", "--log-dir"]).arg(&self.0);
        let _ = run_with_limit(command, DEADLINE);
    }
}

/// `wflink cluster start --taskmanagers 2` leaves a JobManager and two
/// TaskManagers running with pid files and logs under the log directory;
/// a job's print output lands in the TaskManagers' `.out` files;
/// `wflink cluster stop` ends exactly those processes.
#[test]
fn cluster_start_and_stop_manage_their_processes() {
    let dir = scratch("cluster-start");
    let log = dir.join("log");
    let _stop = StopOnDrop(log.clone());
    let rest = format!("127.0.0.1:{}", free_port());
    let settings = [
        "rest.address=127.0.0.1".to_string(),
        format!("rest.port={}", rest.rsplit(':').next().unwrap()),
        "jobmanager.rpc.address=127.0.0.1".into(),
        format!("jobmanager.rpc.port={}", free_port()),
        "taskmanager.host=127.0.0.1".into(),
    ];
    let mut command = wflink();
    command.args(["cluster", "start", "--taskmanagers", "2", "--log-dir"]).arg(&log);
    for s in &settings {
        command.args(["-D", s]);
    }
    let output = run_with_limit(command, DEADLINE);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let pids: Vec<u32> = ["jobmanager.pid", "taskmanager-0.pid", "taskmanager-1.pid"]
        .iter()
        .map(|f| std::fs::read_to_string(log.join(f)).unwrap().trim().parse().unwrap())
        .collect();
    let alive = |pid: &u32| std::path::Path::new(&format!("/proc/{pid}")).exists();
    assert!(pids.iter().all(alive));

    let text = "x y x\n";
    let input = dir.join("in.txt");
    std::fs::write(&input, text).unwrap();
    let mut command = wflink();
    command.args(["run", "-m", &rest, "-p", "2"]).arg(wordcount_wasm()).arg("--input").arg(&input);
    let output = run_with_limit(command, DEADLINE);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed: String =
        (0..2).map(|i| std::fs::read_to_string(log.join(format!("wflink-taskmanager-{i}.out"))).unwrap()).collect();
    assert_eq!(final_counts(&printed).0, expected_counts(text));
    // The REST API serves each process's files under log/: the TaskManagers' stdout is what they printed.
    let client = crate::common::cluster::RestClient::new(&rest);
    let served: String = client.get("/taskmanagers").unwrap()["taskmanagers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tm| {
            let id = tm["id"].as_str().unwrap();
            let files = client.get(&format!("/taskmanagers/{id}/logs")).unwrap();
            let names: Vec<&str> =
                files["logs"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
            assert!(names.len() == 2 && names.iter().all(|n| n.starts_with("wflink-taskmanager-")), "{files}");
            let agent = ureq::Agent::new_with_defaults();
            agent
                .get(format!("http://{rest}/taskmanagers/{id}/stdout"))
                .call()
                .unwrap()
                .body_mut()
                .read_to_string()
                .unwrap()
        })
        .collect();
    assert_eq!(final_counts(&served).0, expected_counts(text));
    let jm_files = client.get("/jobmanager/logs").unwrap();
    assert!(jm_files.to_string().contains("wflink-jobmanager.log"), "{jm_files}");

    let mut command = wflink();
    command.args(["cluster", "stop", "--log-dir"]).arg(&log);
    let output = run_with_limit(command, DEADLINE);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    wait_for("the cluster's processes to end", || (!pids.iter().any(|p| alive(p) && !zombie(*p))).then_some(()));
    assert!(!log.join("jobmanager.pid").exists());
    assert!(log.join("wflink-jobmanager.log").exists(), "logs stay");
}

fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')))
}

/// Runs `command` with stdout and stderr in files of `dir` (a job's
/// output may exceed a pipe's buffer); kills it after the deadline.
fn run_to_files(mut command: std::process::Command, dir: &std::path::Path, name: &str) -> (bool, String, String) {
    let (out, err) = (dir.join(format!("{name}.out")), dir.join(format!("{name}.err")));
    command.stdout(std::fs::File::create(&out).unwrap()).stderr(std::fs::File::create(&err).unwrap());
    let mut child = command.spawn().unwrap();
    let status = wait_for(&format!("{name} to end"), || child.try_wait().unwrap());
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    (status.success(), read(&out), read(&err))
}

/// `wflink run-application` starts a cluster for one job, prints its
/// output, tears the cluster down and exits 0; a failing job exits non-zero.
#[test]
fn run_application_runs_one_job_on_its_own_cluster() {
    let dir = scratch("cluster-application");
    let text = generate_text(5_000, 5);
    let input = dir.join("in.txt");
    std::fs::write(&input, &text).unwrap();
    let local =
        ["-D", "taskmanager.host=127.0.0.1", "-D", "rest.address=127.0.0.1", "-D", "jobmanager.rpc.address=127.0.0.1"];
    let mut command = wflink();
    command.args(["run-application", "-p", "2"]).args(local).arg(wordcount_wasm()).arg("--input").arg(&input);
    let (ok, stdout, stderr) = run_to_files(command, &dir, "wordcount");
    assert!(ok, "{stderr}");
    let counts: String = stdout.lines().filter(|l| l.contains("> (")).map(|l| format!("{l}\n")).collect();
    assert_eq!(final_counts(&counts).0, expected_counts(&text));

    let mut command = wflink();
    command.arg("run-application").args(local).arg(test_guest("trapping-job"));
    command.arg("--input").arg(&input).args(["--trap-at", "10"]);
    let (ok, _, stderr) = run_to_files(command, &dir, "trapping");
    assert!(!ok, "a failing job fails run-application");
    assert!(stderr.contains("trapping-job: bad record 10"), "{stderr}");
}

/// `rest.bind-address` is where the REST server listens, apart from `rest.address` (what clients are told): bound
/// to 127.0.0.2 only, it answers there and refuses connections to 127.0.0.1.
#[test]
fn the_rest_server_listens_on_rest_bind_address() {
    let mut command = wflink();
    command.arg("jobmanager");
    for setting in
        ["rest.address=127.0.0.1", "rest.bind-address=127.0.0.2", "rest.port=0", "jobmanager.rpc.address=127.0.0.1"]
    {
        command.args(["-D", setting]);
    }
    command.args(["-D", "jobmanager.rpc.port=0"]);
    let jobmanager = Running::start(command);
    let port = loop {
        let line = jobmanager.next_line(DEADLINE, "the REST endpoint");
        if let Some(url) = line.strip_prefix("REST endpoint: http://127.0.0.1:") {
            break url.trim().parse::<u16>().expect("a port");
        }
    };
    let overview = ureq::get(&format!("http://127.0.0.2:{port}/overview")).call().expect("answers on 127.0.0.2");
    assert_eq!(overview.status(), 200);
    let refused = TcpStream::connect(("127.0.0.1", port));
    assert!(refused.is_err(), "nothing listens on 127.0.0.1:{port}");
}
