//! A control connection: one thread reads frames and hands them to an
//! actor, one thread writes the frames queued by the actor, so neither
//! side's actor ever blocks on the socket. Frames are bounded by the
//! process's RPC bound ([`crate::network::limits`]); a frame over it, or one that
//! stalls half-way, closes the connection with an error naming the peer.

use std::io::{BufReader, BufWriter, Write};

use actix::{Message, Recipient};
use crossbeam_channel::{Sender, unbounded};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::network::{ConnectionPermit, FrameReader, Link, TimedStream, limits, write_frame_within};

/// What the reading thread delivers to the actor that owns the connection.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub enum Incoming<T: 'static + Send> {
    /// A message from the peer.
    Message(T),
    /// The connection closed or failed; no more messages follow.
    Closed(String),
}

/// The sending side of a control connection. Dropping it (every clone)
/// closes the connection.
pub struct Connection<Out> {
    outbox: Sender<Out>,
    link: Link,
}

// Not derived: a derive would require `Out: Clone`, and messages need not be.
impl<Out> Clone for Connection<Out> {
    fn clone(&self) -> Self {
        Connection { outbox: self.outbox.clone(), link: self.link.clone() }
    }
}

impl<Out: Serialize + Send + 'static> Connection<Out> {
    /// Starts the reader and writer threads on `stream`: frames read are
    /// delivered to `deliver` as [`Incoming::Message`], the end as
    /// [`Incoming::Closed`].
    pub fn start<In>(stream: Link, name: &str, deliver: Recipient<Incoming<In>>) -> std::io::Result<Self>
    where
        In: DeserializeOwned + Send + 'static,
    {
        Self::start_holding(stream, name, deliver, None)
    }

    /// Like [`Connection::start`], holding `permit` (its place under the
    /// server's connection limit) until the connection closes.
    pub fn start_holding<In>(
        stream: Link,
        name: &str,
        deliver: Recipient<Incoming<In>>,
        permit: Option<ConnectionPermit>,
    ) -> std::io::Result<Self>
    where
        In: DeserializeOwned + Send + 'static,
    {
        stream.socket().set_nodelay(true)?;
        let reader = stream.clone();
        let writer = stream.clone();
        let peer = match stream.socket().peer_addr() {
            Ok(address) => format!("{name} ({address})"),
            Err(_) => name.to_string(),
        };
        let (outbox, queue) = unbounded::<Out>();
        let reader_peer = peer.clone();
        std::thread::Builder::new().name(format!("rpc-read {name}")).spawn(move || {
            let _permit = permit;
            let closer = reader.clone();
            let mut input = FrameReader::new(BufReader::new(TimedStream::new(reader)), limits().rpc(), reader_peer);
            let reason = loop {
                match input.read::<In>() {
                    Ok(Some(message)) => deliver.do_send(Incoming::Message(message)),
                    Ok(None) => break "the peer closed the connection".to_string(),
                    Err(e) => {
                        tracing::warn!(peer = input.peer(), error = %e, "control connection failed");
                        // Closed at once, whatever the owner does with the news.
                        let _ = closer.shutdown();
                        break e.to_string();
                    }
                }
            };
            deliver.do_send(Incoming::Closed(reason));
        })?;
        std::thread::Builder::new().name(format!("rpc-write {name}")).spawn(move || {
            let mut output = BufWriter::new(&writer);
            let mut scratch = Vec::new();
            let bound = limits().rpc();
            while let Ok(message) = queue.recv() {
                match write_frame_within(&mut output, &message, &mut scratch, &bound, &peer) {
                    Ok(()) => {}
                    // Nothing of it was written: the connection stays usable for the next message.
                    Err(e @ crate::network::FrameError::TooLarge { .. }) => {
                        tracing::error!(error = %e, "a control message was not sent");
                        continue;
                    }
                    Err(_) => break,
                }
                // Write out as soon as nothing more is queued: control messages are latency-bound.
                if queue.is_empty() && output.flush().is_err() {
                    break;
                }
            }
            let _ = output.flush();
            let _ = writer.shutdown();
        })?;
        Ok(Connection { outbox, link: stream })
    }

    /// Queues `message` for the peer; a closed connection drops it (the
    /// reader reports the close).
    pub fn send(&self, message: Out) {
        let _ = self.outbox.send(message);
    }

    /// Closes the connection now.
    pub fn close(&self) {
        let _ = self.link.shutdown();
    }
}
