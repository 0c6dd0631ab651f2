//! The RPC endpoint TaskManager processes connect to
//! (`jobmanager.rpc.port`): each connection starts with a registration
//! and becomes a [`TaskManagerGateway`].

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr, AsyncContext};
use actix_rt::ArbiterHandle;

use super::{ResourceManager, TaskManagerGateway};
use crate::dispatcher::BlobStore;
use crate::rpc::protocol::ToJobManager;
use crate::rpc::{Connection, read_frame};

/// How long a new connection may take to register.
const REGISTRATION_DEADLINE: Duration = Duration::from_secs(10);

/// Accepts TaskManager connections on `listener` until the process ends;
/// gateways run on `arbiter`.
pub fn serve(
    listener: TcpListener,
    arbiter: ArbiterHandle,
    resource_manager: Addr<ResourceManager>,
    blobs: Arc<BlobStore>,
    heartbeat_timeout: Duration,
) -> std::io::Result<()> {
    std::thread::Builder::new().name("rpc-server".into()).spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            if let Err(e) = accept(stream, &arbiter, &resource_manager, &blobs, heartbeat_timeout) {
                tracing::warn!(error = %e, "a task manager connection was refused");
            }
        }
    })?;
    Ok(())
}

fn accept(
    stream: TcpStream,
    arbiter: &ArbiterHandle,
    resource_manager: &Addr<ResourceManager>,
    blobs: &Arc<BlobStore>,
    timeout: Duration,
) -> anyhow::Result<()> {
    stream.set_read_timeout(Some(REGISTRATION_DEADLINE))?;
    // Unbuffered, so nothing after the first frame is read away from the connection.
    let first: Option<ToJobManager> = read_frame(&mut &stream, &mut Vec::new())?;
    let Some(ToJobManager::Register(registration)) = first else {
        anyhow::bail!("the first message was not a registration");
    };
    stream.set_read_timeout(None)?;
    let (rm, blobs) = (resource_manager.clone(), blobs.clone());
    let name = registration.id.clone();
    TaskManagerGateway::start_in_arbiter(arbiter, move |ctx| {
        let mut gateway = TaskManagerGateway::new(registration, rm, blobs, timeout);
        match Connection::start(stream, &name, ctx.address().recipient()) {
            Ok(connection) => gateway.attach(connection),
            Err(e) => tracing::error!(error = %e, "cannot start the connection threads"),
        }
        gateway
    });
    Ok(())
}
