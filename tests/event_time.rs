//! Event time through the real binary: the watermark is the minimum of
//! parallel inputs and skips idle ones, late records reach the late side
//! output, session windows merge, and keyed state used outside a keyed
//! context is an error the guest sees.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn probe() -> std::path::PathBuf {
    test_guest("time-probe")
}

/// Starts the time probe's window mode on a socket source with two
/// parallel subtasks and returns it with both connections.
fn two_socket_sources(extra: &[&str]) -> (Running, TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut command = wflink();
    // -p 2: each source subtask chains into its own parser and timestamp
    // assigner, so the window (at parallelism 1) reads two watermarked inputs.
    command.args(["run", "--local", "-p", "2"]).arg(probe());
    command.args(["--mode", "windows", "--sources", "2", "--hostname", "127.0.0.1", "--port", &port]).args(extra);
    let running = Running::start(command);
    let a = accept_within(&listener, LIMIT);
    let b = accept_within(&listener, LIMIT);
    (running, a, b)
}

fn send(socket: &mut TcpStream, lines: &str) {
    socket.write_all(lines.as_bytes()).unwrap();
    socket.flush().unwrap();
}

/// A window fires only when both parallel sources passed its end: the
/// downstream watermark is the minimum of its inputs, not the latest one.
#[test]
fn the_watermark_is_the_minimum_of_two_parallel_sources() {
    let (running, mut a, mut b) = two_socket_sources(&[]);
    send(&mut a, "k,1000\nk,2000\nk,25000\n");
    // Source A alone is past [0,10000); B has sent nothing, so nothing may fire.
    assert!(
        running.lines.recv_timeout(Duration::from_millis(700)).is_err(),
        "a window fired while one source had not passed its end"
    );
    send(&mut b, "j,15000\n");
    // B's watermark 14999 passes 9999 now: [0,10000) of k fires.
    let line = running.next_line(LIMIT, "k's first window once both sources passed it");
    assert_eq!(line.split_once("> ").map_or(line.as_str(), |x| x.1), "k,0,10000,2");
    drop((a, b));
}

/// Watermarks leave an assigner every `pipeline.auto-watermark-interval`;
/// with 0 they leave only at the end of input, so a window whose end the
/// records passed long ago still waits for the end (exactly as Flink with
/// periodic emission off), and then every window fires.
#[test]
fn the_watermark_interval_comes_from_the_configuration() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut command = wflink();
    command.args(["run", "--local", "-p", "1", "-D", "pipeline.auto-watermark-interval=0"]).arg(probe());
    command.args(["--mode", "windows", "--hostname", "127.0.0.1", "--port", &port]);
    let mut running = Running::start(command);
    let mut socket = accept_within(&listener, LIMIT);
    send(&mut socket, "k,1000\nk,2000\nk,25000\n");
    // With the default 200 ms, [0,10000) fires at once (see the tests above).
    assert!(
        running.lines.recv_timeout(Duration::from_millis(1500)).is_err(),
        "a window fired although periodic watermarks are off"
    );
    drop(socket);
    let first = running.next_line(LIMIT, "k's first window at the end of input");
    assert_eq!(first.split_once("> ").map_or(first.as_str(), |x| x.1), "k,0,10000,2");
    let last = running.next_line(LIMIT, "k's last window at the end of input");
    assert_eq!(last.split_once("> ").map_or(last.as_str(), |x| x.1), "k,20000,30000,1");
    running.wait_success(LIMIT);
}

/// With an idle timeout, a silent source is marked idle and no longer
/// holds the watermark back.
#[test]
fn an_idle_source_does_not_hold_the_watermark_back() {
    let (mut running, mut a, b) = two_socket_sources(&["--idle-ms", "200"]);
    send(&mut a, "k,1000\nk,2000\nk,25000\n");
    let line = running.next_line(LIMIT, "k's window once the silent source is idle");
    assert_eq!(line.split_once("> ").map_or(line.as_str(), |x| x.1), "k,0,10000,2");
    drop((a, b));
    let rest = running.next_line(LIMIT, "k's last window at the end of input");
    assert_eq!(rest.split_once("> ").map_or(rest.as_str(), |x| x.1), "k,20000,30000,1");
    running.wait_success(LIMIT);
}

/// A reading whose window has fired goes to the late side output as
/// `LATE <line>` (sensor-alerts, socket source), and does not change the
/// window; a reading within the bound still counts.
#[test]
fn late_readings_go_to_the_late_side_output() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut command = wflink();
    // p=1: a socket source feeding parallel assigners would leave one of
    // them without records, holding the watermark back (as in Flink).
    command.args(["run", "--local", "-p", "1"]).arg(example_wasm("sensor-alerts"));
    command.args(["--hostname", "127.0.0.1", "--port", &port]);
    let mut running = Running::start(command);
    let mut socket = accept_within(&listener, LIMIT);
    send(&mut socket, "s1,1000,20.0\ns1,5000,19.5\ns1,13000,18.0\n");
    // The watermark is 13000 - 2000 - 1 = 10999: [0,10000) fires.
    let fired = running.next_line(LIMIT, "s1's first window");
    assert!(fired.ends_with("s1,0,10000,20.0,2"), "{fired}");
    send(&mut socket, "s1,4000,30.0\ns1,11500,21.0\n");
    let late = running.next_line(LIMIT, "the late reading");
    assert!(late.ends_with("LATE s1,4000,30.0"), "{late}");
    drop(socket);
    let last = running.next_line(LIMIT, "s1's second window at the end of input");
    assert!(last.ends_with("s1,10000,20000,21.0,2"), "{last}");
    running.wait_success(LIMIT);
}

/// Sessions with a 5 s gap: a record between two sessions merges them
/// into one (at parallelism 2, keys spread over subtasks).
#[test]
fn session_windows_merge() {
    let dir = scratch("sessions");
    let input = dir.join("events.txt");
    std::fs::write(&input, "k,1000\nk,10000\nj,2000\nk,5500\nk,30000\nj,8000\n").unwrap();
    let mut command = wflink();
    command.args(["run", "--local", "-p", "2"]).arg(probe()).args(["--mode", "sessions", "--input"]).arg(&input);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut expected = vec!["j,2000,7000,1", "j,8000,13000,1", "k,1000,15000,3", "k,30000,35000,1"];
    expected.sort();
    assert_eq!(sorted_lines(&String::from_utf8_lossy(&output.stdout)), expected);
}

/// Keyed state used in a map function gets an error back, from the SDK
/// handle and from the host's `state` import alike; the job goes on.
#[test]
fn state_outside_a_keyed_context_is_an_error_for_the_guest() {
    let mut command = wflink();
    command.args(["run", "--local"]).arg(probe()).args(["--mode", "misuse"]);
    let output = run_with_limit(command, LIMIT);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "sdk: keyed state accessed outside a keyed context (use it in a keyed process function or window) \
         | host: StateError::NoKeyedContext"
    );
}
