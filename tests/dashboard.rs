//! The web dashboard in a real browser: a JobManager and a TaskManager
//! (2 slots) as processes on free ports, and `tests/browser/dashboard.mjs`
//! driving Debian's chromium through playwright-core: upload, plan, submit
//! at p=2 against a socket this test feeds, watch, trigger a savepoint,
//! read the TaskManager's stdout and log page by page and the
//! JobManager's log, cancel, a refused upload. Screenshots land in `target/ui-screenshots/`.
//! Needs `/usr/bin/chromium` and `npm ci` in `tests/browser` (`cargo xtask test` does both).

use std::process::Command;
use std::time::Duration;

use crate::common::cluster::TestCluster;
use crate::common::feed::WordFeed;
use crate::common::wordcount_wasm;
use wflink::guest_build::repo;

#[test]
fn dashboard_submits_watches_and_cancels_a_job_in_chromium() {
    let browser_dir = repo::root().join("tests").join("browser");
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists() && browser_dir.join("node_modules/playwright-core").exists(),
        "the browser test needs Debian's chromium and playwright-core: run `cargo xtask install` (apt-get install chromium; npm ci in tests/browser)"
    );
    let wasm = wordcount_wasm();
    let feed = WordFeed::start();

    let mut cluster = TestCluster::start("dashboard", 0, &[]);
    cluster.add_taskmanager(&["taskmanager.numberOfTaskSlots=2"]);
    cluster.wait_for_taskmanagers(1);
    let rest = format!("http://{}", cluster.rest);

    let shots = repo::root().join("target").join("ui-screenshots");
    let savepoints = cluster.dir.join("savepoints");
    let output = crate::common::run_with_limit(
        {
            let mut node = Command::new("node");
            node.arg(browser_dir.join("dashboard.mjs")).current_dir(&browser_dir);
            node.env("DASHBOARD_URL", &rest)
                .env("WASM", &wasm)
                .env("SOCKET_PORT", feed.port.to_string())
                .env("SCREENSHOTS", &shots);
            node.env("SAVEPOINT_DIR", &savepoints);
            node
        },
        Duration::from_secs(180),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the browser script failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    println!("{stdout}");

    // The REST API agrees with what the browser saw.
    let jid = stdout.lines().find_map(|l| l.strip_prefix("JOB ")).expect("the script names its job");
    assert_eq!(cluster.job_status(jid), "CANCELED");
    let overview = cluster.get("/overview");
    assert_eq!(overview["jobs-cancelled"], 1);
    assert_eq!(overview["slots-available"], 2, "the canceled job gave its slots back");
    for page in [
        "01-overview",
        "03-submit-plan",
        "05-job-overview",
        "05b-job-savepoint",
        "10-taskmanager",
        "11-jobmanager",
        "12-job-canceled",
    ] {
        assert!(shots.join(format!("{page}.png")).exists(), "screenshot {page}.png");
    }
}

/// A cluster with a REST token: the dashboard page loads, asks for the
/// token, refuses a wrong one, and with the right one shows the cluster
/// and fetches logs (`tests/browser/token.mjs`).
#[test]
fn the_dashboard_asks_for_the_rest_token() {
    let browser_dir = repo::root().join("tests").join("browser");
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists() && browser_dir.join("node_modules/playwright-core").exists(),
        "the browser test needs Debian's chromium and playwright-core: run .ci/run (apt-get install chromium; npm ci in tests/browser)"
    );
    let token = "dashboard-t0ken";
    let cluster = TestCluster::start("dashboard-token", 1, &[&format!("security.rest.token={token}")]);
    let mut node = Command::new("node");
    node.arg(browser_dir.join("token.mjs")).current_dir(&browser_dir);
    node.env("DASHBOARD_URL", format!("http://{}", cluster.rest))
        .env("TOKEN", token)
        .env("SCREENSHOTS", repo::root().join("target").join("ui-screenshots"));
    let output = crate::common::run_with_limit(node, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the browser script failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    println!("{stdout}");
    assert!(!cluster.jobmanager_log().contains(token), "the token is never logged");
}
