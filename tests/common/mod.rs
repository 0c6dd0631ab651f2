//! Shared helpers for the end-to-end tests: build guests once per test
//! binary, run the real `wflink` binary, make input files, count words
//! independently of wflink.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod cluster;
pub mod feed;
pub mod kafka;
pub mod sensors;
pub mod shapes;

use wflink::guest_build::{build_guest, repo};

/// Builds a guest crate once per test binary and returns its component.
pub fn guest(dir: PathBuf) -> PathBuf {
    static BUILT: OnceLock<std::sync::Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    built
        .entry(dir.clone())
        .or_insert_with(|| build_guest(&dir, Some(&repo::guest_target_dir())).expect("guest builds"))
        .clone()
}

/// The wordcount example component.
pub fn wordcount_wasm() -> PathBuf {
    guest(repo::example("wordcount"))
}

/// A test-only guest from `tests/guests/`.
pub fn test_guest(name: &str) -> PathBuf {
    guest(repo::root().join("tests").join("guests").join(name))
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(remove_scratch_of_ended_runs);
    let dir = std::env::temp_dir().join(format!("wflink-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Removes the scratch directories of test runs that have ended. A run
/// keeps its own (a failed test's files are there to be read) and runs
/// still going keep theirs; without this, every run leaves its inputs,
/// outputs and checkpoints (hundreds of MB) in the temporary directory.
fn remove_scratch_of_ended_runs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|name| name.strip_prefix("wflink-test-")) else { continue };
        let Some(pid) = rest.rsplit('-').next().and_then(|pid| pid.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The `wflink` binary under test. Compiled components are cached under
/// `target/wflink-cache`, so test runs after the first skip compiling.
pub fn wflink() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wflink"));
    command.stdin(Stdio::null());
    command.env(wflink::wasm::CACHE_DIR_ENV, repo::root().join("target").join("wflink-cache"));
    command
}

/// Runs the wordcount job `wasm` on a generated text at `parallelism`,
/// writing to files, and checks every count and the number of updates
/// against [`expected_counts`].
pub fn assert_wordcount_is_exact(wasm: &Path, parallelism: u32, words: usize, limit: Duration) {
    let name = wasm.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    let dir = scratch(&format!("{name}-p{parallelism}"));
    let text = generate_text(words, 7 + parallelism as u64);
    let input = dir.join("input.txt");
    std::fs::write(&input, &text).unwrap();
    let output = dir.join("out");

    let mut command = wflink();
    command.args(["run", "--local", "-p", &parallelism.to_string()]).arg(wasm);
    command.arg("--input").arg(&input).arg("--output").arg(&output);
    let result = run_with_limit(command, limit);
    assert!(result.status.success(), "{name} failed: {}", String::from_utf8_lossy(&result.stderr));

    let parts: Vec<_> = std::fs::read_dir(&output).unwrap().collect();
    assert_eq!(parts.len(), parallelism as usize, "one part file per sink subtask");
    let (counts, updates) = final_counts(&read_parts(&output));
    let expected = expected_counts(&text);
    assert_eq!(counts, expected, "{name} at p={parallelism}");
    let total: u64 = expected.values().sum();
    assert_eq!(updates as u64, total, "a running count emits one update per word");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `command` to its end, failing the test if it takes longer than
/// `limit` (the process is killed, never left behind).
pub fn run_with_limit(mut command: Command, limit: Duration) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("wflink starts");
    // Read both pipes while the process runs: one that writes more than a
    // pipe holds would otherwise block until the limit.
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    let started = Instant::now();
    let (status, overran) = loop {
        if let Some(status) = child.try_wait().expect("wait works") {
            break (status, false);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            break (child.wait().expect("wait works"), true);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() };
    if overran {
        panic!(
            "wflink ran longer than {limit:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output
}

/// Reads a child's pipe to its end on a thread of its own.
fn read_in_background(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// A text of `words` words with upper case, digits and punctuation,
/// deterministic for a given seed.
pub fn generate_text(words: usize, seed: u64) -> String {
    let vocabulary = [
        "Flink",
        "stream",
        "wasm",
        "state",
        "Key",
        "window",
        "batch",
        "river",
        "data",
        "x1",
        "2024",
        "naïve",
        "over-the-top",
        "it's",
        "EVENT",
        "time",
        "watermark",
        "sink",
        "source",
        "a",
    ];
    let mut s = seed | 1;
    let mut text = String::new();
    for i in 0..words {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        text.push_str(vocabulary[(s % vocabulary.len() as u64) as usize]);
        text.push_str(match i % 7 {
            6 => "\n",
            3 => ", ",
            5 => "; ",
            _ => " ",
        });
    }
    text
}

/// Word counts by the wordcount example's rule, computed without wflink:
/// ASCII lowercase, split on every byte that is not ASCII alphanumeric.
pub fn expected_counts(text: &str) -> HashMap<String, u64> {
    let mut counts = HashMap::new();
    for token in text.as_bytes().split(|b| !b.is_ascii_alphanumeric()).filter(|t| !t.is_empty()) {
        let word = String::from_utf8(token.to_ascii_lowercase()).unwrap();
        *counts.entry(word).or_insert(0) += 1;
    }
    counts
}

/// Parses `(word,count)` lines (with or without an `N> ` prefix) into the
/// final count per word and the number of lines.
pub fn final_counts(lines: &str) -> (HashMap<String, u64>, usize) {
    let mut counts = HashMap::new();
    let mut n = 0;
    for line in lines.lines().filter(|l| !l.is_empty()) {
        n += 1;
        let line = line.split_once("> ").map_or(line, |(_, rest)| rest);
        let inner =
            line.strip_prefix('(').and_then(|l| l.strip_suffix(')')).unwrap_or_else(|| panic!("bad line {line:?}"));
        let (word, count) = inner.rsplit_once(',').unwrap();
        let count: u64 = count.parse().unwrap();
        let best = counts.entry(word.to_string()).or_insert(0);
        *best = (*best).max(count);
    }
    (counts, n)
}

/// Reads every part file of a file sink directory.
pub fn read_parts(dir: &Path) -> String {
    let mut all = String::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        all.push_str(&std::fs::read_to_string(path).unwrap());
    }
    all
}

/// Asserts a failed run: non-zero exit, one `error:` line mentioning
/// `expected`, and no panic.
pub fn assert_clean_failure(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "expected failure, got success; stderr: {stderr}");
    // A guest's own panic message is expected in the error; a host panic is not.
    assert!(
        !stderr.contains("panicked at runtime/") && !stderr.contains("thread 'main' panicked"),
        "a host panic escaped: {stderr}"
    );
    let error_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "expected exactly one error line: {stderr}");
    assert!(
        error_lines[0].to_lowercase().contains(&expected.to_lowercase()),
        "error line does not mention {expected:?}: {}",
        error_lines[0]
    );
}

/// A component of `guest-examples/NAME`.
pub fn example_wasm(name: &str) -> PathBuf {
    guest(repo::example(name))
}

/// The lines of a print sink's output without the `N> ` prefix, sorted,
/// so outputs of different parallelism compare equal.
pub fn sorted_lines(output: &str) -> Vec<String> {
    let mut lines: Vec<String> = output
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once("> ") {
            Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) => rest.to_string(),
            _ => l.to_string(),
        })
        .collect();
    lines.sort();
    lines
}

/// A `wflink` child process, killed when dropped (also when a test fails),
/// with its stdout lines arriving on a channel.
pub struct Running {
    pub child: std::process::Child,
    pub lines: std::sync::mpsc::Receiver<String>,
}

impl Running {
    /// A process started with its output elsewhere (no lines arrive), only to be killed when dropped.
    pub fn spawned(child: std::process::Child) -> Running {
        Running { child, lines: std::sync::mpsc::channel().1 }
    }

    /// Starts `command` with stdout piped into [`Running::lines`].
    pub fn start(mut command: Command) -> Running {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("wflink starts");
        let (tx, lines) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines }
    }

    /// The next stdout line, or a failure naming `what` after `limit`.
    pub fn next_line(&self, limit: Duration, what: &str) -> String {
        self.lines.recv_timeout(limit).unwrap_or_else(|_| panic!("no output line within {limit:?}: expected {what}"))
    }

    /// Waits for the process to exit successfully within `limit`.
    pub fn wait_success(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let stderr = self.child.stderr.take().map(std::io::read_to_string).and_then(Result::ok);
                assert!(status.success(), "wflink failed: {stderr:?}");
                return;
            }
            assert!(Instant::now() < deadline, "wflink did not finish within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Accepts a connection from wflink's socket source within `limit`.
pub fn accept_within(listener: &std::net::TcpListener, limit: Duration) -> std::net::TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((socket, _)) => {
                socket.set_nonblocking(false).unwrap();
                return socket;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("wflink did not connect to the socket source: {e}"),
        }
    }
}
