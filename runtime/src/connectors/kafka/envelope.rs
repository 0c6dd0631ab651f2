//! The map a Kafka source gives a job for a record with `metadata=true`
//! (`KafkaRecord` in the Rust SDK, a dict or object in Python and JavaScript).

use rdkafka::message::{BorrowedMessage, Headers, Message};

use crate::connectors::formats::Decoder;

/// Appends a record with its metadata as a map: `topic`, `partition`,
/// `offset`, `timestamp`, `key`, `value` (decoded by their formats; nil
/// when absent) and `headers` (a list of `[name, value]`, values as
/// UTF-8 strings or nil).
pub(super) fn encode_with_metadata(
    message: &BorrowedMessage<'_>,
    decoder: &Decoder,
    key_decoder: &Decoder,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    use rmp::encode::{write_array_len, write_map_len, write_nil, write_sint, write_str};
    let io = |e: rmp::encode::ValueWriteError| e.to_string();
    write_map_len(out, 7).map_err(io)?;
    write_str(out, "topic").map_err(io)?;
    write_str(out, message.topic()).map_err(io)?;
    write_str(out, "partition").map_err(io)?;
    write_sint(out, message.partition() as i64).map_err(io)?;
    write_str(out, "offset").map_err(io)?;
    write_sint(out, message.offset()).map_err(io)?;
    write_str(out, "timestamp").map_err(io)?;
    match message.timestamp().to_millis() {
        Some(ms) => write_sint(out, ms).map(|_| ()).map_err(io)?,
        None => write_nil(out).map_err(|e| e.to_string())?,
    }
    write_str(out, "key").map_err(io)?;
    match message.key() {
        Some(key) => key_decoder.decode(key, out).map_err(|e| format!("key: {e}"))?,
        None => write_nil(out).map_err(|e| e.to_string())?,
    }
    write_str(out, "value").map_err(io)?;
    match message.payload() {
        Some(value) => decoder.decode(value, out)?,
        None => write_nil(out).map_err(|e| e.to_string())?,
    }
    write_str(out, "headers").map_err(io)?;
    match message.headers() {
        Some(headers) => {
            write_array_len(out, headers.count() as u32).map_err(io)?;
            for header in headers.iter() {
                write_array_len(out, 2).map_err(io)?;
                write_str(out, header.key).map_err(io)?;
                match header.value {
                    Some(value) => write_str(out, &String::from_utf8_lossy(value)).map_err(io)?,
                    None => write_nil(out).map_err(|e| e.to_string())?,
                }
            }
        }
        None => write_array_len(out, 0).map(|_| ()).map_err(io)?,
    }
    Ok(())
}
