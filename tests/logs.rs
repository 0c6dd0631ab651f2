//! End-to-end: the log and stdout files of a real JobManager and a real
//! TaskManager process through the REST API (`/jobmanager/log*`,
//! `/taskmanagers/:id/log*`, the TaskManager's files fetched over its
//! control connection), paged and by HTTP byte ranges; bad names and
//! unknown TaskManagers refused; and what a TaskManager reports of its
//! slots and tasks.

use crate::common::cluster::{DEADLINE, TestCluster, wait_for};
use crate::common::feed::WordFeed;
use crate::common::*;
use serde_json::Value;

/// A plain-text answer: status, `X-Log-Offset`, `X-Log-Size` and body.
struct Page {
    status: u16,
    offset: Option<u64>,
    size: Option<u64>,
    body: Vec<u8>,
}

fn fetch(cluster: &TestCluster, path: &str) -> Page {
    fetch_with(cluster, path, &[]).0
}

/// `GET path` with extra request headers; also returns `Content-Range` and `Accept-Ranges`.
fn fetch_with(cluster: &TestCluster, path: &str, headers: &[(&str, &str)]) -> (Page, Option<String>, Option<String>) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut request = agent.get(&format!("http://{}{path}", cluster.rest));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.call().unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let text = |name: &str| response.headers().get(name).and_then(|v| Some(v.to_str().ok()?.to_string()));
    let (content_range, accept_ranges) = (text("content-range"), text("accept-ranges"));
    let (offset, size) =
        (text("x-log-offset").and_then(|v| v.parse().ok()), text("x-log-size").and_then(|v| v.parse().ok()));
    let body = response.body_mut().read_to_vec().unwrap();
    (Page { status: response.status().as_u16(), offset, size, body }, content_range, accept_ranges)
}

/// A 200 page of plain text.
fn page(cluster: &TestCluster, path: &str) -> Page {
    let page = fetch(cluster, path);
    assert_eq!(page.status, 200, "GET {path}: {}", String::from_utf8_lossy(&page.body));
    page
}

/// Asserts an error status with Flink's `{"errors": [...]}` naming `expected`.
fn assert_error(cluster: &TestCluster, path: &str, status: u16, expected: &str) {
    let (got, body) = cluster.raw("GET", path, "", b"");
    assert_eq!(got, status, "GET {path}: {body}");
    let message = body["errors"][0].as_str().unwrap_or_else(|| panic!("GET {path}: no errors array in {body}"));
    assert!(message.contains(expected), "GET {path}: {message:?} does not mention {expected:?}");
}

/// The names in a `{"logs": [{"name", "size", "mtime"}]}` list.
fn names(list: &Value) -> Vec<&str> {
    list["logs"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect()
}

/// A job's print output is served as the TaskManager's stdout, whole and
/// page by page (backwards from the tail, as the dashboard loads older
/// pages), byte for byte what the process wrote; its log and the
/// JobManager's too.
#[test]
fn logs_and_stdout_are_served_paged() {
    let cluster = TestCluster::start("logs-paged", 1, &[]);
    let input = cluster.dir.join("input.txt");
    std::fs::write(&input, generate_text(5_000, 3)).unwrap();
    let mut command = wflink();
    command.args(["run", "-m", &cluster.rest, "-p", "1"]).arg(wordcount_wasm()).arg("--input").arg(&input);
    let output = run_with_limit(command, DEADLINE);
    assert!(output.status.success(), "run failed: {}", String::from_utf8_lossy(&output.stderr));
    let written = std::fs::read(cluster.dir.join("taskmanager-0.out")).unwrap();
    assert!(written.len() > 20_000, "the print sink wrote {} bytes", written.len());

    let tm = cluster.get("/taskmanagers")["taskmanagers"][0]["id"].as_str().unwrap().to_string();
    let list = cluster.get(&format!("/taskmanagers/{tm}/logs"));
    assert_eq!(names(&list), ["taskmanager-0.log", "taskmanager-0.out"], "only this TaskManager's files: {list}");
    assert_eq!(list["logs"][1]["size"].as_u64(), Some(written.len() as u64));
    assert!(list["logs"][1]["mtime"].as_u64().unwrap() > 1_600_000_000_000);

    let whole = page(&cluster, &format!("/taskmanagers/{tm}/stdout"));
    assert_eq!(whole.body, written);
    assert_eq!((whole.offset, whole.size), (Some(0), Some(written.len() as u64)));
    assert_eq!(page(&cluster, &format!("/taskmanagers/{tm}/logs/taskmanager-0.out")).body, written);
    let middle = page(&cluster, &format!("/taskmanagers/{tm}/stdout?offset=100&length=1000"));
    assert_eq!((middle.offset, middle.body.as_slice()), (Some(100), &written[100..1100]));

    // The tail, then older pages until the start: together the whole file.
    let mut pages = Vec::new();
    let mut next = format!("/taskmanagers/{tm}/stdout?length=8192");
    loop {
        let p = page(&cluster, &next);
        let start = p.offset.unwrap();
        pages.push(p.body);
        if start == 0 {
            break;
        }
        let older = start.saturating_sub(8192);
        next = format!("/taskmanagers/{tm}/stdout?offset={older}&length={}", start - older);
    }
    assert!(pages.len() > 2, "the stdout spans several pages");
    assert_eq!(pages.concat().len(), written.len());
    assert_eq!(pages.into_iter().rev().flatten().collect::<Vec<u8>>(), written);
    let past_end = page(&cluster, &format!("/taskmanagers/{tm}/stdout?offset={}", written.len() + 10));
    assert!(past_end.body.is_empty());

    let tm_log = String::from_utf8(page(&cluster, &format!("/taskmanagers/{tm}/log")).body).unwrap();
    assert!(tm_log.contains("registered with the resource manager"), "{tm_log}");

    let jm_list = cluster.get("/jobmanager/logs");
    assert_eq!(names(&jm_list), ["jobmanager.log", "jobmanager.out"]);
    let jm_log = String::from_utf8(page(&cluster, "/jobmanager/log").body).unwrap();
    assert!(jm_log.contains("job manager started"), "{jm_log}");
    assert!(String::from_utf8(page(&cluster, "/v1/jobmanager/stdout").body).unwrap().contains("REST endpoint:"));
    assert_eq!(page(&cluster, "/jobmanager/logs/jobmanager.out?offset=0&length=4").body, b"RPC ");
}

/// `Range: bytes=...` on the JobManager's own files and on a TaskManager's
/// (fetched over its connection): 206 with `Content-Range` for the three
/// forms, cut to 1 MiB like a page; 416 with `bytes */size` past the end;
/// only the first of several ranges; 400 for a malformed range or one
/// mixed with `?offset=`; other units and `If-Range` get the plain answer.
#[test]
fn byte_ranges_get_partial_content() {
    const MIB: usize = 1 << 20;
    let cluster = TestCluster::start("logs-ranges", 1, &[]);
    let tm = cluster.get("/taskmanagers")["taskmanagers"][0]["id"].as_str().unwrap().to_string();
    let content: Vec<u8> = (0..250_000).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
    assert!(content.len() > 2 * MIB);
    let size = content.len();
    std::fs::write(cluster.dir.join("jobmanager.ranges"), &content).unwrap();
    std::fs::write(cluster.dir.join("taskmanager-0.ranges"), &content).unwrap();

    for file in
        ["/jobmanager/logs/jobmanager.ranges".to_string(), format!("/taskmanagers/{tm}/logs/taskmanager-0.ranges")]
    {
        let partial = |range: &str, first: usize, last: usize| {
            let (page, content_range, accept) = fetch_with(&cluster, &file, &[("Range", range)]);
            assert_eq!(
                page.status,
                206,
                "{file} {range}: {}",
                String::from_utf8_lossy(&page.body[..page.body.len().min(200)])
            );
            assert_eq!(
                content_range.as_deref(),
                Some(format!("bytes {first}-{last}/{size}").as_str()),
                "{file} {range}"
            );
            assert_eq!(accept.as_deref(), Some("bytes"));
            assert!(page.body == content[first..=last], "{file} {range}: wrong bytes");
        };
        partial("bytes=0-99", 0, 99);
        partial("bytes=1000-1000", 1000, 1000);
        partial(&format!("bytes={}-{}", size - 10, size + 500), size - 10, size - 1);
        partial("bytes=1000-", 1000, 1000 + MIB - 1);
        partial(&format!("bytes={}-", size - 7), size - 7, size - 1);
        partial("bytes=-500", size - 500, size - 1);
        partial("bytes=-99999999", size - MIB, size - 1);
        partial("bytes=5-9, 100-200", 5, 9);

        for unsatisfiable in
            [format!("bytes={size}-"), format!("bytes={}-{}", size + 1, size + 9), "bytes=-0".to_string()]
        {
            let (page, content_range, _) = fetch_with(&cluster, &file, &[("Range", &unsatisfiable)]);
            assert_eq!(page.status, 416, "{file} {unsatisfiable}");
            assert_eq!(content_range, Some(format!("bytes */{size}")), "{file} {unsatisfiable}");
        }
        for malformed in ["bytes=abc", "bytes=9-3", "bytes=", "bytes=1-2-3"] {
            let (page, _, _) = fetch_with(&cluster, &file, &[("Range", malformed)]);
            let body: Value = serde_json::from_slice(&page.body).unwrap();
            assert_eq!(page.status, 400, "{file} {malformed}: {body}");
            assert!(
                body["errors"][0].as_str().unwrap().contains(&format!("invalid Range header '{malformed}'")),
                "{body}"
            );
        }
        let (mixed, _, _) = fetch_with(&cluster, &format!("{file}?offset=3"), &[("Range", "bytes=0-1")]);
        assert_eq!(mixed.status, 400);

        // Ignored: another unit, and an If-Range (this server has no validators to match it).
        for headers in [&[("Range", "lines=0-9")][..], &[("Range", "bytes=0-9"), ("If-Range", "\"x\"")][..]] {
            let (page, content_range, accept) = fetch_with(&cluster, &file, headers);
            assert_eq!(
                (page.status, content_range, accept.as_deref()),
                (200, None, Some("bytes")),
                "{file} {headers:?}"
            );
            assert!(page.body == content[size - MIB..], "the plain answer is the last page");
        }
    }

    // The named endpoints too: the JobManager's stdout starts with its RPC endpoint; the idle TaskManager's is empty.
    let (page, content_range, _) = fetch_with(&cluster, "/jobmanager/stdout", &[("Range", "bytes=0-3")]);
    assert_eq!((page.status, page.body.as_slice()), (206, &b"RPC "[..]));
    assert!(content_range.unwrap().starts_with("bytes 0-3/"));
    let (page, _, _) = fetch_with(&cluster, "/jobmanager/log", &[("Range", "bytes=-10")]);
    assert_eq!((page.status, page.body.len()), (206, 10));
    let (page, content_range, _) =
        fetch_with(&cluster, &format!("/taskmanagers/{tm}/stdout"), &[("Range", "bytes=-10")]);
    assert_eq!((page.status, content_range.as_deref()), (416, Some("bytes */0")));
    let (page, _, _) = fetch_with(&cluster, &format!("/taskmanagers/{tm}/log"), &[("Range", "bytes=0-8")]);
    assert_eq!((page.status, page.body.len()), (206, 9));
}

/// Names that leave the log directory are refused with 400, files of
/// other processes and unknown TaskManagers are 404, bad paging 400, all
/// with Flink's `{"errors": [...]}`.
#[test]
fn bad_log_requests_are_refused() {
    let cluster = TestCluster::start("logs-refused", 1, &[]);
    let tm = cluster.get("/taskmanagers")["taskmanagers"][0]["id"].as_str().unwrap().to_string();
    std::fs::write(cluster.dir.join("secret.txt"), "not a log").unwrap();
    for name in ["..%2F..%2Fetc%2Fpasswd", "%2E%2E", ".hidden", "..%2Ftaskmanager-0.log", "%2Fetc%2Fpasswd"] {
        assert_error(&cluster, &format!("/taskmanagers/{tm}/logs/{name}"), 400, "invalid log file name");
        assert_error(&cluster, &format!("/jobmanager/logs/{name}"), 400, "invalid log file name");
    }
    assert_error(&cluster, &format!("/taskmanagers/{tm}/logs/secret.txt"), 404, "secret.txt");
    assert_error(&cluster, &format!("/taskmanagers/{tm}/logs/jobmanager.log"), 404, "jobmanager.log");
    for path in ["/log", "/stdout", "/logs", "/logs/taskmanager-0.log"] {
        assert_error(&cluster, &format!("/taskmanagers/no-such-tm{path}"), 404, "TaskManager no-such-tm not found");
    }
    assert_error(&cluster, &format!("/taskmanagers/{tm}/log?offset=abc"), 400, "invalid offset 'abc'");
    assert_error(&cluster, &format!("/taskmanagers/{tm}/log?length=99999999"), 400, "invalid length");
    assert_error(&cluster, "/jobmanager/log?length=-1", 400, "invalid length");
}

/// A running job's tasks on a remote TaskManager show real busy time,
/// and `/taskmanagers/:id` shows the slot holding them, the task count and
/// the guests' memory, as the TaskManager's heartbeats report them.
#[test]
fn a_taskmanager_reports_its_slots_and_task_metrics() {
    let cluster = TestCluster::start("logs-usage", 1, &[]);
    let feed = WordFeed::start();
    let job = cluster.run_socket_wordcount(feed.port);
    let tm = cluster.get("/taskmanagers")["taskmanagers"][0]["id"].as_str().unwrap().to_string();

    let detail = wait_for("the TaskManager to report the job's slot", || {
        let detail = cluster.get(&format!("/taskmanagers/{tm}"));
        (detail["allocatedSlots"].as_array()?.len() == 1 && detail["metrics"]["heapUsed"].as_u64()? > 0)
            .then_some(detail)
    });
    let slot = &detail["allocatedSlots"][0];
    assert_eq!(slot["jobId"], job.as_str());
    let vertices = cluster.get(&format!("/jobs/{job}"))["vertices"].as_array().unwrap().len() as u64;
    assert_eq!(slot["tasks"].as_u64(), Some(vertices), "every vertex's one subtask shares the slot");
    assert_eq!(detail["assignedTasks"].as_u64(), Some(vertices));
    assert!(slot["memoryUsed"].as_u64().unwrap() <= slot["memoryLimit"].as_u64().unwrap());
    assert!(detail["metrics"]["processMemory"].as_u64().unwrap() > 0);
    assert_eq!(cluster.get("/taskmanagers")["taskmanagers"][0]["assignedTasks"].as_u64(), Some(vertices));

    wait_for("busy time of the remote tokenizer", || {
        let vertex = &cluster.get(&format!("/jobs/{job}"))["vertices"][0];
        (vertex["metrics"]["accumulated-busy-time"].as_f64()? > 0.0).then_some(())
    });
    let first = cluster.get(&format!("/jobs/{job}"))["vertices"][0]["id"].as_str().unwrap().to_string();
    let subtasks = cluster.get(&format!("/jobs/{job}/vertices/{first}"));
    assert!(subtasks["subtasks"][0]["metrics"]["accumulated-busy-time"].as_f64().unwrap() > 0.0, "{subtasks}");

    let (status, _) = cluster.raw("PATCH", &format!("/jobs/{job}?mode=cancel"), "", b"");
    assert_eq!(status, 202);
    cluster.wait_for_status(&job, "CANCELED");
    wait_for("the slot to be given back", || {
        cluster.get(&format!("/taskmanagers/{tm}"))["allocatedSlots"].as_array()?.is_empty().then_some(())
    });
}
