//! The socket source delivers a trickle of lines promptly: each record
//! is sent on within the buffer timeout, not held until a batch fills.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::*;

/// Lines written to the socket come out of the print sink while the
/// socket stays open, and the job finishes when the socket closes.
#[test]
fn a_trickle_from_a_socket_is_printed_promptly() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut child = wflink()
        .args(["run", "--local", "-p", "2"])
        .arg(wordcount_wasm())
        .args(["--hostname", "127.0.0.1", "--port", &port])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut socket = accept_within(&listener, Duration::from_secs(30), &mut child);

    let (lines_tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines_tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });

    for (i, word) in ["alpha", "beta", "alpha"].iter().enumerate() {
        socket.write_all(format!("{word}\n").as_bytes()).unwrap();
        let line = lines.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("record {i} ({word}) was not printed within 10 s while the socket stayed open")
        });
        let expected_count = if i == 2 { 2 } else { 1 };
        assert!(line.ends_with(&format!("({word},{expected_count})")), "{line}");
    }
    drop(socket);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the job did not finish within 30 s of the socket closing");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "the job should finish when the socket closes");
}

/// Accepts wflink's connection, killing it and failing if none comes in time.
pub(crate) fn accept_within(listener: &TcpListener, limit: Duration, child: &mut Child) -> TcpStream {
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
            Err(e) => {
                let _ = child.kill();
                let output = child.stderr.take().map(std::io::read_to_string).and_then(Result::ok);
                panic!("wflink did not connect to the socket source: {e}; stderr: {output:?}");
            }
        }
    }
}
