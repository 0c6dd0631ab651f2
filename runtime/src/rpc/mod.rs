//! Messages between processes: length-prefixed MessagePack (rmp-serde)
//! frames over TCP, for the control messages between JobManager and
//! TaskManagers ([`protocol`]) and for records between TaskManagers
//! ([`crate::network::tcp`]).

mod connection;
pub mod protocol;

pub use connection::{Connection, Incoming};

use std::io::{self, Read, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The largest frame either side accepts: a component upload or a full
/// batch fit well inside; anything bigger is a corrupt or hostile peer.
pub const MAX_FRAME: usize = 512 << 20;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The socket failed or the peer closed it.
    #[error("connection failed: {0}")]
    Io(#[from] io::Error),
    /// The frame does not decode as the expected message.
    #[error("malformed frame: {0}")]
    Decode(String),
    /// The frame is larger than [`MAX_FRAME`].
    #[error("frame of {0} bytes exceeds the limit of {MAX_FRAME}")]
    TooLarge(usize),
}

/// Encodes `message` into `scratch` and writes it as one frame: a 4-byte
/// big-endian length, then the MessagePack body. `scratch` is reused so
/// a steady stream of frames allocates nothing.
pub fn write_frame<W: Write, T: Serialize>(out: &mut W, message: &T, scratch: &mut Vec<u8>) -> Result<(), FrameError> {
    scratch.clear();
    scratch.extend_from_slice(&[0; 4]);
    rmp_serde::encode::write(scratch, message).map_err(|e| FrameError::Decode(e.to_string()))?;
    let len = scratch.len() - 4;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    scratch[..4].copy_from_slice(&(len as u32).to_be_bytes());
    out.write_all(scratch)?;
    Ok(())
}

/// Reads one frame into `scratch` and decodes it; `Ok(None)` when the peer
/// closed the connection cleanly between frames.
pub fn read_frame<R: Read, T: DeserializeOwned>(input: &mut R, scratch: &mut Vec<u8>) -> Result<Option<T>, FrameError> {
    let mut header = [0u8; 4];
    match input.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    scratch.resize(len, 0);
    input.read_exact(scratch)?;
    rmp_serde::from_slice(scratch).map(Some).map_err(|e| FrameError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut garbage = &[0xff, 0xff, 0xff, 0xff][..];
        assert!(matches!(read_frame::<_, u32>(&mut garbage, &mut scratch), Err(FrameError::TooLarge(_))));
    }
}
