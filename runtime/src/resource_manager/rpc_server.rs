//! The RPC endpoint TaskManager processes connect to
//! (`jobmanager.rpc.port`): each connection starts with a registration
//! and becomes a [`TaskManagerGateway`].
//!
//! Each connection first proves it knows the cluster secret
//! ([`crate::network::handshake`], when `security.internal.secret` is set);
//! registrations are read on a thread per connection, so a client that
//! trickles its first frame holds up only itself, and only until
//! `network.handshake-timeout`; at most `jobmanager.rpc.max-connections`
//! are open at once (registering or registered), more are closed at once.

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, Addr, AsyncContext};
use actix_rt::ArbiterHandle;

use super::{ResourceManager, TaskManagerGateway};
use crate::blob_store::BlobStore;
use crate::network::handshake::{self, cluster_secret};
use crate::network::limits::HANDSHAKE_TIMEOUT_KEY;
use crate::network::{ConnectionLimit, ConnectionPermit, FrameReader, Link, TimedStream, limits};
use crate::rpc::Connection;
use crate::rpc::protocol::ToJobManager;

/// Key of the cap on open RPC connections.
pub const MAX_CONNECTIONS_KEY: &str = "jobmanager.rpc.max-connections";

/// What every accepted connection needs.
#[derive(Clone)]
struct Endpoint {
    arbiter: ArbiterHandle,
    resource_manager: Addr<ResourceManager>,
    blobs: Arc<BlobStore>,
    heartbeat_timeout: Duration,
}

/// Accepts TaskManager connections on `listener` until the process ends,
/// at most `connections` at once; gateways run on `arbiter`.
pub fn serve(
    listener: TcpListener,
    arbiter: ArbiterHandle,
    resource_manager: Addr<ResourceManager>,
    blobs: Arc<BlobStore>,
    heartbeat_timeout: Duration,
    connections: ConnectionLimit,
) -> std::io::Result<()> {
    let endpoint = Endpoint { arbiter, resource_manager, blobs, heartbeat_timeout };
    std::thread::Builder::new().name("rpc-server".into()).spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_else(|_| "an unknown peer".into());
            let Some(permit) = connections.try_acquire() else {
                tracing::warn!(%peer, limit = connections.max(), key = connections.key(), "too many RPC connections; refusing one");
                continue;
            };
            let endpoint = endpoint.clone();
            let spawned = std::thread::Builder::new().name("rpc-register".into()).spawn(move || {
                if let Err(e) = accept(stream, &peer, permit, &endpoint) {
                    tracing::warn!(%peer, error = %e, "a task manager connection was refused");
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a registration thread");
            }
        }
    })?;
    Ok(())
}

fn accept(stream: TcpStream, peer: &str, permit: ConnectionPermit, endpoint: &Endpoint) -> anyhow::Result<()> {
    let deadline = Instant::now() + limits().handshake_timeout;
    // First the cluster secret (a no-op exchange when none is set): a refused peer learns why and is closed.
    // TLS first when it is on (security.ssl.internal.enabled), then the secret inside it.
    let stream = Link::server(stream, peer, deadline)?;
    handshake::server(&stream, peer, cluster_secret(), deadline)?;
    // Unbuffered, so nothing after the first frame is read away from the connection.
    let mut first = FrameReader::new(TimedStream::new(&stream), limits().rpc(), peer);
    let Some(ToJobManager::Register(registration)) = first.read_by(deadline, HANDSHAKE_TIMEOUT_KEY)? else {
        anyhow::bail!("the first message was not a registration");
    };
    stream.socket().set_read_timeout(None)?;
    let Endpoint { arbiter, resource_manager, blobs, heartbeat_timeout } = endpoint.clone();
    let name = registration.id.clone();
    TaskManagerGateway::start_in_arbiter(&arbiter, move |ctx| {
        let mut gateway = TaskManagerGateway::new(registration, resource_manager, blobs, heartbeat_timeout);
        match Connection::start_holding(stream, &name, ctx.address().recipient(), Some(permit)) {
            Ok(connection) => gateway.attach(connection),
            Err(e) => tracing::error!(error = %e, "cannot start the connection threads"),
        }
        gateway
    });
    Ok(())
}
