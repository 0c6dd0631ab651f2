//! Command-line arguments of a job (everything after the `.wasm` path).

use std::collections::HashMap;
use std::str::FromStr;

use crate::JobError;

/// The job's arguments, parsed as `--key value`, `--key=value` and bare `--flag`.
///
/// A `--name` followed by a token that does not start with `--` takes that
/// token as its value; otherwise it is a flag. Other tokens are positional.
///
/// ```
/// use wflink_sdk::Args;
/// let args = Args::parse(["--input", "in.txt", "--discard", "--port=9000"]);
/// assert_eq!(args.get("input"), Some("in.txt"));
/// assert!(args.flag("discard"));
/// assert_eq!(args.get_parsed::<u16>("port").unwrap(), Some(9000));
/// assert!(args.required("output").is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Args {
    /// The arguments as given, for jobs that parse them their own way.
    raw: Vec<String>,
    /// `--key value` pairs; a bare flag maps to `None`. The last one wins.
    named: HashMap<String, Option<String>>,
    /// Tokens that are neither a `--key` nor its value.
    positional: Vec<String>,
}

impl Args {
    /// Parses `args` (without the program name).
    pub fn parse<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let raw: Vec<String> = args.into_iter().map(Into::into).collect();
        let mut named = HashMap::new();
        let mut positional = Vec::new();
        let mut tokens = raw.iter().peekable();
        while let Some(token) = tokens.next() {
            let Some(name) = token.strip_prefix("--").filter(|n| !n.is_empty()) else {
                positional.push(token.clone());
                continue;
            };
            if let Some((key, value)) = name.split_once('=') {
                named.insert(key.to_owned(), Some(value.to_owned()));
                continue;
            }
            let value = tokens.next_if(|next| !next.starts_with("--")).cloned();
            named.insert(name.to_owned(), value);
        }
        Args { raw, named, positional }
    }

    /// The value of `--name`, if it was given with one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.named.get(name)?.as_deref()
    }

    /// Whether `--name` was given bare, or as `--name true`.
    pub fn flag(&self, name: &str) -> bool {
        match self.named.get(name) {
            Some(None) => true,
            Some(Some(value)) => value == "true",
            None => false,
        }
    }

    /// Whether `--name` was given at all, with or without a value.
    pub fn contains(&self, name: &str) -> bool {
        self.named.contains_key(name)
    }

    /// The value of `--name`, or an [`JobError::InvalidArguments`] saying it is missing.
    pub fn required(&self, name: &str) -> Result<&str, JobError> {
        self.get(name).ok_or_else(|| JobError::invalid_arguments(format!("missing required argument --{name}")))
    }

    /// The value of `--name` parsed as `T`: `Ok(None)` when absent, an
    /// [`JobError::InvalidArguments`] when it does not parse.
    pub fn get_parsed<T: FromStr>(&self, name: &str) -> Result<Option<T>, JobError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        value.parse().map(Some).map_err(|_| {
            JobError::invalid_arguments(format!(
                "argument --{name}: cannot read '{value}' as {}",
                std::any::type_name::<T>()
            ))
        })
    }

    /// Like [`Args::get_parsed`], but a missing argument is an error too.
    pub fn required_parsed<T: FromStr>(&self, name: &str) -> Result<T, JobError> {
        self.required(name)?;
        Ok(self.get_parsed(name)?.expect("checked present above"))
    }

    /// Tokens that are neither a `--key` nor its value, in order.
    pub fn positional(&self) -> &[String] {
        &self.positional
    }

    /// The arguments exactly as given.
    pub fn raw(&self) -> &[String] {
        &self.raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values_flags_and_positionals() {
        let args = Args::parse(["job", "--input", "a.txt", "--discard", "--n", "-3", "--x=1=2"]);
        assert_eq!(args.get("input"), Some("a.txt"));
        assert!(args.flag("discard") && !args.flag("input") && !args.flag("nope"));
        assert_eq!(args.get_parsed::<i32>("n").unwrap(), Some(-3));
        assert_eq!(args.get("x"), Some("1=2"));
        assert_eq!(args.positional(), ["job"]);
    }

    #[test]
    fn missing_and_malformed_arguments_are_invalid_arguments() {
        let args = Args::parse(["--port", "x"]);
        assert_eq!(args.required("input"), Err(JobError::InvalidArguments("missing required argument --input".into())));
        assert!(matches!(args.get_parsed::<u16>("port"), Err(JobError::InvalidArguments(m)) if m.contains("'x'")));
    }
}
