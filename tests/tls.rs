//! TLS with real processes and real certificates (made by `openssl` in the
//! test's scratch directory, as the README's Security section shows):
//! the REST API, the CLI and the dashboard over https
//! (`security.ssl.rest.*`), and mutual TLS on RPC and data connections
//! (`security.ssl.internal.*`), with a word count at p=2 whose records
//! cross between two TaskManagers. A TaskManager without TLS, or with a
//! certificate from another authority, is refused; plain http to the https
//! port gets no answer. Below those, [`Link`] itself: both directions of
//! one TLS connection at once, and a refused authority.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::cluster::{DEADLINE, TestCluster, wait_for};
use crate::common::{expected_counts, final_counts, generate_text, run_with_limit, wflink, wordcount_wasm};
use wflink::config::Configuration;
use wflink::guest_build::repo;
use wflink::network::Link;
use wflink::security::tls::InternalTls;

/// A certificate authority and a certificate it signed for `localhost` and
/// 127.0.0.1, usable by servers and clients: `ca.pem`, `node.pem`, `node.key`.
fn certificates(dir: &Path, name: &str) -> PathBuf {
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl").args(args).current_dir(&dir).output().expect("openssl runs");
        assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let ca_subject = format!("/CN={name} test CA");
    let ca = ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", &ca_subject];
    let ca_usage = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"];
    openssl(&[&["req", "-x509"][..], &ec, &ca, &ca_usage].concat());
    openssl(&[&["req"][..], &ec, &["-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=localhost"]].concat());
    std::fs::write(
        dir.join("node.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "node.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "node.pem",
        "-days",
        "2",
        "-extfile",
        "node.ext",
    ]);
    dir
}

/// The `-D` settings of TLS with the certificates in `dir`.
fn tls_settings(dir: &Path, rest: bool) -> Vec<String> {
    let file = |name: &str| dir.join(name).display().to_string();
    let mut settings = vec![
        "security.ssl.internal.enabled=true".to_string(),
        format!("security.ssl.internal.cert-file={}", file("node.pem")),
        format!("security.ssl.internal.key-file={}", file("node.key")),
        format!("security.ssl.internal.ca-file={}", file("ca.pem")),
    ];
    if rest {
        settings.extend([
            "security.ssl.rest.enabled=true".to_string(),
            format!("security.ssl.rest.cert-file={}", file("node.pem")),
            format!("security.ssl.rest.key-file={}", file("node.key")),
            format!("security.ssl.rest.ca-file={}", file("ca.pem")),
        ]);
    }
    settings
}

/// Internal TLS with the certificates in `dir`, as a process would set it up.
fn internal_tls(dir: &Path) -> InternalTls {
    let config = Configuration::default().with_overrides(&tls_settings(dir, false)).unwrap();
    wflink::security::tls::internal(&config).unwrap().expect("TLS is on")
}

/// Connects a client with `client_tls` to a server with `server_tls`;
/// the server's end goes to `serve`.
fn connect(
    server_tls: InternalTls,
    client_tls: InternalTls,
    serve: impl FnOnce(io::Result<Link>) + Send + 'static,
) -> (io::Result<Link>, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let server = std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        serve(Link::server_over(socket, Some(&server_tls), "client", deadline));
    });
    let socket = TcpStream::connect(address).unwrap();
    (Link::client_over(socket, Some(&client_tls), "server", deadline), server)
}

/// 16 MiB each way at once through one connection's clones: the
/// server echoes on two threads while the client writes and reads on
/// two, so neither direction may wait for the other.
#[test]
fn both_directions_flow_at_once_over_tls() {
    let tls = internal_tls(&certificates(&crate::common::scratch("link-both"), "link"));
    let (client, server) = connect(tls.clone(), tls, |link| {
        let link = link.unwrap();
        let (tx, rx) = crossbeam_channel::bounded::<Vec<u8>>(4);
        let reader = link.clone();
        let echo = std::thread::spawn(move || {
            let mut writer = &link;
            while let Ok(chunk) = rx.recv() {
                writer.write_all(&chunk).unwrap();
            }
        });
        let mut buf = vec![0u8; 50_000];
        loop {
            let n = (&reader).read(&mut buf).unwrap();
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
        drop(tx);
        echo.join().unwrap();
    });
    let client = client.unwrap();
    assert!(client.is_tls());
    const TOTAL: usize = 16 << 20;
    let writer = client.clone();
    let sending = std::thread::spawn(move || {
        let block: Vec<u8> = (0..100_003u32).map(|i| (i % 251) as u8).collect();
        let mut sent = 0;
        while sent < TOTAL {
            let n = block.len().min(TOTAL - sent);
            (&writer).write_all(&block[..n]).unwrap();
            sent += n;
        }
    });
    let mut received = 0usize;
    let mut expected = 0usize;
    let mut buf = vec![0u8; 70_000];
    while received < TOTAL {
        let n = (&client).read(&mut buf).unwrap();
        assert!(n > 0, "the echo ended early at {received}");
        for &byte in &buf[..n] {
            assert_eq!(byte, ((expected % 100_003) % 251) as u8, "byte {received} came back wrong");
            expected += 1;
        }
        received += n;
    }
    sending.join().unwrap();
    client.shutdown().unwrap();
    server.join().unwrap();
}

/// A client whose certificate another authority signed is refused,
/// and it refuses the server, both naming TLS.
#[test]
fn a_certificate_from_another_authority_is_refused() {
    let dir = crate::common::scratch("link-authorities");
    let ours = internal_tls(&certificates(&dir, "ours"));
    let theirs = internal_tls(&certificates(&dir, "theirs"));
    let (result_tx, result_rx) = crossbeam_channel::bounded(1);
    let (client, server) = connect(ours, theirs, move |link| {
        let _ = result_tx.send(link.err().map(|e| e.to_string()));
    });
    let client_error = client.expect_err("the client does not trust the server").to_string();
    assert!(client_error.contains("TLS handshake"), "{client_error}");
    server.join().unwrap();
    let server_error = result_rx.recv().unwrap().expect("the server refuses the client");
    assert!(server_error.contains("TLS handshake"), "{server_error}");
}

/// With both kinds of TLS on: the CLI runs a word count at p=2 over https
/// and its records cross TaskManagers over mutual TLS, exactly; plain http
/// to the REST port gets nothing; TaskManagers without TLS or with another
/// authority's certificate are refused; the dashboard works in chromium.
#[test]
fn rest_cli_dashboard_and_internal_connections_work_over_tls() {
    let scratch = crate::common::scratch("tls-certificates");
    let good = certificates(&scratch, "cluster");
    let settings = tls_settings(&good, true);
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let mut cluster = TestCluster::start("tls", 0, &settings);
    let internal: Vec<&str> = settings.iter().copied().filter(|s| s.starts_with("security.ssl.internal")).collect();
    for _ in 0..2 {
        cluster.add_taskmanager(&internal);
    }
    cluster.wait_for_taskmanagers(2);
    assert!(cluster.client.base_url().starts_with("https://"), "{}", cluster.client.base_url());

    // The CLI, told by the configuration to use https and which authority to trust.
    let input = cluster.dir.join("input.txt");
    let text = generate_text(20_000, 5);
    std::fs::write(&input, &text).unwrap();
    let mut run = wflink();
    run.args(["run", "-m", &cluster.rest, "-p", "2"]);
    for setting in settings.iter().filter(|s| s.starts_with("security.ssl.rest")) {
        run.args(["-D", setting]);
    }
    run.arg(wordcount_wasm()).arg("--input").arg(&input);
    let output = run_with_limit(run, DEADLINE);
    assert!(output.status.success(), "run -m over https: {}", String::from_utf8_lossy(&output.stderr));
    let printed = cluster.taskmanager_out(0) + &cluster.taskmanager_out(1);
    assert_eq!(final_counts(&printed).0, expected_counts(&text), "every count arrives over TLS, exactly");

    // Without the authority the CLI does not trust the server, and says so.
    let mut untrusting = wflink();
    untrusting.args(["list", "-m", &format!("https://{}", cluster.rest)]);
    let refused = run_with_limit(untrusting, DEADLINE);
    assert!(!refused.status.success(), "a server signed by an unknown authority is not trusted");

    plain_http_gets_no_answer(&cluster.rest);
    untrusted_taskmanagers_are_refused(&mut cluster, &scratch);
    dashboard_works_over_https(&cluster);
}

/// A request in the clear to the https port is not served.
fn plain_http_gets_no_answer(rest: &str) {
    let mut socket = std::net::TcpStream::connect(rest).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    socket.write_all(b"GET /overview HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    assert!(!String::from_utf8_lossy(&answer).contains("taskmanagers"), "plain http must not reach the API");
}

/// A TaskManager without internal TLS, and one with a certificate from
/// another authority, never register; the JobManager's log says why.
fn untrusted_taskmanagers_are_refused(cluster: &mut TestCluster, scratch: &Path) {
    let rogue = certificates(scratch, "rogue");
    let rogue_settings = tls_settings(&rogue, false);
    let plain = cluster.add_taskmanager(&[]);
    let foreign = cluster.add_taskmanager(&rogue_settings.iter().map(String::as_str).collect::<Vec<_>>());
    // rustls's words: plain frames are not TLS records; the rogue refuses our authority.
    wait_for("the JobManager to refuse both TaskManagers, naming TLS", || {
        let refusals: Vec<String> = (cluster.jobmanager_log().lines())
            .filter(|line| line.contains("a task manager connection was refused") && line.contains("TLS handshake"))
            .map(str::to_string)
            .collect();
        let named = |words: &str| refusals.iter().any(|line| line.contains(words));
        (named("corrupt message") && named("UnknownCA")).then_some(())
    });
    assert_eq!(cluster.get("/taskmanagers")["taskmanagers"].as_array().unwrap().len(), 2, "neither registered");
    for index in [plain, foreign] {
        cluster.kill_taskmanager(index);
    }
}

/// The dashboard in chromium over https: the overview and the
/// JobManager's log, fetched by the page through the API.
fn dashboard_works_over_https(cluster: &TestCluster) {
    let browser_dir = repo::root().join("tests").join("browser");
    assert!(
        Path::new("/usr/bin/chromium").exists() && browser_dir.join("node_modules/playwright-core").exists(),
        "the browser test needs Debian's chromium and playwright-core: run `cargo xtask install`"
    );
    let mut node = Command::new("node");
    node.arg(browser_dir.join("tls.mjs")).current_dir(&browser_dir);
    node.env("DASHBOARD_URL", cluster.client.base_url())
        .env("SCREENSHOTS", repo::root().join("target").join("ui-screenshots"));
    let output = run_with_limit(node, Duration::from_secs(120));
    assert!(
        output.status.success(),
        "the browser script failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
