//! One client cannot take a process down, on real processes: a bare frame
//! header costs the JobManager's RPC port and a TaskManager's data port no
//! memory and closes; a connection past the RPC cap closes at once; a
//! trickling client does not hold up TaskManager registrations; slow REST
//! clients are cut off and the connection cap answers 503; uploads and
//! submitted components live on disk, not in the JobManager's memory, and
//! go with it on SIGTERM; a too-long upload name gets 400; a bounded job
//! whose checkpoints cannot be stored fails naming the storage error.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::common::cluster::{DEADLINE, TestCluster, multipart, wait_for};
use crate::common::*;
use wflink::metrics::proc_kb;

/// Peak resident memory of process `pid`, in bytes (`VmHWM`): what a
/// header that makes the process allocate would raise, even briefly.
fn peak_memory(pid: u32) -> u64 {
    proc_kb(&format!("/proc/{pid}/status"), "VmHWM:")
}

/// Resident memory of process `pid` now, in bytes.
fn memory(pid: u32) -> u64 {
    proc_kb(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// A connection to `address` that sent a frame header claiming `size`
/// bytes, and nothing else: right away, or after the (secret-less)
/// handshake, so the bound of the connection's own messages applies.
fn claim(address: &str, size: u32, after_handshake: bool) -> TcpStream {
    let stream = TcpStream::connect(address).unwrap();
    if after_handshake {
        let deadline = std::time::Instant::now() + DEADLINE;
        let link = wflink::network::Link::plain(stream.try_clone().unwrap());
        wflink::network::handshake::client(&link, address, None, deadline).unwrap();
    }
    (&stream).write_all(&size.to_be_bytes()).unwrap();
    stream
}

/// Waits until the server closed `stream`; returns what it sent before.
fn wait_closed(stream: &TcpStream, what: &str) -> Vec<u8> {
    stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut received = Vec::new();
    wait_for(what, || {
        let mut buffer = [0u8; 4096];
        match (&*stream).read(&mut buffer) {
            Ok(0) => Some(()),
            Ok(n) => {
                received.extend_from_slice(&buffer[..n]);
                None
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => None,
            Err(_) => Some(()),
        }
    });
    received
}

fn log_of(cluster: &TestCluster, file: &str) -> String {
    std::fs::read_to_string(cluster.dir.join(file)).unwrap_or_default()
}

const MIB: u64 = 1 << 20;

/// A header claiming just under 512 MiB before the handshake and after it
/// (over the bound) and two claiming 100 MiB after it (within the bound)
/// on the RPC port, and a client trickling a byte every 200 ms: the JobManager's peak memory stays where it was, every
/// one of them is closed, and a TaskManager registers meanwhile.
#[test]
fn a_bare_header_costs_the_rpc_port_nothing_and_a_trickler_blocks_no_registration() {
    let mut cluster = TestCluster::start("limits-rpc", 1, &["network.handshake-timeout=3 s"]);
    let jobmanager = cluster.jobmanager_pid();
    let before = peak_memory(jobmanager);

    let rpc = cluster.rpc.clone();
    let hostile = [
        claim(&rpc, 0x1fff_ffff, false),
        claim(&rpc, 0x1fff_ffff, true),
        claim(&rpc, 100 << 20, true),
        claim(&rpc, 100 << 20, true),
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let trickler = {
        let (address, stop) = (cluster.rpc.clone(), stop.clone());
        std::thread::spawn(move || {
            let stream = TcpStream::connect(address).unwrap();
            // A header for 1000 bytes, then the bytes one by one.
            let mut bytes = 1000u32.to_be_bytes().to_vec();
            bytes.resize(1004, 0x90);
            for byte in bytes {
                if stop.load(Ordering::Relaxed) || (&stream).write_all(&[byte]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };

    cluster.add_taskmanager(&[]);
    cluster.wait_for_taskmanagers(2);
    for (i, stream) in hostile.iter().enumerate() {
        wait_closed(stream, &format!("the JobManager to close hostile connection {i}"));
    }
    let after = peak_memory(jobmanager);
    stop.store(true, Ordering::Relaxed);
    trickler.join().unwrap();

    eprintln!("JobManager peak memory (VmHWM) before and after the headers: {before} -> {after} bytes");
    assert!(after < before + 16 * MIB, "the JobManager's peak memory went from {before} to {after} bytes");
    let log = log_of(&cluster, "jobmanager.log");
    assert!(log.contains("536870911") && log.contains("pekko.framesize"), "the refusal names size and key: {log}");
    assert!(log.contains("network.handshake-timeout"), "the stalled ones are named: {log}");
}

/// Past `jobmanager.rpc.max-connections` a connection is closed at once;
/// once the silent ones are closed at `network.handshake-timeout`, a
/// TaskManager registers again.
#[test]
fn past_the_connection_cap_an_rpc_connection_is_closed_at_once() {
    let mut cluster =
        TestCluster::start("limits-rpc-cap", 1, &["jobmanager.rpc.max-connections=3", "network.handshake-timeout=2 s"]);
    // The TaskManager holds one place; two silent clients take the rest.
    let silent: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(&cluster.rpc).unwrap()).collect();
    let over = TcpStream::connect(&cluster.rpc).unwrap();
    let started = std::time::Instant::now();
    wait_closed(&over, "the JobManager to close the connection past its cap");
    assert!(started.elapsed() < Duration::from_secs(2), "closed at once, not at the handshake timeout");
    for stream in &silent {
        wait_closed(stream, "the JobManager to close a silent connection at the handshake timeout");
    }
    cluster.add_taskmanager(&[]);
    cluster.wait_for_taskmanagers(2);
    let log = log_of(&cluster, "jobmanager.log");
    assert!(log.contains("jobmanager.rpc.max-connections"), "the refusal names the key: {log}");
}

/// The same headers on a TaskManager's data port (before the handshake,
/// over and within `taskmanager.network.max-frame-size` after it): its peak memory stays, the
/// connections are closed, and records still flow between TaskManagers.
#[test]
fn a_bare_header_costs_the_data_port_nothing_and_records_still_flow() {
    let cluster = TestCluster::start("limits-data", 2, &["network.handshake-timeout=3 s"]);
    let data_port = wait_for("taskmanager 0 to print its data port", || {
        let log = cluster.taskmanager_log(0);
        let rest = log.split("data port ").nth(1)?;
        Some(rest.split(',').next()?.trim().to_string())
    });
    let taskmanager = cluster.taskmanager_pid(0);
    let before = peak_memory(taskmanager);

    let hostile = [
        claim(&data_port, 0x1fff_ffff, false),
        claim(&data_port, 0x1fff_ffff, true),
        claim(&data_port, 60 << 20, true),
        claim(&data_port, 60 << 20, true),
    ];
    for (i, stream) in hostile.iter().enumerate() {
        wait_closed(stream, &format!("the TaskManager to close hostile connection {i}"));
    }
    let after = peak_memory(taskmanager);
    eprintln!("TaskManager peak memory (VmHWM) before and after the headers: {before} -> {after} bytes");
    assert!(after < before + 16 * MIB, "the TaskManager's peak memory went from {before} to {after} bytes");
    let log = cluster.taskmanager_log(0);
    assert!(log.contains("536870911") && log.contains("taskmanager.network.max-frame-size"), "{log}");

    let (_, output) = cluster.run_wordcount(20_000, 3, 2);
    assert!(output.status.success(), "wordcount across both TaskManagers: {}", String::from_utf8_lossy(&output.stderr));
}

/// Clients that send half a request head, or a body that stops, are
/// closed after the header-read and idle timeouts; past the connection
/// cap a client gets 503 at once; the REST API still answers afterwards,
/// and refuses an upload too large for `pekko.framesize`.
#[test]
fn slow_rest_clients_are_cut_off_and_the_connection_cap_answers_503() {
    let cluster = TestCluster::start(
        "limits-rest",
        0,
        &[
            "rest.server.header-read-timeout=1 s",
            "rest.server.idle-timeout=2 s",
            "rest.server.max-connections=16",
            "pekko.framesize=128k",
        ],
    );
    let mut slow: Vec<TcpStream> = (0..10)
        .map(|_| {
            let stream = TcpStream::connect(&cluster.rest).unwrap();
            (&stream).write_all(b"GET /overview HTTP/1.1\r\nHost: localhost\r\n").unwrap();
            stream
        })
        .collect();
    let stalled_body = TcpStream::connect(&cluster.rest).unwrap();
    let head = "POST /jars/upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"a.wasm\"\r\n\r\n\0asm";
    (&stalled_body).write_all(head.as_bytes()).unwrap();
    slow.push(stalled_body);

    // 11 of 16 places are taken: of ten more connections opened at once, some get 503 at once.
    let extra: Vec<TcpStream> = (0..10).map(|_| TcpStream::connect(&cluster.rest).unwrap()).collect();
    let refused = extra
        .iter()
        .filter(|stream| {
            stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
            let mut answer = [0u8; 64];
            let n = (&**stream).read(&mut answer).unwrap_or(0);
            String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 503")
        })
        .count();
    assert!(refused >= 1, "connections past rest.server.max-connections are answered 503");

    for (i, stream) in slow.iter().enumerate() {
        let answer = wait_closed(stream, &format!("the REST server to close slow connection {i}"));
        assert!(!String::from_utf8_lossy(&answer).contains("200 OK"), "connection {i} was not answered");
    }
    assert!(cluster.get("/overview")["taskmanagers"].is_number(), "the REST API answers afterwards");

    // A component too large to travel to a TaskManager is refused at upload, naming the key.
    let (content_type, body) = multipart("wordcount.wasm", &std::fs::read(wordcount_wasm()).unwrap());
    let (status, answer) = cluster.raw("POST", "/jars/upload", &content_type, &body);
    assert_eq!(status, 400, "{answer}");
    assert!(answer.to_string().contains("pekko.framesize"), "{answer}");
}

/// `bytes` with a custom section of `size` bytes of `fill` appended: a
/// valid, distinct component of about that size.
fn padded(bytes: &[u8], size: usize, fill: u8) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            out.push(if n == 0 { byte } else { byte | 0x80 });
            if n == 0 {
                return;
            }
        }
    }
    let name = b"padding";
    let mut out = bytes.to_vec();
    out.push(0);
    leb(1 + name.len() + size, &mut out);
    leb(name.len(), &mut out);
    out.extend_from_slice(name);
    out.resize(out.len() + size, fill);
    out
}

/// Four 40 MiB uploads, each run as a job, leave the JobManager's memory
/// where the first one left it (the uploads are on disk under
/// `web.upload.dir`, the submitted components under
/// `blob.storage.directory`); a 300-character file name gets 400; SIGTERM
/// removes both folders.
#[test]
fn uploads_live_on_disk_and_go_with_the_jobmanager() {
    let dir = std::env::temp_dir().join(format!("wflink-test-limits-uploads-{}", std::process::id()));
    let (uploads, blobs) = (dir.join("uploads"), dir.join("blobs"));
    let settings =
        [format!("web.upload.dir={}", uploads.display()), format!("blob.storage.directory={}", blobs.display())];
    let mut cluster = TestCluster::start("limits-uploads", 0, &[&settings[0], &settings[1]]);
    let wasm = std::fs::read(wordcount_wasm()).unwrap();
    let jobmanager = cluster.jobmanager_pid();
    let upload_and_run = |i: u8| {
        let (content_type, body) = multipart(&format!("padded-{i}.wasm"), &padded(&wasm, 40 << 20, i));
        let (status, answer) = cluster.raw("POST", "/jars/upload", &content_type, &body);
        assert_eq!(status, 200, "{answer}");
        let path = answer["filename"].as_str().unwrap();
        let jar = path.rsplit('/').next().unwrap();
        let run = serde_json::json!({ "programArgsList": ["--input", "/dev/null"] }).to_string();
        let (status, answer) = cluster.raw("POST", &format!("/jars/{jar}/run"), "application/json", run.as_bytes());
        assert_eq!(status, 200, "{answer}");
    };
    upload_and_run(0);
    let after_first = memory(jobmanager);
    for i in 1..4 {
        upload_and_run(i);
    }
    let after_all = memory(jobmanager);
    eprintln!(
        "JobManager resident memory after the first and the fourth 40 MiB upload and run: {after_first} -> {after_all} bytes"
    );
    assert!(
        after_all < after_first + 40 * MIB,
        "three more 40 MiB uploads and runs took the JobManager from {after_first} to {after_all} bytes"
    );
    assert_eq!(std::fs::read_dir(&blobs).unwrap().count(), 4, "every submitted component is a file");
    let on_disk: Vec<_> = std::fs::read_dir(&uploads).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).collect();
    assert_eq!(on_disk.len(), 4, "every upload is a file in web.upload.dir");
    assert!(on_disk.iter().all(|&size| size > 40 * MIB), "{on_disk:?}");

    let (content_type, body) = multipart(&format!("{}.wasm", "n".repeat(295)), &wasm);
    let (status, answer) = cluster.raw("POST", "/jars/upload", &content_type, &body);
    assert_eq!(status, 400, "{answer}");
    assert!(answer.to_string().contains("300 characters"), "{answer}");

    cluster.signal_jobmanager(libc::SIGTERM);
    cluster.wait_for_jobmanager_exit();
    assert!(!uploads.exists(), "the upload folder the JobManager made is removed at SIGTERM");
    assert!(!blobs.exists(), "so is its blob folder");
}

/// A bounded job with the exactly-once file sink whose checkpoint storage
/// breaks once it runs (its folder is replaced by a file) fails, with no
/// restart strategy, naming the checkpoint and the storage error, instead
/// of running for ever waiting for a checkpoint to complete.
#[test]
fn a_bounded_job_whose_checkpoints_cannot_be_stored_fails_naming_the_storage_error() {
    let dir = std::env::temp_dir().join(format!("wflink-test-limits-checkpoints-{}", std::process::id()));
    let checkpoints = dir.join("chk");
    let settings = [
        "execution.checkpointing.interval=100 ms".to_string(),
        format!("state.checkpoints.dir={}", checkpoints.display()),
        "restart-strategy.type=none".into(),
    ];
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let cluster = TestCluster::start("limits-checkpoints", 1, &settings);
    let input = cluster.dir.join("input.txt");
    std::fs::write(&input, generate_text(1_000_000, 5)).unwrap();
    let output = cluster.dir.join("out");

    let mut command = wflink();
    command.args(["run", "-d", "-m", &cluster.rest]).arg(wordcount_wasm());
    command.arg("--input").arg(&input).arg("--output").arg(&output);
    let submitted = run_with_limit(command, DEADLINE);
    let stdout = String::from_utf8_lossy(&submitted.stdout);
    let job = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Job has been submitted with JobID "))
        .unwrap_or_else(|| panic!("no job id: {stdout} {}", String::from_utf8_lossy(&submitted.stderr)))
        .trim()
        .to_string();
    std::fs::remove_dir_all(&checkpoints).unwrap();
    std::fs::write(&checkpoints, "a file where the checkpoint folder was").unwrap();

    cluster.wait_for_status(&job, "FAILED");
    let exceptions = cluster.get(&format!("/jobs/{job}/exceptions"));
    let root = exceptions["root-exception"].as_str().unwrap_or_default();
    assert!(root.contains("checkpoint") && root.contains("tolerable-failed-checkpoints"), "{exceptions}");
    assert!(root.contains("cannot create the directory"), "the storage error is named: {exceptions}");
}
