//! A socket that feeds lines of words to every connection until dropped,
//! so a socket-source job keeps running and its counters keep moving.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Serves a line of words every few milliseconds to every connection until dropped.
pub struct WordFeed {
    /// The port on 127.0.0.1 to point the job's `--port` at.
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl WordFeed {
    /// Starts serving on a free port.
    pub fn start() -> WordFeed {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            let mut peers: Vec<TcpStream> = Vec::new();
            let mut n = 0u64;
            while !stopped.load(Ordering::Relaxed) {
                if let Ok((peer, _)) = listener.accept() {
                    peer.set_nonblocking(false).unwrap();
                    peers.push(peer);
                }
                n += 1;
                let line = format!("stream {} wasm dashboard flink {}\n", n % 7, n % 3);
                peers.retain_mut(|p| p.write_all(line.as_bytes()).is_ok());
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        WordFeed { port, stop }
    }
}

impl Drop for WordFeed {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
