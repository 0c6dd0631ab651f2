//! The frame codec every TCP connection between wflink processes speaks:
//! a 4-byte big-endian length, then the MessagePack (rmp-serde) body.
//!
//! A peer is not trusted to be honest about sizes or to keep sending, so
//! every frame is bounded:
//! - a frame longer than its [`FrameBound`] is refused, naming the peer,
//!   the size and the key that sets the bound, and the caller closes the
//!   connection;
//! - memory is taken as the bytes arrive, never from the header alone, so
//!   a bare 4-byte header costs nothing however large it claims to be;
//! - once a frame has begun, the rest must arrive within the read timeout
//!   (`network.read-timeout`), so a half-sent frame cannot hold its memory
//!   and its connection for ever. Waiting between frames is not bounded
//!   here: a quiet stream is legitimate, and control connections have
//!   heartbeats for that.

use std::borrow::Borrow;
use std::io::{self, BufReader, Read, Write};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::limits::{FrameBound, limits};
use super::link::Link;

/// A buffer that grew past this for one large frame is given back after
/// it, so one component transfer does not pin its size for the life of the connection.
const KEEP_SCRATCH: usize = 1 << 20;

/// The most memory reserved ahead of the bytes that fill it.
const RESERVE_AHEAD: usize = 64 << 10;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The socket failed or the peer closed it mid-frame.
    #[error("connection failed: {0}")]
    Io(#[from] io::Error),
    /// The frame does not decode as the expected message.
    #[error("malformed frame: {0}")]
    Decode(String),
    /// The frame is larger than its bound.
    #[error("a frame of {size} bytes from {peer} exceeds the limit of {limit} bytes ({key}); closing the connection")]
    TooLarge {
        /// Who sent (or was to receive) it.
        peer: String,
        /// Its length.
        size: usize,
        /// The bound.
        limit: usize,
        /// The configuration key of the bound.
        key: &'static str,
    },
    /// The peer stopped sending in the middle of a frame, or did not send
    /// its first message in time.
    #[error("{peer} did not send {what} in time ({key}); closing the connection")]
    TimedOut {
        /// Who.
        peer: String,
        /// What was missing, e.g. "its first message within 10s".
        what: String,
        /// The configuration key of the timeout.
        key: &'static str,
    },
}

/// A byte source whose reads can be made to fail at a deadline.
pub trait TimedRead: Read {
    /// Reads after `deadline` (none: wait as long as it takes) fail with
    /// [`io::ErrorKind::TimedOut`].
    fn set_deadline(&mut self, deadline: Option<Instant>);
}

impl TimedRead for &[u8] {
    fn set_deadline(&mut self, _deadline: Option<Instant>) {}
}

impl<R: TimedRead> TimedRead for BufReader<R> {
    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.get_mut().set_deadline(deadline);
    }
}

/// A connection (`Link` or `&Link`) whose reads stop at a deadline:
/// before each read the socket's timeout is set to what is left of it.
pub struct TimedStream<S> {
    inner: S,
    deadline: Option<Instant>,
    timeout_set: bool,
}

impl<S: Borrow<Link>> TimedStream<S> {
    /// Reads from `inner`, without a deadline until one is set.
    pub fn new(inner: S) -> Self {
        TimedStream { inner, deadline: None, timeout_set: false }
    }

    /// The socket, with its read timeout cleared.
    pub fn into_inner(self) -> io::Result<S> {
        self.inner.borrow().socket().set_read_timeout(None)?;
        Ok(self.inner)
    }
}

impl<S: Borrow<Link>> Read for TimedStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut link: &Link = self.inner.borrow();
        let socket = link.socket();
        match self.deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io::ErrorKind::TimedOut.into());
                }
                socket.set_read_timeout(Some(left))?;
                self.timeout_set = true;
            }
            None if self.timeout_set => {
                socket.set_read_timeout(None)?;
                self.timeout_set = false;
            }
            None => {}
        }
        link.read(buf)
    }
}

impl<S: Borrow<Link>> TimedRead for TimedStream<S> {
    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }
}

/// A reader without deadlines, for callers that set their own socket timeouts.
struct Untimed<R>(R);

impl<R: Read> Read for Untimed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read> TimedRead for Untimed<R> {
    fn set_deadline(&mut self, _deadline: Option<Instant>) {}
}

/// Reads frames from one peer, within one bound.
pub struct FrameReader<R> {
    input: R,
    scratch: Vec<u8>,
    bound: FrameBound,
    read_timeout: Duration,
    peer: String,
}

impl<R: TimedRead> FrameReader<R> {
    /// Frames from `peer` (named in errors) on `input`, bounded by `bound`
    /// and by the process's read timeout.
    pub fn new(input: R, bound: FrameBound, peer: impl Into<String>) -> Self {
        FrameReader { input, scratch: Vec::new(), bound, read_timeout: limits().read_timeout, peer: peer.into() }
    }

    /// The next frame, however long it takes to begin; `Ok(None)` when the
    /// peer closed the connection cleanly between frames.
    pub fn read<T: DeserializeOwned>(&mut self) -> Result<Option<T>, FrameError> {
        read_one(&mut self.input, &mut self.scratch, &self.bound, &self.peer, Wait::Begin(self.read_timeout))
    }

    /// The next frame, which must have arrived whole by `deadline`
    /// (a handshake); `key` names the timeout in the error.
    pub fn read_by<T: DeserializeOwned>(
        &mut self,
        deadline: Instant,
        key: &'static str,
    ) -> Result<Option<T>, FrameError> {
        read_one(&mut self.input, &mut self.scratch, &self.bound, &self.peer, Wait::Whole(deadline, key))
    }

    /// The peer's name, as errors give it.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Bytes of memory held for frames: the fuzz tests check that it
    /// follows the bytes that came, not a header's claim.
    #[cfg(test)]
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.scratch.capacity()
    }

    /// Renames the peer (once it said who it is).
    pub fn set_peer(&mut self, peer: impl Into<String>) {
        self.peer = peer.into();
    }
}

/// How long a frame may take.
enum Wait {
    /// The frame may begin whenever; once begun it must end within this.
    Begin(Duration),
    /// The whole frame by this instant, the timeout named by the key.
    Whole(Instant, &'static str),
}

/// Encodes `message` into `scratch` and writes it as one frame, refused
/// before anything is written if it exceeds the process's RPC bound.
/// `scratch` is reused so a steady stream of frames allocates nothing.
pub fn write_frame<W: Write, T: Serialize>(out: &mut W, message: &T, scratch: &mut Vec<u8>) -> Result<(), FrameError> {
    write_frame_within(out, message, scratch, &limits().rpc(), "the peer")
}

/// Like [`write_frame`], bounded by `bound`; `peer` is named if it is exceeded.
pub fn write_frame_within<W: Write, T: Serialize>(
    out: &mut W,
    message: &T,
    scratch: &mut Vec<u8>,
    bound: &FrameBound,
    peer: &str,
) -> Result<(), FrameError> {
    scratch.clear();
    scratch.extend_from_slice(&[0; 4]);
    rmp_serde::encode::write(scratch, message).map_err(|e| FrameError::Decode(e.to_string()))?;
    let size = scratch.len() - 4;
    let result = if size > bound.max {
        Err(FrameError::TooLarge { peer: format!("this process (to {peer})"), size, limit: bound.max, key: bound.key })
    } else {
        scratch[..4].copy_from_slice(&(size as u32).to_be_bytes());
        out.write_all(scratch).map_err(FrameError::from)
    };
    if scratch.capacity() > KEEP_SCRATCH {
        *scratch = Vec::new();
    }
    result
}

/// Reads one frame from `input`, which sets its own timeouts if any,
/// bounded by the process's RPC bound; `Ok(None)` when the peer closed the
/// connection cleanly between frames.
pub fn read_frame<R: Read, T: DeserializeOwned>(input: &mut R, scratch: &mut Vec<u8>) -> Result<Option<T>, FrameError> {
    read_one(&mut Untimed(input), scratch, &limits().rpc(), "the peer", Wait::Begin(Duration::MAX))
}

fn read_one<R: TimedRead, T: DeserializeOwned>(
    input: &mut R,
    scratch: &mut Vec<u8>,
    bound: &FrameBound,
    peer: &str,
    wait: Wait,
) -> Result<Option<T>, FrameError> {
    let (mut deadline, key) = match wait {
        Wait::Begin(_) => (None, "network.read-timeout"),
        Wait::Whole(at, key) => (Some(at), key),
    };
    input.set_deadline(deadline);
    let timed_out = |what: String| FrameError::TimedOut { peer: peer.to_string(), what, key };
    let late = |e: &io::Error| matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock);

    let mut header = [0u8; 4];
    let mut got = 0;
    while got < header.len() {
        match input.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if late(&e) => return Err(timed_out(describe_wait(&wait, got, None))),
            Err(e) => return Err(e.into()),
        }
        if deadline.is_none()
            && let Wait::Begin(timeout) = wait
        {
            deadline = Instant::now().checked_add(timeout);
            input.set_deadline(deadline);
        }
    }
    let size = u32::from_be_bytes(header) as usize;
    if size > bound.max {
        return Err(FrameError::TooLarge { peer: peer.to_string(), size, limit: bound.max, key: bound.key });
    }
    scratch.clear();
    scratch.reserve(size.min(RESERVE_AHEAD));
    // `take` + `read_to_end` grows the buffer with the bytes that came, not with the header's claim.
    let read = input.by_ref().take(size as u64).read_to_end(scratch);
    input.set_deadline(None);
    match read {
        Ok(n) if n == size => {}
        Ok(n) => {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{peer} closed the connection after {n} of a frame's {size} bytes"),
            )
            .into());
        }
        Err(e) if late(&e) => return Err(timed_out(describe_wait(&wait, scratch.len(), Some(size)))),
        Err(e) => return Err(e.into()),
    }
    let decoded = rmp_serde::from_slice(scratch).map(Some).map_err(|e| FrameError::Decode(e.to_string()));
    if scratch.capacity() > KEEP_SCRATCH {
        *scratch = Vec::new();
    }
    decoded
}

fn describe_wait(wait: &Wait, got: usize, size: Option<usize>) -> String {
    match (wait, size) {
        (Wait::Whole(..), None) => "its first message".into(),
        (Wait::Whole(..), Some(size)) => format!("its first message ({got} of {size} bytes arrived)"),
        (Wait::Begin(timeout), None) => format!("the rest of a frame header within {timeout:?}"),
        (Wait::Begin(timeout), Some(size)) => {
            format!("the rest of a {size}-byte frame within {timeout:?} ({got} bytes arrived)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(max: usize) -> FrameBound {
        FrameBound { max, key: "test.max" }
    }

    #[test]
    fn frames_round_trip_and_eof_is_clean() {
        let mut wire = Vec::new();
        let mut scratch = Vec::new();
        write_frame(&mut wire, &("hello".to_string(), 7u32), &mut scratch).unwrap();
        write_frame(&mut wire, &("again".to_string(), 8u32), &mut scratch).unwrap();
        let mut input = &wire[..];
        let first: Option<(String, u32)> = read_frame(&mut input, &mut scratch).unwrap();
        assert_eq!(first, Some(("hello".into(), 7)));
        let second: Option<(String, u32)> = read_frame(&mut input, &mut scratch).unwrap();
        assert_eq!(second, Some(("again".into(), 8)));
        let end: Option<(String, u32)> = read_frame(&mut input, &mut scratch).unwrap();
        assert_eq!(end, None);
    }

    #[test]
    fn a_frame_over_the_bound_is_refused_naming_peer_size_and_key() {
        let mut reader = FrameReader::new(&[0x00, 0x10, 0x00, 0x01][..], bound(1 << 20), "10.0.0.9:4242");
        let err = reader.read::<u32>().unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, FrameError::TooLarge { size: 0x100001, .. }), "{text}");
        assert!(text.contains("10.0.0.9:4242") && text.contains("1048577") && text.contains("test.max"), "{text}");
        let mut wire = Vec::new();
        let err = write_frame_within(&mut wire, &vec![7u8; 100], &mut Vec::new(), &bound(10), "tm-1").unwrap_err();
        assert!(err.to_string().contains("tm-1"), "{err}");
        assert!(wire.is_empty(), "nothing is written of a refused frame");
    }

    #[test]
    fn a_header_alone_allocates_nothing_and_a_short_frame_is_an_error() {
        let mut reader = FrameReader::new(&[0x01, 0x00, 0x00, 0x00, 1, 2, 3][..], bound(usize::MAX), "peer");
        let err = reader.read::<u32>().unwrap_err();
        assert!(err.to_string().contains("after 3 of a frame's 16777216 bytes"), "{err}");
        assert!(reader.scratch.capacity() <= RESERVE_AHEAD, "memory follows the bytes: {}", reader.scratch.capacity());
        let mut torn = FrameReader::new(&[0x00, 0x00][..], bound(10), "peer");
        assert!(matches!(torn.read::<u32>(), Err(FrameError::Io(_))), "a torn header is not a clean end");
    }

    #[test]
    fn a_stalled_frame_times_out_and_a_handshake_has_a_deadline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (&client).write_all(&[0, 0, 0, 9, 1]).unwrap();
        let mut reader = FrameReader::new(TimedStream::new(Link::plain(server)), bound(100), "staller");
        reader.read_timeout = Duration::from_millis(200);
        let started = Instant::now();
        let err = reader.read::<u32>().unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(err.to_string().contains("staller") && err.to_string().contains("1 bytes arrived"), "{err}");

        let deadline = Instant::now() + Duration::from_millis(200);
        let err = reader.read_by::<u32>(deadline, "network.handshake-timeout").unwrap_err();
        assert!(err.to_string().contains("its first message"), "{err}");
        drop(client);
    }
}
