//! `wflink jobmanager`: the JobManager process. Dispatcher and
//! ResourceManager actors, the RPC endpoint TaskManagers connect to
//! (`jobmanager.rpc.port`) and the REST API (`rest.port`). Port 0 picks a
//! free port; the ports in use are printed on stdout.

use std::sync::Arc;

use actix::Actor;
use anyhow::Context;

use super::ConfigArgs;
use crate::blob_store::BlobStore;
use crate::dispatcher::{Dispatcher, PreparePool};
use crate::logs::LogFiles;
use crate::network::handshake::{SECRET_FILE_KEY, SECRET_KEY};
use crate::network::{ConnectionLimit, FrameLimits};
use crate::resource_manager::{ResourceManager, rpc_server};
use crate::rest::prometheus::Sources;
use crate::rest::{AppState, JarStore, RestGuard, ServerLimits, app};
use crate::security::Secret;
use crate::time::now_millis;
use crate::wasm::WasmEngine;

/// Printed on stdout once the REST API listens, followed by its URL.
pub const REST_READY: &str = "REST endpoint:";

pub(super) fn jobmanager(args: ConfigArgs) -> anyhow::Result<()> {
    let start_time = now_millis();
    let config = args.load()?;
    let engine = WasmEngine::new()?;
    let rpc_address = config.text("jobmanager.rpc.address");
    let rpc_port = config.port("jobmanager.rpc.port")?;
    let rest_address = config.text("rest.address");
    let rest_port = config.port("rest.port")?;
    // Flink's split: clients are told rest.address, the socket listens on rest.bind-address.
    let rest_bind = match config.text("rest.bind-address") {
        bind if bind.is_empty() => rest_address.clone(),
        bind => bind,
    };
    let heartbeat_timeout = config.duration("heartbeat.timeout")?;
    crate::network::limits::configure(FrameLimits::from_config(&config)?);
    let rpc_connections = ConnectionLimit::from_config(&config, rpc_server::MAX_CONNECTIONS_KEY)?;
    let rest_limits = ServerLimits::from_config(&config)?;
    let guard = Arc::new(RestGuard::from_config(&config)?);
    let rest_tls = crate::security::tls::rest_server(&config)?.map(tokio_rustls::TlsAcceptor::from);
    crate::network::handshake::configure(Secret::from_config(&config, SECRET_KEY, SECRET_FILE_KEY)?);
    crate::network::link::configure(crate::security::tls::internal(&config)?);
    let upload_dir = match config.text("web.upload.dir") {
        dir if dir.is_empty() => std::env::temp_dir().join(format!("wflink-web-{}", std::process::id())),
        dir => dir.into(),
    };
    let jars = Arc::new(
        JarStore::new(upload_dir.clone())
            .with_context(|| format!("cannot create the upload directory {}", upload_dir.display()))?,
    );
    let blob_dir = match config.text("blob.storage.directory") {
        dir if dir.is_empty() => std::env::temp_dir().join(format!("wflink-blobs-{}", std::process::id())),
        dir => dir.into(),
    };
    let prometheus = super::prometheus_listener(&config)?;
    let blobs = Arc::new(BlobStore::in_dir(blob_dir.clone()).with_context(|| {
        format!("cannot create the blob directory {} (blob.storage.directory)", blob_dir.display())
    })?);

    actix::System::new().block_on(async move {
        let resource_manager = ResourceManager::default().start();
        let preparing = PreparePool::from_config(&config)?;
        let dispatcher =
            Dispatcher::new(engine.clone(), config.clone(), resource_manager.clone(), blobs.clone(), preparing.clone())
                .start();

        let rpc = std::net::TcpListener::bind((rpc_address.as_str(), rpc_port))
            .with_context(|| format!("cannot listen on {rpc_address}:{rpc_port} (jobmanager.rpc.port)"))?;
        let rpc_port = rpc.local_addr()?.port();
        rpc_server::serve(
            rpc,
            actix::Arbiter::current(),
            resource_manager.clone(),
            blobs.clone(),
            heartbeat_timeout,
            rpc_connections,
        )?;

        let rest = tokio::net::TcpListener::bind((rest_bind.as_str(), rest_port))
            .await
            .with_context(|| format!("cannot listen on {rest_bind}:{rest_port} (rest.bind-address, rest.port)"))?;
        let scheme = if rest_tls.is_some() { "https" } else { "http" };
        let rest_url = format!("{scheme}://{rest_address}:{}", rest.local_addr()?.port());
        let logs = Arc::new(LogFiles::of_this_process());
        let state = AppState {
            dispatcher,
            resource_manager,
            engine,
            preparing,
            config,
            jars: jars.clone(),
            rest_url: rest_url.clone(),
            logs,
            start_time,
            guard,
        };
        if let Some(listener) = prometheus {
            serve_prometheus(listener, state.clone(), rest_address.clone());
        }
        println!("RPC endpoint: {rpc_address}:{rpc_port}");
        println!("{REST_READY} {rest_url}");
        tracing::info!(%rest_url, rpc_port, "job manager started");
        let served = crate::rest::serve(rest, app(state), rest_limits, rest_tls, stop_signal()).await;
        // Stopped by a signal: what was uploaded goes with the process.
        jars.clean_up();
        blobs.clean_up();
        served.context("the REST server failed")
    })
}

/// Serves the JobManager's Prometheus endpoint on `listener`, on the actix thread, for as long as the process runs.
fn serve_prometheus(listener: std::net::TcpListener, state: AppState, host: String) {
    let sources =
        Sources { dispatcher: state.dispatcher, resource_manager: state.resource_manager, host, tasks_here: false };
    println!("Prometheus endpoint: {}", crate::rest::prometheus::spawn(listener, sources));
}

/// Completes at the first SIGTERM or SIGINT (or at once if they cannot be watched).
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut interrupt)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::warn!("cannot watch SIGTERM and SIGINT; the upload directory is not removed at exit");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = interrupt.recv() => tracing::info!("SIGINT: stopping"),
    }
}
