//! Closing a cluster that is open by default (as Flink's is), one key at
//! a time, with real processes: the cluster secret between processes,
//! the REST token (CLI included), `web.submit.enable`/`web.cancel.enable`,
//! `Host`/`Origin` checks and JSON-only bodies, and the directories jobs
//! may use (`wflink.io.allowed-paths`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::cluster::{DEADLINE, TestCluster, multipart, wait_for};
use crate::common::*;

const SECRET: &str = "correct-horse-battery-staple";
const TOKEN: &str = "t0ken-for-tests";

/// Waits for TaskManager `index` to exit; returns whether it failed.
fn exits_with_failure(cluster: &mut TestCluster, index: usize) -> bool {
    let child = cluster.taskmanager(index);
    let status = wait_for("a refused TaskManager to exit", || child.try_wait().unwrap());
    !status.success()
}

/// With `security.internal.secret`, a TaskManager without it or with
/// another one is refused (and exits at once, saying why; the JobManager
/// logs the refused peer), one with it registers, and two of them run a
/// job whose records cross between them; a TaskManager's data port
/// refuses a connection that cannot prove the secret. The secret is
/// masked in `/jobmanager/config` and appears in no log.
#[test]
fn taskmanagers_and_data_connections_need_the_cluster_secret() {
    let secret_dir = scratch("cluster-secret-file");
    let secret_file = secret_dir.join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let with_file = format!("security.internal.secret-file={}", secret_file.display());
    let mut cluster = TestCluster::start("cluster-secret", 0, &[&format!("security.internal.secret={SECRET}")]);

    let without = cluster.add_taskmanager(&[]);
    assert!(exits_with_failure(&mut cluster, without), "a TaskManager without the secret gives up at once");
    assert!(
        cluster.taskmanager_log(without).contains("requires the cluster secret"),
        "{}",
        cluster.taskmanager_log(without)
    );
    wait_for("the JobManager to log the refused TaskManager", || {
        cluster.jobmanager_log().contains("did not present the cluster secret").then_some(())
    });

    let wrong = cluster.add_taskmanager(&["security.internal.secret=another-secret"]);
    assert!(exits_with_failure(&mut cluster, wrong));
    let log = cluster.taskmanager_log(wrong);
    assert!(
        log.contains("did not prove it knows the cluster secret"),
        "a TaskManager does not trust a JobManager it cannot verify: {log}"
    );
    assert_eq!(cluster.get("/taskmanagers")["taskmanagers"].as_array().unwrap().len(), 0);

    let first = cluster.add_taskmanager(&[&with_file]);
    let second = cluster.add_taskmanager(&[&with_file]);
    cluster.wait_for_taskmanagers(2);
    let (text, output) = cluster.run_wordcount(20_000, 3, 2);
    assert!(output.status.success(), "run failed: {}", String::from_utf8_lossy(&output.stderr));
    let (counts, _) = final_counts(&(cluster.taskmanager_out(first) + &cluster.taskmanager_out(second)));
    assert_eq!(counts, expected_counts(&text), "records crossed between the TaskManagers");

    // A data port refuses a peer without the secret.
    let data_port = cluster.get("/taskmanagers")["taskmanagers"][0]["dataPort"].as_i64().unwrap();
    let stream = TcpStream::connect(("127.0.0.1", data_port as u16)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let link = wflink::network::Link::plain(stream);
    let refused = wflink::network::handshake::client(&link, "the data port", None, deadline).unwrap_err();
    assert!(refused.to_string().contains("requires the cluster secret"), "{refused}");
    wait_for("a TaskManager to log the refused data connection", || {
        (cluster.taskmanager_log(first) + &cluster.taskmanager_log(second))
            .contains("a data connection was refused")
            .then_some(())
    });

    let config = cluster.get("/jobmanager/config");
    let shown = config.as_array().unwrap().iter().find(|e| e["key"] == "security.internal.secret").unwrap();
    assert_eq!(shown["value"], "******");
    for log in [cluster.jobmanager_log(), cluster.taskmanager_log(first), cluster.taskmanager_log(without)] {
        assert!(!log.contains(SECRET), "the secret is never logged");
    }
}

/// With `security.rest.token`, a request without the token or with a
/// wrong one gets 401 as `{"errors": [...]}`, with it the API works; the
/// dashboard's page loads without it (it asks for the token); `wflink
/// list` and `wflink run -m` work with the token from the configuration
/// or from `WFLINK_REST_TOKEN`, and fail naming the token without it.
#[test]
fn the_rest_api_needs_the_token_and_the_cli_sends_it() {
    let cluster = TestCluster::start("rest-token", 1, &[&format!("security.rest.token={TOKEN}")]);
    let url = format!("http://{}", cluster.rest);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let status_and_body = |authorization: Option<&str>, path: &str| {
        let mut request = agent.get(format!("{url}{path}"));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let mut response = request.call().unwrap();
        let text = response.body_mut().read_to_string().unwrap();
        (response.status().as_u16(), text)
    };
    let (status, body) = status_and_body(None, "/overview");
    assert_eq!(status, 401);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert!(body["errors"][0].as_str().unwrap().contains("security.rest.token"), "{body}");
    assert_eq!(status_and_body(Some("Bearer wrong"), "/v1/jobs").0, 401);
    assert_eq!(status_and_body(Some(&format!("Bearer {TOKEN}")), "/overview").0, 200);
    let (status, page) = status_and_body(None, "/");
    assert!(status == 200 && page.contains("<html"), "the dashboard page loads: {status}");

    let list = |token_setting: Option<String>, env: Option<&str>| {
        let mut command = wflink();
        command.args(["list", "-m", &cluster.rest]);
        if let Some(setting) = token_setting {
            command.args(["-D", &setting]);
        }
        command.env_remove(wflink::cli::client::TOKEN_ENV);
        if let Some(token) = env {
            command.env(wflink::cli::client::TOKEN_ENV, token);
        }
        run_with_limit(command, DEADLINE)
    };
    let refused = list(None, None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(list(Some(format!("security.rest.token={TOKEN}")), None).status.success());
    assert!(list(None, Some(TOKEN)).status.success());

    let input = cluster.dir.join("input.txt");
    let text = generate_text(2_000, 9);
    std::fs::write(&input, &text).unwrap();
    let mut run = wflink();
    run.args(["run", "-m", &cluster.rest]).arg(wordcount_wasm()).arg("--input").arg(&input);
    run.env(wflink::cli::client::TOKEN_ENV, TOKEN);
    let output = run_with_limit(run, DEADLINE);
    assert!(output.status.success(), "run -m with the token: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(final_counts(&cluster.taskmanager_out(0)).0, expected_counts(&text));
}

/// `web.submit.enable: false` refuses uploads, plans and runs with 403 and
/// says so in `/config`; `web.cancel.enable: false` refuses cancel and stop.
#[test]
fn submit_and_cancel_can_be_switched_off() {
    let cluster = TestCluster::start("web-switches", 0, &["web.submit.enable=false", "web.cancel.enable=false"]);
    let (content_type, body) = multipart("wordcount.wasm", &std::fs::read(wordcount_wasm()).unwrap());
    let (status, answer) = cluster.raw("POST", "/jars/upload", &content_type, &body);
    assert_eq!(status, 403, "{answer}");
    assert!(answer["errors"][0].as_str().unwrap().contains("web.submit.enable"), "{answer}");
    assert_eq!(cluster.raw("POST", "/jars/some.wasm/run", "application/json", b"{}").0, 403);
    assert_eq!(cluster.raw("GET", "/jars/some.wasm/plan", "", b"").0, 403);
    let job = "0123456789abcdef0123456789abcdef";
    let (status, answer) = cluster.raw("PATCH", &format!("/jobs/{job}?mode=cancel"), "", b"");
    assert_eq!(status, 403, "{answer}");
    assert!(answer["errors"][0].as_str().unwrap().contains("web.cancel.enable"), "{answer}");
    let features = &cluster.get("/config")["features"];
    assert_eq!((features["web-submit"].clone(), features["web-cancel"].clone()), (json!(false), json!(false)));
    assert_eq!(cluster.get("/jars")["files"], json!([]));
}

/// One HTTP/1.1 request written by hand, so `Host` and `Origin` are what
/// a browser on a foreign page would send; the status and the body.
fn http(rest: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(rest).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: {rest}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    (status, body)
}

/// Without a token, a change (POST, PATCH, DELETE) from a foreign page
/// (`Origin`) or naming a foreign host (`Host`, DNS rebinding) gets 403
/// and changes nothing, reads are served as before, and a `text/plain`
/// body is never parsed as JSON (415); the server's own origin works.
#[test]
fn foreign_pages_cannot_change_the_cluster() {
    let cluster = TestCluster::start("origin", 0, &[]);
    let jar = cluster.upload("wordcount.wasm", &std::fs::read(wordcount_wasm()).unwrap());
    let path = format!("/jars/{jar}");
    let rest = &cluster.rest;

    let (status, body) = http(rest, "DELETE", &path, &[("Origin", "http://evil.example")], "");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("evil.example"), "{body}");
    let (status, _) = http(rest, "DELETE", &path, &[("Host", "evil.example:8081")], "");
    assert_eq!(status, 403, "a rebound DNS name is not this server");
    let run = format!("{path}/run");
    let (status, body) = http(rest, "POST", &run, &[("Content-Type", "text/plain")], r#"{"parallelism": 1}"#);
    assert_eq!(status, 415, "{body}");
    assert_eq!(http(rest, "GET", "/jars", &[("Origin", "http://evil.example")], "").0, 200, "reads are served");
    assert_eq!(cluster.get("/jars")["files"].as_array().unwrap().len(), 1, "nothing was deleted");

    let own = format!("http://{rest}");
    assert_eq!(http(rest, "DELETE", &path, &[("Origin", &own)], "").0, 200, "the dashboard's own origin works");
    assert_eq!(cluster.get("/jars")["files"], json!([]));
}

/// With `wflink.io.allowed-paths`, a file source, a file sink or a
/// savepoint outside the roots is refused at submit with 400, and a
/// missing file outside gets exactly the words an existing one gets (no
/// oracle); inside the roots a job runs as before.
#[test]
fn jobs_only_use_the_allowed_directories() {
    let roots = scratch("allowed-paths-roots");
    let data = roots.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let setting = format!("wflink.io.allowed-paths={}", data.display());
    let cluster = TestCluster::start("allowed-paths", 1, &[&setting]);
    let jar = cluster.upload("wordcount.wasm", &std::fs::read(wordcount_wasm()).unwrap());
    let run = |args: &[&str], savepoint: Option<&str>| {
        let mut body = json!({ "programArgsList": args });
        if let Some(savepoint) = savepoint {
            body["savepointPath"] = json!(savepoint);
        }
        cluster.raw("POST", &format!("/jars/{jar}/run"), "application/json", body.to_string().as_bytes())
    };
    let message = |answer: &Value| answer["errors"][0].as_str().unwrap_or_default().to_string();

    let (status, existing) = run(&["--input", "/etc/passwd"], None);
    assert_eq!(status, 400, "{existing}");
    assert!(message(&existing).contains("wflink.io.allowed-paths"), "{existing}");
    let (status, missing) = run(&["--input", "/etc/no-such-file"], None);
    assert_eq!(status, 400, "{missing}");
    assert_eq!(message(&existing).replace("passwd", "X"), message(&missing).replace("no-such-file", "X"), "no oracle");
    let escape = format!("{}/../../etc/passwd", data.display());
    assert_eq!(run(&["--input", &escape], None).0, 400, "`..` does not lead out");

    let input = data.join("input.txt");
    let text = generate_text(1_000, 4);
    std::fs::write(&input, &text).unwrap();
    let input = input.display().to_string();
    let (status, answer) = run(&["--input", &input, "--output", "/tmp/wflink-outside"], None);
    assert_eq!(status, 400, "a file sink outside: {answer}");
    let (status, answer) = run(&["--input", &input], Some("/tmp/some-savepoint"));
    assert_eq!(status, 400, "a savepoint outside: {answer}");
    assert!(message(&answer).contains("wflink.io.allowed-paths"), "{answer}");

    let output = data.join("out");
    let (status, answer) = run(&["--input", &input, "--output", &output.display().to_string()], None);
    assert_eq!(status, 200, "inside the roots: {answer}");
    cluster.wait_for_status(answer["jobid"].as_str().unwrap(), "FINISHED");
    assert_eq!(final_counts(&read_parts(&output)).0, expected_counts(&text));
}
