//! The REST server's connections, bounded so slow or idle clients cannot
//! hold it: axum's `serve` has no limits, so connections are served here
//! with hyper's HTTP/1 builder.
//! - at most `rest.server.max-connections` are open; one more is answered
//!   503 and closed at once, so a client learns why instead of hanging;
//! - a request's headers must arrive within `rest.server.header-read-timeout`
//!   (hyper's timer also runs while a kept-alive connection waits for its
//!   next request, so idle keep-alive connections close after it too);
//! - a connection on which nothing is read or written for
//!   `rest.server.idle-timeout` while no handler is working is closed: a
//!   client that stops reading a response or sending a body. Time spent in a
//!   handler (compiling an upload, running describe) is not idleness; a
//!   handler waiting for the client's body is not working.
//!
//! With `security.ssl.rest.enabled`, every connection is TLS: its handshake
//! must end within the header-read timeout, and a client that speaks plain
//! HTTP or fails the handshake is closed.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::config::{ConfigError, Configuration};
use crate::network::{ConnectionLimit, ConnectionPermit};

/// How long a refused client is given to take its 503.
const REFUSAL_WRITE: Duration = Duration::from_secs(1);
/// How long at most the rest of an unread request body is drained after an early answer.
const LINGER_TOTAL: Duration = Duration::from_secs(5);
/// How long the drain waits for the client's next bytes before closing.
const LINGER_IDLE: Duration = Duration::from_secs(1);

/// The bounds on the REST server's connections.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// `rest.server.max-connections`.
    pub connections: ConnectionLimit,
    /// `rest.server.header-read-timeout`.
    pub header_read_timeout: Duration,
    /// `rest.server.idle-timeout`.
    pub idle_timeout: Duration,
}

impl ServerLimits {
    /// The limits `config` sets.
    pub fn from_config(config: &Configuration) -> Result<Self, ConfigError> {
        Ok(ServerLimits {
            connections: ConnectionLimit::from_config(config, "rest.server.max-connections")?,
            header_read_timeout: config.duration("rest.server.header-read-timeout")?,
            idle_timeout: config.duration("rest.server.idle-timeout")?,
        })
    }
}

/// Serves `app` on `listener` within `limits`, over TLS when `tls` is
/// given, until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return Ok(()),
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, typically: wait instead of spinning.
                tracing::warn!(error = %e, "cannot accept a REST connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        match limits.connections.try_acquire() {
            Some(permit) => {
                tokio::spawn(connection(stream, peer, app.clone(), permit, limits.clone(), tls.clone()));
            }
            None => {
                tracing::warn!(%peer, limit = limits.connections.max(), "too many REST connections; refusing one");
                tokio::spawn(refuse(stream, tls.clone()));
            }
        }
    }
}

/// Tells a client over the connection limit so, and closes.
async fn refuse(stream: TcpStream, tls: Option<TlsAcceptor>) {
    let body =
        r#"{"errors":["too many connections to the REST server (rest.server.max-connections); try again later"]}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_WRITE, async {
        match tls {
            None => write_and_close(stream, &response).await,
            Some(acceptor) => write_and_close(acceptor.accept(stream).await?, &response).await,
        }
    })
    .await;
}

/// Writes a whole answer to a plain or a TLS stream, then closes it.
async fn write_and_close(mut stream: impl AsyncWrite + Unpin, text: &str) -> std::io::Result<()> {
    stream.write_all(text.as_bytes()).await?;
    stream.shutdown().await
}

/// Serves one connection, after its TLS handshake if `tls` is given.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    permit: ConnectionPermit,
    limits: ServerLimits,
    tls: Option<TlsAcceptor>,
) {
    let _ = stream.set_nodelay(true);
    let Some(acceptor) = tls else { return serve_connection(stream, peer, app, permit, limits).await };
    match tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => serve_connection(stream, peer, app, permit, limits).await,
        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "a REST client failed the TLS handshake"),
        Err(_) => tracing::debug!(%peer, "a REST client did not finish the TLS handshake in time"),
    }
}

/// Serves one connection until it ends, times out or stays idle too long.
async fn serve_connection<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    stream: S,
    peer: SocketAddr,
    app: Router,
    _permit: ConnectionPermit,
    limits: ServerLimits,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { inner: stream, activity: activity.clone() });
    let router = TowerToHyperService::new(app);
    let busy = activity.clone();
    let unread_body = Arc::new(AtomicBool::new(false));
    let left_unread = unread_body.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let left_unread = left_unread.clone();
        let working = busy.working();
        let ended = Arc::new(AtomicBool::new(request.body().is_end_stream()));
        let request = request.map(|body| WatchedBody {
            inner: body,
            activity: busy.clone(),
            waiting: false,
            ended: ended.clone(),
        });
        let answer = hyper::service::Service::call(&router, request);
        async move {
            let mut response = answer.await;
            drop(working);
            // An answer given before the request's body was read (413, a
            // refusal): the rest of the body is still on the connection, so
            // it cannot carry another request. Saying so keeps clients from
            // putting it back in their pool and failing their next request.
            if let Ok(response) = &mut response
                && !ended.load(Ordering::Acquire)
            {
                left_unread.store(true, Ordering::Release);
                response
                    .headers_mut()
                    .insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
            }
            response
        }
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let served = builder.serve_connection(io, service).without_shutdown();
    tokio::pin!(served);
    loop {
        let idle_left = limits.idle_timeout.saturating_sub(activity.idle_for());
        tokio::select! {
            result = served.as_mut() => {
                match result {
                    Ok(parts) => close(parts.io.into_inner(), unread_body.load(Ordering::Acquire)).await,
                    Err(e) => tracing::debug!(%peer, error = %e, "REST connection ended with an error"),
                }
                return;
            }
            () = tokio::time::sleep(idle_left.max(Duration::from_millis(10))) => {
                if !activity.is_working() && activity.idle_for() >= limits.idle_timeout {
                    tracing::debug!(%peer, timeout = ?limits.idle_timeout, "closing an idle REST connection (rest.server.idle-timeout)");
                    return;
                }
            }
        }
    }
}

/// Closes a connection whose answers are all written. If the client may
/// still be sending a body the server did not read (it answered 413 or a
/// refusal early), the rest is read and dropped for at most
/// [`LINGER_TOTAL`] first, as nginx's lingering close does: closing a socket
/// with unread bytes resets the connection, and the client then fails with
/// a broken pipe or loses the answer instead of reading it.
async fn close<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, client_may_be_sending: bool) {
    let _ = tokio::time::timeout(REFUSAL_WRITE, stream.shutdown()).await;
    if !client_may_be_sending {
        return;
    }
    let deadline = tokio::time::Instant::now() + LINGER_TOTAL;
    let mut discard = vec![0u8; 64 << 10];
    while let Ok(Ok(read)) =
        tokio::time::timeout_at(deadline.min(tokio::time::Instant::now() + LINGER_IDLE), stream.read(&mut discard))
            .await
        && read > 0
    {}
}

/// When a connection last moved bytes, and how many of its requests a handler is working on.
struct Activity {
    started: Instant,
    /// Milliseconds from `started` to the last read or write.
    last: AtomicU64,
    /// Requests in a handler.
    working: AtomicUsize,
    /// Of those, the ones whose handler waits for the client's body.
    waiting_for_body: AtomicUsize,
}

/// A request being handled; dropped when its response is ready.
struct Working(Arc<Activity>);

impl Activity {
    fn new() -> Self {
        Activity {
            started: Instant::now(),
            last: AtomicU64::new(0),
            working: AtomicUsize::new(0),
            waiting_for_body: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        self.last.store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }

    fn working(self: &Arc<Self>) -> Working {
        self.working.fetch_add(1, Ordering::AcqRel);
        Working(self.clone())
    }

    fn is_working(&self) -> bool {
        self.working.load(Ordering::Acquire) > self.waiting_for_body.load(Ordering::Acquire)
    }
}

/// A request body that tells [`Activity`] while its handler waits for the
/// client, and `ended` once it has been read to its end.
struct WatchedBody {
    inner: Incoming,
    activity: Arc<Activity>,
    waiting: bool,
    ended: Arc<AtomicBool>,
}

impl WatchedBody {
    fn set_waiting(&mut self, waiting: bool) {
        if waiting != self.waiting {
            self.waiting = waiting;
            match waiting {
                true => self.activity.waiting_for_body.fetch_add(1, Ordering::AcqRel),
                false => self.activity.waiting_for_body.fetch_sub(1, Ordering::AcqRel),
            };
        }
    }
}

impl Body for WatchedBody {
    type Data = axum::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        self.set_waiting(polled.is_pending());
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.ended.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for WatchedBody {
    fn drop(&mut self) {
        self.set_waiting(false);
    }
}

impl Drop for Working {
    fn drop(&mut self) {
        self.0.touch();
        self.0.working.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket that records when bytes last moved either way.
struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
