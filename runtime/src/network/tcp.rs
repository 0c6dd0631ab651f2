//! Records between TaskManager processes: a sender thread per remote
//! channel takes batches from a bounded channel and writes them as
//! length-prefixed rmp-serde frames; the receiving TaskManager's data
//! server reads them into the target task's bounded channel. A full
//! channel stops the reader, TCP's window fills, the writer blocks, its
//! bounded channel fills and the upstream task blocks: backpressure
//! crosses processes the same way it works inside one.
//!
//! Every connection is first encrypted when internal TLS is on
//! ([`Link`], `security.ssl.internal.enabled`), then proves it knows the
//! cluster secret ([`crate::network::handshake`], when
//! `security.internal.secret` is set).
//! Frames are bounded by `taskmanager.network.max-frame-size`; a
//! connection must name its channel within `network.handshake-timeout`,
//! and at most `taskmanager.network.max-connections` are open at once.

use std::io::{BufReader, BufWriter, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Instant;

use super::handshake::{self, cluster_secret};
use super::limits::HANDSHAKE_TIMEOUT_KEY;
use super::link::Link;
use super::registry::{ChannelKey, ChannelRegistry};
use super::{CHANNEL_CAPACITY, OutputChannel, Tagged};
use super::{ConnectionLimit, ConnectionPermit, FrameReader, TimedStream, limits, write_frame_within};

/// Key of the cap on open data connections.
pub const MAX_CONNECTIONS_KEY: &str = "taskmanager.network.max-connections";

/// Starts the data server on `listener`: every connection names its
/// target channel in its first frame, then streams [`Tagged`] messages.
pub fn serve(
    listener: TcpListener,
    registry: Arc<ChannelRegistry>,
    connections: ConnectionLimit,
) -> std::io::Result<()> {
    std::thread::Builder::new().name("data-server".into()).spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Some(permit) = connections.try_acquire() else {
                let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
                tracing::warn!(%peer, limit = connections.max(), key = connections.key(), "too many data connections; refusing one");
                continue;
            };
            let registry = registry.clone();
            let spawned =
                std::thread::Builder::new().name("data-in".into()).spawn(move || receive(stream, &registry, permit));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a data connection thread");
            }
        }
    })?;
    Ok(())
}

/// Reads one connection into its target channel until the sender closes
/// it or the receiving task is gone; its place under the connection
/// limit is given back then.
fn receive(stream: TcpStream, registry: &ChannelRegistry, _permit: ConnectionPermit) {
    let _ = stream.set_nodelay(true);
    let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_else(|_| "a data peer".into());
    let deadline = Instant::now() + limits().handshake_timeout;
    let stream = match Link::server(stream, &peer, deadline) {
        Ok(link) => link,
        Err(e) => {
            tracing::warn!(%peer, error = %e, "a data connection was refused");
            return;
        }
    };
    if let Err(e) = handshake::server(&stream, &peer, cluster_secret(), deadline) {
        tracing::warn!(%peer, error = %e, "a data connection was refused");
        return;
    }
    let input = BufReader::with_capacity(256 * 1024, TimedStream::new(stream));
    let mut input = FrameReader::new(input, limits().data(), peer);
    let key: ChannelKey = match input.read_by(deadline, HANDSHAKE_TIMEOUT_KEY) {
        Ok(Some(key)) => key,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(peer = input.peer(), error = %e, "a data connection did not name its channel");
            return;
        }
    };
    let tx = registry.tagged_sender(key);
    loop {
        match input.read::<Tagged>() {
            Ok(Some(message)) => {
                if tx.send(message).is_err() {
                    tracing::debug!(?key, "the receiving task is gone; closing its data connection");
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(?key, error = %e, "data connection failed");
                return;
            }
        }
    }
}

/// A channel from upstream subtask `upstream` into subtask `key` of the
/// TaskManager at `address`. The
/// connection is made by the sender thread; if it fails the channel
/// disconnects and the sending task fails, naming nothing worse than a
/// vanished downstream task.
pub fn remote_channel(address: String, key: ChannelKey, upstream: u32) -> OutputChannel {
    let (tx, rx) = super::channel::tagged_channel(CHANNEL_CAPACITY);
    let spawned = std::thread::Builder::new().name("data-out".into()).spawn(move || {
        let stream = match TcpStream::connect(&address) {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(%address, error = %e, "cannot connect to a TaskManager's data port");
                return;
            }
        };
        let _ = stream.set_nodelay(true);
        let deadline = Instant::now() + limits().handshake_timeout;
        let stream = match Link::client(stream, &address, deadline) {
            Ok(link) => link,
            Err(e) => {
                tracing::warn!(%address, error = %e, "a TaskManager's data port did not accept this one");
                return;
            }
        };
        if let Err(e) = handshake::client(&stream, &address, cluster_secret(), deadline) {
            tracing::warn!(%address, error = %e, "a TaskManager's data port did not accept this one");
            return;
        }
        let mut output = BufWriter::with_capacity(256 * 1024, stream);
        let mut scratch = Vec::new();
        let bound = limits().data();
        if write_frame_within(&mut output, &key, &mut scratch, &bound, &address).is_err() {
            return;
        }
        while let Ok(message) = rx.recv() {
            if let Err(e) = write_frame_within(&mut output, &message, &mut scratch, &bound, &address) {
                tracing::warn!(%address, error = %e, "sending records failed");
                return;
            }
            // Batches already carry the buffer timeout; don't hold them again.
            if rx.is_empty() && output.flush().is_err() {
                return;
            }
        }
        let _ = output.flush();
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start a data sender thread");
    }
    OutputChannel::from_sender(tx, upstream)
}
