//! A real session cluster for end-to-end tests: one `wflink jobmanager`
//! and N `wflink taskmanager` processes on loopback, free ports, output in
//! a scratch directory, every process killed when the cluster is dropped
//! (also when the test fails).

use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
pub use wflink::cli::client::RestClient;

use super::{generate_text, run_with_limit, scratch, wflink, wordcount_wasm};

/// How long processes and jobs may take in tests before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A running cluster.
pub struct TestCluster {
    /// Scratch directory with `jobmanager.out/.log` and `taskmanager-N.out/.log`.
    pub dir: PathBuf,
    /// `host:port` of the REST API.
    pub rest: String,
    /// `host:port` of the RPC endpoint.
    pub rpc: String,
    /// A client of the REST API.
    pub client: RestClient,
    jobmanager: Child,
    /// The JobManager's `-D` settings, reused when it is restarted.
    settings: Vec<String>,
    restarts: usize,
    taskmanagers: Vec<Option<Child>>,
    /// The REST token, when the settings set `security.rest.token`.
    pub token: Option<String>,
}

/// Polls `check` until it returns `Some`, failing the test with `what` after [`DEADLINE`].
pub fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(started.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl TestCluster {
    /// Starts a JobManager (with extra `-D` settings) and `taskmanagers` TaskManagers.
    pub fn start(name: &str, taskmanagers: usize, settings: &[&str]) -> Self {
        let dir = scratch(name);
        let settings: Vec<String> =
            ["rest.port=0", "jobmanager.rpc.port=0"].iter().chain(settings).map(|s| s.to_string()).collect();
        let (jobmanager, rest, rpc) = spawn_jobmanager(&dir, "jobmanager", &settings);
        let token = settings.iter().rev().find_map(|s| s.strip_prefix("security.rest.token=")).map(str::to_string);
        let mut cluster = TestCluster {
            dir,
            client: client_for(&rest, &settings, token.clone()),
            token,
            rest,
            rpc,
            jobmanager,
            settings,
            restarts: 0,
            taskmanagers: Vec::new(),
        };
        for _ in 0..taskmanagers {
            cluster.add_taskmanager(&[]);
        }
        cluster.wait_for_taskmanagers(taskmanagers);
        cluster
    }

    /// Starts a cluster that outlives a killed TaskManager: checkpoints
    /// every `interval` (e.g. "300 ms") into its own directory, and up to
    /// three restarts 100 ms apart.
    pub fn start_fault_tolerant(name: &str, taskmanagers: usize, interval: &str) -> Self {
        let checkpoints = std::env::temp_dir().join(format!("wflink-test-{name}-{}", std::process::id())).join("chk");
        let settings = [
            format!("execution.checkpointing.interval={interval}"),
            format!("execution.checkpointing.dir={}", checkpoints.display()),
            "restart-strategy.type=fixed-delay".into(),
            "restart-strategy.fixed-delay.attempts=3".into(),
            "restart-strategy.fixed-delay.delay=100 ms".into(),
        ];
        let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
        TestCluster::start(name, taskmanagers, &settings)
    }

    /// Cancels `job` with a savepoint into `dir` through the CLI, retrying
    /// while the savepoint is refused because not every task runs yet (any
    /// other refusal fails the test); returns the savepoint's path.
    pub fn cancel_with_savepoint(&self, job: &str, dir: &Path) -> String {
        wait_for("a savepoint with cancel", || {
            let mut command = wflink();
            command.args(["cancel", "-m", &self.rest, "--savepoint"]).arg(dir).arg(job);
            let out = run_with_limit(command, DEADLINE);
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&out.stderr);
            if !out.status.success() {
                // Until every task runs the savepoint is refused; the job must not finish first.
                assert!(stderr.contains("cannot take a savepoint now") && stderr.contains("not running"), "{stderr}");
                return None;
            }
            stdout
                .lines()
                .find_map(|l| l.split_once("Savepoint stored in ").map(|(_, p)| p.trim_end_matches('.').to_string()))
        })
    }

    /// Sends `signal` to the JobManager process (e.g. SIGSTOP to freeze it).
    pub fn signal_jobmanager(&self, signal: i32) {
        // SAFETY: kill(2) only sends a signal, to the child process this cluster started.
        assert_eq!(unsafe { libc::kill(self.jobmanager.id() as i32, signal) }, 0, "signal {signal} to the jobmanager");
    }

    /// The JobManager's process id, e.g. to read its memory in `/proc`.
    pub fn jobmanager_pid(&self) -> u32 {
        self.jobmanager.id()
    }

    /// Waits until the JobManager process has exited (after a signal); its exit status.
    pub fn wait_for_jobmanager_exit(&mut self) -> std::process::ExitStatus {
        let jobmanager = &mut self.jobmanager;
        wait_for("the jobmanager to exit", || jobmanager.try_wait().unwrap())
    }

    /// The process id of TaskManager `index`.
    pub fn taskmanager_pid(&self, index: usize) -> u32 {
        self.taskmanagers[index].as_ref().expect("a live taskmanager").id()
    }

    /// Kills the JobManager at once (SIGKILL), as a crash would.
    pub fn kill_jobmanager(&mut self) {
        let _ = self.jobmanager.kill();
        self.jobmanager.wait().unwrap();
    }

    /// Starts a new JobManager on the same RPC and REST ports (the old one
    /// must be dead); its output goes to `jobmanager-restart-N.out/.log`.
    pub fn restart_jobmanager(&mut self) {
        self.restarts += 1;
        let rest_port = self.rest.rsplit_once(':').unwrap().1.to_string();
        let rpc_port = self.rpc.rsplit_once(':').unwrap().1.to_string();
        let mut settings = self.settings.clone();
        settings.extend([format!("rest.port={rest_port}"), format!("jobmanager.rpc.port={rpc_port}")]);
        let (jobmanager, rest, rpc) =
            spawn_jobmanager(&self.dir, &format!("jobmanager-restart-{}", self.restarts), &settings);
        assert_eq!((&rest, &rpc), (&self.rest, &self.rpc), "the new JobManager listens where the old one did");
        self.jobmanager = jobmanager;
    }

    /// Starts one more TaskManager (with extra `-D` settings); returns its index.
    pub fn add_taskmanager(&mut self, settings: &[&str]) -> usize {
        let index = self.taskmanagers.len();
        let mut command = wflink();
        command.args(["taskmanager", "--jobmanager", &self.rpc, "-D", "taskmanager.host=127.0.0.1"]);
        for setting in settings {
            command.args(["-D", setting]);
        }
        command.env("WFLINK_LOG", "info");
        command
            .stdout(file(&self.dir.join(format!("taskmanager-{index}.out"))))
            .stderr(file(&self.dir.join(format!("taskmanager-{index}.log"))));
        self.taskmanagers.push(Some(command.spawn().expect("a taskmanager starts")));
        index
    }

    /// Waits until exactly `count` TaskManagers are registered.
    pub fn wait_for_taskmanagers(&self, count: usize) {
        wait_for(&format!("{count} registered taskmanagers"), || {
            (self.get("/taskmanagers")["taskmanagers"].as_array()?.len() == count).then_some(())
        });
    }

    /// The process of TaskManager `index`, e.g. to signal it.
    pub fn taskmanager(&mut self, index: usize) -> &mut Child {
        self.taskmanagers[index].as_mut().expect("a live taskmanager")
    }

    /// What the JobManager logged.
    pub fn jobmanager_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("jobmanager.log")).unwrap_or_default()
    }

    /// What TaskManager `index` logged.
    pub fn taskmanager_log(&self, index: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("taskmanager-{index}.log"))).unwrap_or_default()
    }

    /// Kills TaskManager `index` at once (SIGKILL), as a crash would.
    pub fn kill_taskmanager(&mut self, index: usize) {
        let mut child = self.taskmanagers[index].take().expect("a live taskmanager");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// What TaskManager `index` printed (its print sinks).
    pub fn taskmanager_out(&self, index: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("taskmanager-{index}.out"))).unwrap_or_default()
    }

    /// Writes `words` generated words to `input.txt` and runs the wordcount
    /// example on them with `wflink run -m -p N`, waiting for its end;
    /// returns the text and what the CLI printed.
    pub fn run_wordcount(&self, words: usize, seed: u64, parallelism: u32) -> (String, Output) {
        let text = generate_text(words, seed);
        let input = self.dir.join("input.txt");
        std::fs::write(&input, &text).unwrap();
        let mut command = wflink();
        command
            .args(["run", "-m", &self.rest, "-p", &parallelism.to_string()])
            .arg(wordcount_wasm())
            .arg("--input")
            .arg(&input);
        (text, run_with_limit(command, DEADLINE))
    }

    /// Runs the wordcount example at parallelism 1 on lines from `127.0.0.1:port` (a socket that keeps feeding
    /// it, e.g. a [`super::feed::WordFeed`]) with `wflink run -d -m`, waits until it runs and returns its id. The
    /// cluster runs no other job.
    pub fn run_socket_wordcount(&self, port: u16) -> String {
        let mut command = wflink();
        command.args(["run", "-d", "-m", &self.rest, "-p", "1"]).arg(wordcount_wasm());
        command.args(["--hostname", "127.0.0.1", "--port", &port.to_string()]);
        let output = run_with_limit(command, DEADLINE);
        assert!(output.status.success(), "run failed: {}", String::from_utf8_lossy(&output.stderr));
        let job = self.get("/jobs")["jobs"][0]["id"].as_str().unwrap().to_string();
        self.wait_for_status(&job, "RUNNING");
        job
    }

    /// `GET path` as JSON; panics on an error status.
    pub fn get(&self, path: &str) -> Value {
        self.client.get(path).unwrap_or_else(|e| panic!("GET {path}: {e:#}"))
    }

    /// The status of a job, e.g. `RUNNING`.
    pub fn job_status(&self, job_id: &str) -> String {
        self.get(&format!("/jobs/{job_id}/status"))["status"].as_str().unwrap().to_string()
    }

    /// Waits until the job reaches `status`. For RUNNING, also until every
    /// vertex is past deployment (running or done): a job is RUNNING as soon
    /// as it is scheduled, and a checkpoint asked for while a task is still
    /// deploying is refused, as in Flink.
    pub fn wait_for_status(&self, job_id: &str, status: &str) {
        wait_for(&format!("job {job_id} to be {status}"), || {
            if self.job_status(job_id) != status {
                return None;
            }
            if status != "RUNNING" {
                return Some(());
            }
            let job = self.get(&format!("/jobs/{job_id}"));
            let vertices = job["vertices"].as_array()?;
            let deployed = |v: &Value| matches!(v["status"].as_str(), Some("RUNNING" | "FINISHED"));
            vertices.iter().all(deployed).then_some(())
        });
    }

    /// Uploads a file through `POST /jars/upload`; returns the jar id.
    pub fn upload(&self, name: &str, bytes: &[u8]) -> String {
        let (content_type, body) = multipart(name, bytes);
        let (status, answer) = self.raw("POST", "/jars/upload", &content_type, &body);
        assert_eq!(status, 200, "upload failed: {answer}");
        assert_eq!(answer["status"], "success");
        answer["filename"].as_str().unwrap().rsplit('/').next().unwrap().to_string()
    }

    /// Runs an uploaded jar through `POST /jars/:id/run`; returns the job id.
    pub fn run_jar(&self, jar: &str, body: Value) -> String {
        let (status, answer) =
            self.raw("POST", &format!("/jars/{jar}/run"), "application/json", body.to_string().as_bytes());
        assert_eq!(status, 200, "run failed: {answer}");
        let job_id = answer["jobid"].as_str().unwrap().to_string();
        assert_eq!(job_id.len(), 32);
        job_id
    }

    /// Raw HTTP status and body of a request, for the error cases.
    pub fn raw(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
        let agent = self.client.agent();
        let url = format!("{}{path}", self.client.base_url());
        let token = &self.token;
        let response = match method {
            "GET" => with_token(agent.get(&url), token).call(),
            "DELETE" => with_token(agent.delete(&url), token).call(),
            "PATCH" => with_token(agent.patch(&url), token).send_empty(),
            _ => with_token(agent.post(&url), token).header("Content-Type", content_type).send(body),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (response.status().as_u16(), serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for child in self.taskmanagers.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = self.jobmanager.kill();
        let _ = self.jobmanager.wait();
    }
}

/// A client of the REST API at `rest` as the cluster's `settings` say to
/// reach it (https and its trusted certificates, when they turn TLS on).
fn client_for(rest: &str, settings: &[String], token: Option<String>) -> RestClient {
    let config = wflink::config::Configuration::default().with_overrides(settings).expect("valid test settings");
    RestClient::from_config(rest, &config).expect("a client of the test cluster").with_token(token)
}

/// Starts a `wflink jobmanager` on loopback with `-D settings` (later ones
/// win), output to `NAME.out` and `NAME.log` in `dir`; returns it with its
/// REST and RPC `host:port` once it printed them.
fn spawn_jobmanager(dir: &Path, name: &str, settings: &[String]) -> (Child, String, String) {
    let mut command = wflink();
    command.arg("jobmanager");
    for setting in ["rest.address=127.0.0.1", "jobmanager.rpc.address=127.0.0.1"]
        .iter()
        .copied()
        .chain(settings.iter().map(String::as_str))
    {
        command.args(["-D", setting]);
    }
    command.env("WFLINK_LOG", "info");
    let out = dir.join(format!("{name}.out"));
    command.stdout(file(&out)).stderr(file(&dir.join(format!("{name}.log"))));
    let mut jobmanager = command.spawn().expect("the jobmanager starts");
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let find = |p: &str| text.lines().find_map(|l| l.strip_prefix(p)).map(|s| s.trim().to_string());
        let rest = find("REST endpoint: http://").or_else(|| find("REST endpoint: https://"));
        if let (Some(rest), Some(rpc)) = (rest, find("RPC endpoint:")) {
            return (jobmanager, rest, rpc);
        }
        if started.elapsed() > DEADLINE || matches!(jobmanager.try_wait(), Ok(Some(_))) {
            let _ = jobmanager.kill();
            let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
            panic!("the jobmanager {name} did not print its endpoints: {log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A multipart body with `bytes` in the field `jarfile`, as browsers and Flink's clients send it.
pub fn multipart(file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "wflinktestboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `builder` with `Authorization: Bearer <token>` if there is a token.
fn with_token<B>(builder: ureq::RequestBuilder<B>, token: &Option<String>) -> ureq::RequestBuilder<B> {
    match token {
        Some(token) => builder.header("Authorization", format!("Bearer {token}")),
        None => builder,
    }
}

fn file(path: &Path) -> Stdio {
    std::fs::File::create(path).expect("scratch file").into()
}
