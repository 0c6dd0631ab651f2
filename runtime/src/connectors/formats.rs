//! Record formats of connectors: how the bytes outside a job (a Kafka
//! value, a line of a file) become the MessagePack value the job reads,
//! and how the values a job writes become bytes again.
//!
//! - `raw`: the bytes themselves, as a UTF-8 string (`raw.encoding=utf-8`,
//!   the default; invalid UTF-8 is replaced, never refused) or as bytes
//!   (`raw.encoding=bytes`, MessagePack `bin`).
//! - `json`: one JSON document per record; objects become maps, so a
//!   Rust job reads them into its serde type and a Python or JavaScript
//!   job gets a dict/object.
//! - `csv`: one CSV line per record, fields as strings: an array, or a map
//!   by column name when the columns are known (`csv.columns=a,b,c`, or
//!   `csv.header=true` for files, whose first line names them). Sinks write
//!   an array's items, or a map's values, as the fields of one line.
//!
//! A record a format cannot read is *bad*: with `bad-records=fail` (the
//! default) the job fails naming where the record was (topic, partition
//! and offset, or file and line); with `bad-records=skip` it is dropped,
//! counted, and logged once per [`SKIP_LOG_INTERVAL`].

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use rmpv::ValueRef;

use super::ConnectorError;
use super::render::render_value;
use crate::graph::Connector;

/// How often a connector that skips bad records says so in its log.
pub const SKIP_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The format names, for errors.
const KNOWN: &str = "raw, json, csv";

/// How records are read and written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// The bytes as they are: a UTF-8 string, or bytes when `bytes`.
    Raw {
        /// MessagePack `bin` instead of a string.
        bytes: bool,
    },
    /// One JSON document per record.
    Json,
    /// One CSV line per record.
    Csv(CsvOptions),
}

/// The options of the `csv` format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field separator (`csv.delimiter`, default `,`).
    pub delimiter: u8,
    /// Files: the first line names the columns (sources) or is written
    /// with them (sinks), `csv.header`.
    pub header: bool,
    /// The column names (`csv.columns`), for records read as maps.
    pub columns: Option<Vec<String>>,
}

/// What a source does with a record its format cannot read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadRecords {
    /// Fail the job, naming the record's position (the default).
    Fail,
    /// Drop it, count it and log it once per interval.
    Skip,
}

impl Format {
    /// The format that the options starting with `prefix` (`""` for the
    /// value, `"key."` for a Kafka key) name; `default` when there is no
    /// `{prefix}format` option.
    pub fn from_options(connector: &Connector, prefix: &str, default: Format) -> Result<Format, ConnectorError> {
        let option = |key: &str| connector.option(&format!("{prefix}{key}"));
        let bad = |problem: String| ConnectorError::option(&connector.name, problem);
        let format = match option("format") {
            None => default,
            Some("raw") => Format::Raw { bytes: false },
            Some("json") => Format::Json,
            Some("csv") => Format::Csv(CsvOptions { delimiter: b',', header: false, columns: None }),
            Some(other) => return Err(bad(format!("unknown {prefix}format '{other}' (known: {KNOWN})"))),
        };
        Ok(match format {
            Format::Raw { bytes } => match option("raw.encoding") {
                None => Format::Raw { bytes },
                Some("utf-8" | "utf8") => Format::Raw { bytes: false },
                Some("bytes") => Format::Raw { bytes: true },
                Some(other) => {
                    return Err(bad(format!("unknown {prefix}raw.encoding '{other}' (known: utf-8, bytes)")));
                }
            },
            Format::Csv(mut csv) => {
                if let Some(delimiter) = option("csv.delimiter") {
                    match delimiter.as_bytes() {
                        [byte] if byte.is_ascii() => csv.delimiter = *byte,
                        _ => {
                            return Err(bad(format!(
                                "{prefix}csv.delimiter must be one ASCII character, not '{delimiter}'"
                            )));
                        }
                    }
                }
                csv.header = match option("csv.header") {
                    None | Some("false") => false,
                    Some("true") => true,
                    Some(other) => return Err(bad(format!("{prefix}csv.header must be true or false, not '{other}'"))),
                };
                csv.columns = option("csv.columns").map(|c| c.split(',').map(|s| s.trim().to_string()).collect());
                Format::Csv(csv)
            }
            json => json,
        })
    }
}

impl BadRecords {
    /// The `bad-records` option: `fail` (default) or `skip`.
    pub fn from_options(connector: &Connector) -> Result<BadRecords, ConnectorError> {
        match connector.option("bad-records") {
            None | Some("fail") => Ok(BadRecords::Fail),
            Some("skip") => Ok(BadRecords::Skip),
            Some(other) => Err(ConnectorError::option(
                &connector.name,
                format!("unknown bad-records '{other}' (known: fail, skip)"),
            )),
        }
    }
}

/// Reads records of one format into MessagePack values.
#[derive(Debug)]
pub struct Decoder {
    format: Format,
    /// Column names of map records (csv).
    columns: Option<Vec<String>>,
}

impl Decoder {
    /// A decoder of `format`.
    pub fn new(format: Format) -> Self {
        let columns = match &format {
            Format::Csv(csv) => csv.columns.clone(),
            _ => None,
        };
        Decoder { format, columns }
    }

    /// The format read.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// Sets the column names (a CSV file's header line).
    pub fn set_columns_from_header(&mut self, header: &[u8]) -> Result<(), String> {
        let Format::Csv(csv) = &self.format else { return Ok(()) };
        let fields = csv_fields(csv.delimiter, header)?;
        self.columns = Some(fields);
        Ok(())
    }

    /// Appends the MessagePack value of `record` to `out`; on error `out`
    /// is left as it was and the error says what is wrong (not where).
    pub fn decode(&self, record: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let start = out.len();
        let result = match &self.format {
            Format::Raw { bytes: false } => {
                write_str(out, &String::from_utf8_lossy(record));
                Ok(())
            }
            Format::Raw { bytes: true } => {
                let _ = rmp::encode::write_bin(out, record);
                Ok(())
            }
            Format::Json => match serde_json::from_slice::<serde_json::Value>(record) {
                Ok(value) => {
                    json_to_msgpack(&value, out);
                    Ok(())
                }
                Err(e) => Err(format!("malformed JSON: {e}")),
            },
            Format::Csv(csv) => csv_fields(csv.delimiter, record).and_then(|fields| match &self.columns {
                None => {
                    let _ = rmp::encode::write_array_len(out, fields.len() as u32);
                    fields.iter().for_each(|f| write_str(out, f));
                    Ok(())
                }
                Some(columns) if columns.len() == fields.len() => {
                    let _ = rmp::encode::write_map_len(out, fields.len() as u32);
                    for (name, field) in columns.iter().zip(&fields) {
                        write_str(out, name);
                        write_str(out, field);
                    }
                    Ok(())
                }
                Some(columns) => Err(format!("{} CSV fields where {} columns are named", fields.len(), columns.len())),
            }),
        };
        if result.is_err() {
            out.truncate(start);
        }
        result
    }
}

/// The fields of one CSV line (without its line ending).
fn csv_fields(delimiter: u8, line: &[u8]) -> Result<Vec<String>, String> {
    let line = super::sources::trim_newline(line);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).delimiter(delimiter).from_reader(line);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => Ok(record.iter().map(str::to_string).collect()),
        Ok(false) => Ok(Vec::new()),
        Err(e) => Err(format!("malformed CSV: {e}")),
    }
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = rmp::encode::write_str(out, text);
}

/// Appends `value` as MessagePack: objects as maps, numbers as integers
/// when they are whole and fit, else as doubles.
fn json_to_msgpack(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Null => rmp::encode::write_nil(out).unwrap_or(()),
        Value::Bool(b) => rmp::encode::write_bool(out, *b).unwrap_or(()),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = rmp::encode::write_sint(out, i);
            } else if let Some(u) = n.as_u64() {
                let _ = rmp::encode::write_uint(out, u);
            } else {
                let _ = rmp::encode::write_f64(out, n.as_f64().unwrap_or(f64::NAN));
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            let _ = rmp::encode::write_array_len(out, items.len() as u32);
            items.iter().for_each(|item| json_to_msgpack(item, out));
        }
        Value::Object(entries) => {
            let _ = rmp::encode::write_map_len(out, entries.len() as u32);
            for (k, v) in entries {
                write_str(out, k);
                json_to_msgpack(v, out);
            }
        }
    }
}

/// Writes MessagePack values a job produced as the bytes of one format.
#[derive(Debug)]
pub struct Encoder {
    format: Format,
    text: String,
}

impl Encoder {
    /// An encoder of `format`.
    pub fn new(format: Format) -> Self {
        Encoder { format, text: String::new() }
    }

    /// The format written.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// Appends the bytes of the MessagePack value `value` to `out`
    /// (without a line ending). Bytes that are not MessagePack are taken
    /// as they are.
    pub fn encode(&mut self, value: &[u8], out: &mut Vec<u8>) {
        let mut reader = value;
        match rmpv::decode::read_value_ref(&mut reader) {
            Ok(value) => self.encode_value(&value, out),
            Err(_) => out.extend_from_slice(value),
        }
    }

    /// Appends the bytes of `value` to `out`.
    pub fn encode_value(&mut self, value: &ValueRef<'_>, out: &mut Vec<u8>) {
        match &self.format {
            Format::Raw { .. } => match value {
                ValueRef::String(s) => out.extend_from_slice(s.as_bytes()),
                ValueRef::Binary(b) => out.extend_from_slice(b),
                other => {
                    self.text.clear();
                    render_value(other, &mut self.text);
                    out.extend_from_slice(self.text.as_bytes());
                }
            },
            Format::Json => {
                let json = msgpack_to_json(value);
                // Writing a Value into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, &json);
            }
            Format::Csv(csv) => {
                let fields: Vec<String> = match value {
                    ValueRef::Array(items) => items.iter().map(field_text).collect(),
                    ValueRef::Map(entries) => entries.iter().map(|(_, v)| field_text(v)).collect(),
                    other => vec![field_text(other)],
                };
                write_csv_line(csv.delimiter, &fields, out);
            }
        }
    }

    /// The header line of a CSV sink for its first record `value`: the
    /// keys of a map, or `None` (not CSV with a header, or not a map).
    pub fn header_for(&self, value: &[u8]) -> Option<Vec<u8>> {
        let Format::Csv(csv) = &self.format else { return None };
        if !csv.header {
            return None;
        }
        let names: Vec<String> = match &csv.columns {
            Some(columns) => columns.clone(),
            None => match rmpv::decode::read_value_ref(&mut &value[..]) {
                Ok(ValueRef::Map(entries)) => entries.iter().map(|(k, _)| field_text(k)).collect(),
                _ => return None,
            },
        };
        let mut line = Vec::new();
        write_csv_line(csv.delimiter, &names, &mut line);
        Some(line)
    }
}

fn write_csv_line(delimiter: u8, fields: &[String], out: &mut Vec<u8>) {
    let mut writer =
        csv::WriterBuilder::new().delimiter(delimiter).terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let _ = writer.write_record(fields);
    if let Ok(mut line) = writer.into_inner() {
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        out.extend_from_slice(&line);
    }
}

fn field_text(value: &ValueRef<'_>) -> String {
    let mut text = String::new();
    render_value(value, &mut text);
    text
}

/// A MessagePack value as JSON: maps with non-string keys get their keys'
/// text, bytes become arrays of numbers, extension values `null`.
pub fn msgpack_to_json(value: &ValueRef<'_>) -> serde_json::Value {
    use serde_json::Value;
    match value {
        ValueRef::Nil | ValueRef::Ext(..) => Value::Null,
        ValueRef::Boolean(b) => Value::Bool(*b),
        ValueRef::Integer(i) => match (i.as_i64(), i.as_u64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(u)) => Value::from(u),
            _ => Value::Null,
        },
        ValueRef::F32(f) => serde_json::Number::from_f64(*f as f64).map_or(Value::Null, Value::Number),
        ValueRef::F64(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        ValueRef::String(s) => Value::String(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        ValueRef::Binary(b) => Value::Array(b.iter().map(|&x| Value::from(x)).collect()),
        ValueRef::Array(items) => Value::Array(items.iter().map(msgpack_to_json).collect()),
        ValueRef::Map(entries) => {
            let mut object = serde_json::Map::with_capacity(entries.len());
            for (k, v) in entries {
                let key = match k {
                    ValueRef::String(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
                    other => field_text(other),
                };
                object.insert(key, msgpack_to_json(v));
            }
            Value::Object(object)
        }
    }
}

/// Counts the bad records a connector skipped and logs them at most once
/// per [`SKIP_LOG_INTERVAL`].
#[derive(Debug)]
pub struct SkipLog {
    /// What is reading (the connector and subtask), for the log.
    what: String,
    /// Skipped since the last log line.
    unlogged: u64,
    /// Skipped in all.
    pub total: u64,
    /// The first error since the last log line.
    first: Option<String>,
    last_logged: Option<Instant>,
}

impl SkipLog {
    /// A log for the records `what` skips.
    pub fn new(what: impl Into<String>) -> Self {
        SkipLog { what: what.into(), unlogged: 0, total: 0, first: None, last_logged: None }
    }

    /// Counts one skipped record, the error naming it.
    pub fn skipped(&mut self, error: impl FnOnce() -> String) {
        self.unlogged += 1;
        self.total += 1;
        if self.first.is_none() {
            self.first = Some(error());
        }
        self.maybe_log(false);
    }

    /// Logs what was skipped since the last line, if the interval has passed (or `now`).
    pub fn maybe_log(&mut self, now: bool) {
        if self.unlogged == 0 {
            return;
        }
        if !now && self.last_logged.is_some_and(|t| t.elapsed() < SKIP_LOG_INTERVAL) {
            return;
        }
        let mut first = self.first.take().unwrap_or_default();
        if first.len() > 300 {
            let mut cut = 300;
            while !first.is_char_boundary(cut) {
                cut -= 1;
            }
            first.truncate(cut);
            let _ = write!(first, "...");
        }
        tracing::warn!(
            source = %self.what,
            skipped = self.unlogged,
            total = self.total,
            first = %first,
            "skipped bad records (bad-records=skip)"
        );
        self.unlogged = 0;
        self.last_logged = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(options: &[(&str, &str)]) -> Connector {
        Connector {
            name: "kafka".into(),
            options: options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    fn decode(format: Format, record: &str) -> Result<String, String> {
        let mut out = Vec::new();
        Decoder::new(format).decode(record.as_bytes(), &mut out)?;
        Ok(msgpack_to_json(&rmpv::decode::read_value_ref(&mut &out[..]).unwrap()).to_string())
    }

    #[test]
    fn json_objects_become_maps_and_back() {
        assert_eq!(decode(Format::Json, r#"{"user":"a","n":3,"x":1.5}"#).unwrap(), r#"{"n":3,"user":"a","x":1.5}"#);
        let err = decode(Format::Json, "{not json").unwrap_err();
        assert!(err.contains("malformed JSON"), "{err}");
        let mut out = Vec::new();
        let mut value = Vec::new();
        rmp::encode::write_array_len(&mut value, 2).unwrap();
        rmp::encode::write_str(&mut value, "w").unwrap();
        rmp::encode::write_sint(&mut value, 4).unwrap();
        Encoder::new(Format::Json).encode(&value, &mut out);
        assert_eq!(out, br#"["w",4]"#);
    }

    #[test]
    fn csv_lines_become_arrays_or_maps_by_column() {
        let plain = CsvOptions { delimiter: b',', header: false, columns: None };
        assert_eq!(decode(Format::Csv(plain.clone()), "a,\"b,c\",3\n").unwrap(), r#"["a","b,c","3"]"#);
        let named = CsvOptions { columns: Some(vec!["user".into(), "n".into()]), ..plain.clone() };
        assert_eq!(decode(Format::Csv(named.clone()), "u1,7").unwrap(), r#"{"n":"7","user":"u1"}"#);
        assert!(decode(Format::Csv(named), "u1,7,9").unwrap_err().contains("3 CSV fields where 2 columns"));
        let mut value = Vec::new();
        rmp::encode::write_array_len(&mut value, 2).unwrap();
        rmp::encode::write_str(&mut value, "x,y").unwrap();
        rmp::encode::write_sint(&mut value, 4).unwrap();
        let mut out = Vec::new();
        Encoder::new(Format::Csv(plain)).encode(&value, &mut out);
        assert_eq!(out, b"\"x,y\",4");
    }

    #[test]
    fn raw_is_text_or_bytes_and_options_are_checked() {
        assert_eq!(decode(Format::Raw { bytes: false }, "héllo").unwrap(), "\"héllo\"");
        assert_eq!(decode(Format::Raw { bytes: true }, "hi").unwrap(), "[104,105]");
        let raw = Format::Raw { bytes: false };
        assert_eq!(Format::from_options(&connector(&[]), "", raw.clone()).unwrap(), raw);
        let bytes = connector(&[("format", "raw"), ("raw.encoding", "bytes")]);
        assert_eq!(Format::from_options(&bytes, "", Format::Json).unwrap(), Format::Raw { bytes: true });
        let err = Format::from_options(&connector(&[("format", "avro")]), "", raw.clone()).unwrap_err().to_string();
        assert!(err.contains("unknown format 'avro'"), "{err}");
        let err = BadRecords::from_options(&connector(&[("bad-records", "ignore")])).unwrap_err().to_string();
        assert!(err.contains("bad-records 'ignore'"), "{err}");
    }
}
