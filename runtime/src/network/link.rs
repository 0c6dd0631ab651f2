//! A connection between two wflink processes, in the clear or over TLS
//! (`security.ssl.internal.enabled`): what RPC and data connections read
//! and write once it is made.
//!
//! Each connection has one reading and one writing thread, so a [`Link`]
//! is cloned like a `TcpStream` and both clones are used at once. rustls
//! keeps one state for both directions, so over TLS the state is shared
//! under a lock, held only while bytes are encrypted or decrypted: the
//! reader waits for the socket without it, and the writer hands
//! encrypted bytes to the socket after letting it go (under a second
//! lock that keeps records in order). A slow peer therefore never stops
//! the other direction.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use rustls::{ClientConnection, Connection, ServerConnection};

use crate::security::tls::{InternalTls, internal_server_name};

static TLS: OnceLock<Option<InternalTls>> = OnceLock::new();

/// Sets this process's internal TLS; the first call wins (a process has
/// one configuration).
pub fn configure(tls: Option<InternalTls>) {
    let _ = TLS.set(tls);
}

fn internal_tls() -> Option<&'static InternalTls> {
    TLS.get_or_init(|| None).as_ref()
}

/// An encrypting buffer that grew past this for one large write is not kept.
const KEEP_OUTGOING: usize = 256 << 10;

/// One connection between wflink processes. Clones share it: one may
/// read while another writes.
#[derive(Clone)]
pub struct Link {
    socket: Arc<TcpStream>,
    tls: Option<Arc<TlsState>>,
}

struct TlsState {
    session: Mutex<Session>,
    /// Held while encrypted bytes go to the socket, so records from the
    /// two threads never interleave.
    sending: Mutex<()>,
}

struct Session {
    connection: Connection,
    /// Bytes read from the socket that rustls has not taken yet.
    pending: Vec<u8>,
    /// Encrypted bytes waiting for the socket.
    outgoing: Vec<u8>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link").field("socket", &self.socket).field("tls", &self.tls.is_some()).finish()
    }
}

impl Link {
    /// The client's end of a connection just made to `peer`: TLS, when
    /// this process has internal TLS, done by `deadline`.
    pub fn client(socket: TcpStream, peer: &str, deadline: Instant) -> io::Result<Link> {
        Link::client_over(socket, internal_tls(), peer, deadline)
    }

    /// The server's end of a connection just accepted from `peer`.
    pub fn server(socket: TcpStream, peer: &str, deadline: Instant) -> io::Result<Link> {
        Link::server_over(socket, internal_tls(), peer, deadline)
    }

    /// The client's end over `tls` (none: in the clear), whatever this
    /// process's configuration says.
    pub fn client_over(
        socket: TcpStream,
        tls: Option<&InternalTls>,
        peer: &str,
        deadline: Instant,
    ) -> io::Result<Link> {
        match tls {
            None => Ok(Link::plain(socket)),
            Some(tls) => {
                let connection = ClientConnection::new(tls.client.clone(), internal_server_name())
                    .map_err(|e| io::Error::other(format!("TLS with {peer}: {e}")))?;
                Link::handshake(socket, connection.into(), peer, deadline)
            }
        }
    }

    /// The server's end over `tls` (none: in the clear), whatever this
    /// process's configuration says.
    pub fn server_over(
        socket: TcpStream,
        tls: Option<&InternalTls>,
        peer: &str,
        deadline: Instant,
    ) -> io::Result<Link> {
        match tls {
            None => Ok(Link::plain(socket)),
            Some(tls) => {
                let connection = ServerConnection::new(tls.server.clone())
                    .map_err(|e| io::Error::other(format!("TLS with {peer}: {e}")))?;
                Link::handshake(socket, connection.into(), peer, deadline)
            }
        }
    }

    /// A connection in the clear.
    pub fn plain(socket: TcpStream) -> Link {
        Link { socket: Arc::new(socket), tls: None }
    }

    fn handshake(mut socket: TcpStream, mut connection: Connection, peer: &str, deadline: Instant) -> io::Result<Link> {
        while connection.is_handshaking() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the TLS handshake with {peer} took too long"),
                ));
            }
            socket.set_read_timeout(Some(left))?;
            connection.complete_io(&mut socket).map_err(|e| match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                    io::Error::new(io::ErrorKind::TimedOut, format!("the TLS handshake with {peer} took too long"))
                }
                _ => io::Error::new(e.kind(), format!("the TLS handshake with {peer} failed: {e}")),
            })?;
        }
        socket.set_read_timeout(None)?;
        let session = Session { connection, pending: Vec::new(), outgoing: Vec::new() };
        let state = TlsState { session: Mutex::new(session), sending: Mutex::new(()) };
        Ok(Link { socket: Arc::new(socket), tls: Some(Arc::new(state)) })
    }

    /// The socket under the connection, for its timeouts and address.
    pub fn socket(&self) -> &TcpStream {
        &self.socket
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Closes both directions for every clone, at once. No TLS
    /// close_notify is sent: it could wait behind a write blocked on a
    /// full socket, and the caller may be an actor's thread.
    pub fn shutdown(&self) -> io::Result<()> {
        self.socket.shutdown(Shutdown::Both)
    }
}

impl TlsState {
    fn lock(&self) -> MutexGuard<'_, Session> {
        // A thread that panicked while holding it left bytes half-processed:
        // the connection fails on its next record, which is the right end.
        self.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads decrypted bytes into `buf`, waiting for the socket as needed.
    fn read(&self, socket: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut arrived = 0;
        loop {
            let mut session = self.lock();
            // The caller's buffer doubles as the socket's, until plaintext is ready for it.
            session.pending.extend_from_slice(&buf[..arrived]);
            session.absorb()?;
            match session.connection.reader().read(buf) {
                Ok(n) => {
                    self.flush_locked(session, socket)?;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            self.flush_locked(session, socket)?;
            arrived = (&*socket).read(buf)?;
            if arrived == 0 {
                // The socket's end, with or without TLS's close_notify: frames
                // check their own lengths, so a cut inside one is still an error.
                return Ok(0);
            }
        }
    }

    /// Encrypts `buf` and sends it.
    fn write(&self, socket: &TcpStream, buf: &[u8]) -> io::Result<usize> {
        let mut session = self.lock();
        let n = session.connection.writer().write(buf)?;
        self.flush_locked(session, socket)?;
        Ok(n)
    }

    /// Sends what rustls has to send. The session's lock is let go
    /// before the socket is written, the sending lock taken first so the
    /// order of records holds.
    fn flush_locked(&self, mut session: MutexGuard<'_, Session>, socket: &TcpStream) -> io::Result<()> {
        if !session.connection.wants_write() {
            return Ok(());
        }
        let mut outgoing = std::mem::take(&mut session.outgoing);
        while session.connection.wants_write() {
            session.connection.write_tls(&mut outgoing)?;
        }
        let sending = self.sending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        drop(session);
        let written = (&*socket).write_all(&outgoing);
        drop(sending);
        outgoing.clear();
        // The buffer is kept for the next records, unless one large batch grew it.
        if outgoing.capacity() <= KEEP_OUTGOING {
            self.lock().outgoing = outgoing;
        }
        written
    }
}

impl Session {
    /// Gives rustls the bytes read so far, as far as it takes them
    /// (it stops taking while decrypted bytes wait to be read).
    fn absorb(&mut self) -> io::Result<()> {
        let Session { connection, pending, .. } = self;
        // rustls takes a record or so per call: the bytes it took are
        // removed once at the end, not shifted down after every record.
        let mut input = &pending[..];
        let mut feed = || -> io::Result<()> {
            while !input.is_empty() && connection.wants_read() {
                let taken = connection.read_tls(&mut input)?;
                connection.process_new_packets().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                if taken == 0 {
                    break;
                }
            }
            Ok(())
        };
        let result = feed();
        let consumed = pending.len() - input.len();
        pending.drain(..consumed);
        result
    }
}

impl Read for &Link {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.tls {
            None => (&*self.socket).read(buf),
            Some(tls) => tls.read(&self.socket, buf),
        }
    }
}

impl Write for &Link {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.tls {
            None => (&*self.socket).write(buf),
            Some(tls) => tls.write(&self.socket, buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        // Every write is sent before it returns.
        Ok(())
    }
}

impl Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for Link {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self).flush()
    }
}
