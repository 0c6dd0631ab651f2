//! Configuration with Flink's key names: defaults, `-D key=value`
//! overrides, and typed getters that name the key when a value is wrong.

mod keys;
mod restart;
mod yaml;

pub use keys::{KNOWN_KEYS, RENAMED_KEYS};
use keys::{current_name, older_name};
pub use restart::RestartStrategy;
#[cfg(test)]
pub(crate) use yaml::parse as parse_yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The configuration file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "conf/config.yaml";

/// A configuration value that could not be used, naming its key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A `-D` argument without `=`.
    #[error("invalid -D option '{0}': expected key=value")]
    MalformedOverride(String),
    /// A value that does not parse as its key requires.
    #[error("invalid value '{value}' for configuration key '{key}': expected {expected}")]
    InvalidValue {
        /// The configuration key.
        key: String,
        /// The value given.
        value: String,
        /// What the key takes, e.g. "a positive integer".
        expected: &'static str,
    },
    /// The configuration file cannot be read or is not valid YAML.
    #[error("cannot read configuration file '{path}': {reason}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// The effective configuration: defaults overlaid with what the user set.
#[derive(Clone, Default)]
pub struct Configuration {
    values: BTreeMap<String, String>,
}

/// Shows what the user set, secrets masked, so a logged configuration never carries one.
impl std::fmt::Debug for Configuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.values.iter().map(|(k, v)| (k, if is_sensitive(k) && !v.is_empty() { MASK } else { v }));
        f.debug_map().entries(shown).finish()
    }
}

impl Configuration {
    /// Loads the configuration the way every command does: the file given
    /// with `--config` (which must exist), else [`DEFAULT_CONFIG_FILE`] if
    /// present, then the `-D key=value` overrides; unknown keys are
    /// warned about, invalid values refused naming their key.
    pub fn load<S: AsRef<str>>(file: Option<&Path>, overrides: &[S]) -> Result<Self, ConfigError> {
        let path: Option<PathBuf> = match file {
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
        };
        let mut config = Configuration::default();
        if let Some(path) = path {
            for (key, value) in yaml::read(&path)? {
                warn_if_unknown(&key);
                config.values.insert(key, value);
            }
        }
        config.with_overrides(overrides)
    }

    /// Applies `-D key=value` arguments on top of this configuration.
    pub fn with_overrides<S: AsRef<str>>(mut self, overrides: &[S]) -> Result<Self, ConfigError> {
        for raw in overrides {
            let raw = raw.as_ref();
            let (key, value) = raw.split_once('=').ok_or_else(|| ConfigError::MalformedOverride(raw.to_string()))?;
            let key = key.trim();
            warn_if_unknown(key);
            self.values.insert(key.to_string(), value.trim().to_string());
        }
        self.validate()?;
        Ok(self)
    }

    /// Sets one key, e.g. from code that knows better than the defaults.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_string(), value.into());
    }

    /// The raw value of `key`: what the user set, else the default.
    pub fn get(&self, key: &str) -> Option<&str> {
        let key = current_name(key);
        self.values
            .get(key)
            .or_else(|| older_name(key).and_then(|older| self.values.get(older)))
            .map(String::as_str)
            .or_else(|| KNOWN_KEYS.iter().find(|(k, _, _)| *k == key).map(|(_, default, _)| *default))
    }

    /// Every key with its effective value, defaults included.
    pub fn effective(&self) -> BTreeMap<String, String> {
        // Every known key and every key the user set, under its current
        // name, valued as `get` values it (so one rule decides which wins).
        let names = KNOWN_KEYS.iter().map(|(key, _, _)| *key).chain(self.values.keys().map(|key| current_name(key)));
        names.filter_map(|key| Some((key.to_string(), self.get(key)?.to_string()))).collect()
    }

    /// A positive integer value, e.g. a parallelism or a slot count.
    pub fn positive_int(&self, key: &str) -> Result<u32, ConfigError> {
        let raw = self.get(key).unwrap_or("");
        match raw.parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(invalid(key, raw, "a positive integer")),
        }
    }

    /// A non-negative integer value, e.g. a count of tolerated failures.
    pub fn non_negative_int(&self, key: &str) -> Result<u32, ConfigError> {
        let raw = self.get(key).unwrap_or("");
        raw.trim().parse::<u32>().map_err(|_| invalid(key, raw, "a non-negative integer"))
    }

    /// A duration in Flink's syntax (`100 ms`, `1s`, `2 min`; a bare number is milliseconds).
    pub fn duration(&self, key: &str) -> Result<Duration, ConfigError> {
        let raw = self.get(key).unwrap_or("");
        parse_duration(raw).ok_or_else(|| invalid(key, raw, "a duration such as '100 ms' or '10 s'"))
    }

    /// A memory size in Flink's syntax (`1728m`, `1.6g`, `512 mb`; a bare number is bytes).
    pub fn memory_size(&self, key: &str) -> Result<u64, ConfigError> {
        let raw = self.get(key).unwrap_or("");
        parse_memory_size(raw).ok_or_else(|| invalid(key, raw, "a memory size such as '1728m' or '1.6g'"))
    }

    /// Checks every known key that has a type, so a bad value is refused at
    /// start rather than when first used.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.positive_int("parallelism.default")?;
        self.positive_int("taskmanager.numberOfTaskSlots")?;
        self.positive_int("pipeline.max-parallelism")?;
        self.memory_size("taskmanager.memory.process.size")?;
        self.memory_size("taskmanager.memory.flink.size")?;
        self.duration("execution.buffer-timeout.interval")?;
        self.duration("pipeline.auto-watermark-interval")?;
        self.duration("wasm.call-timeout")?;
        self.duration("wasm.describe.timeout")?;
        self.memory_size("wasm.describe.memory")?;
        self.positive_int("wasm.describe.threads")?;
        self.positive_int("wasm.describe.queue")?;
        self.duration("task.cancellation.timeout")?;
        self.duration("execution.checkpointing.interval")?;
        self.duration("execution.checkpointing.timeout")?;
        self.positive_int("execution.checkpointing.max-concurrent-checkpoints")?;
        self.positive_int("execution.checkpointing.num-retained")?;
        RestartStrategy::from_config(self)?;
        self.duration("heartbeat.interval")?;
        self.duration("heartbeat.timeout")?;
        self.duration("taskmanager.registration.initial-backoff")?;
        self.duration("taskmanager.registration.max-backoff")?;
        self.duration("slot.request.timeout")?;
        self.port("rest.port")?;
        self.port("jobmanager.rpc.port")?;
        self.port("taskmanager.data.port")?;
        self.memory_size("rest.server.max-content-length")?;
        self.positive_int("rest.server.max-connections")?;
        self.duration("rest.server.header-read-timeout")?;
        self.duration("rest.server.idle-timeout")?;
        // The frame bounds (network::limits reads them).
        if !self.text("pekko.framesize").is_empty() {
            self.memory_size("pekko.framesize")?;
        }
        self.memory_size("taskmanager.network.max-frame-size")?;
        self.duration("network.read-timeout")?;
        self.duration("network.handshake-timeout")?;
        self.positive_int("jobmanager.rpc.max-connections")?;
        self.positive_int("taskmanager.network.max-connections")?;
        self.non_negative_int("execution.checkpointing.tolerable-failed-checkpoints")?;
        self.boolean("web.submit.enable")?;
        self.boolean("web.cancel.enable")?;
        self.boolean("security.ssl.rest.enabled")?;
        self.boolean("security.ssl.internal.enabled")?;
        Ok(())
    }

    /// A factor of at least 1 (e.g. a backoff multiplier).
    pub fn multiplier(&self, key: &str) -> Result<f64, ConfigError> {
        let raw = self.get(key).unwrap_or("");
        match raw.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 1.0 => Ok(x),
            _ => Err(invalid(key, raw, "a number of at least 1")),
        }
    }

    /// A TCP port (0 lets the system pick one).
    pub fn port(&self, key: &str) -> Result<u16, ConfigError> {
        let raw = self.get(key).unwrap_or("");
        raw.trim().parse::<u16>().map_err(|_| invalid(key, raw, "a port number from 0 to 65535"))
    }

    /// `true` or `false` (any case).
    pub fn boolean(&self, key: &str) -> Result<bool, ConfigError> {
        let raw = self.get(key).unwrap_or("");
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(invalid(key, raw, "true or false")),
        }
    }

    /// Every key with its effective value as it may be shown (`/jobmanager/config`):
    /// the values of secret keys are replaced by [`MASK`] when set, as Flink
    /// masks them.
    pub fn effective_masked(&self) -> BTreeMap<String, String> {
        let mut all = self.effective();
        for (key, value) in all.iter_mut() {
            if is_sensitive(key) && !value.is_empty() {
                *value = MASK.to_string();
            }
        }
        all
    }

    /// A text value (empty if unset).
    pub fn text(&self, key: &str) -> String {
        self.get(key).unwrap_or("").trim().to_string()
    }
}

/// What a secret value is shown as (Flink's mask).
pub const MASK: &str = "******";

/// Whether `key` holds a secret whose value is never shown: Flink's list
/// (password, secret, token, key of an account, ...), matched case-insensitively.
/// `-file` keys name a file and are shown.
pub fn is_sensitive(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if key.ends_with("-file") {
        return false;
    }
    ["password", "secret", "token", "apikey", "api-key", "account.key", "auth-params", "service-key", "jaas.config"]
        .iter()
        .any(|word| key.contains(word))
}

fn warn_if_unknown(key: &str) {
    if let Some((current, _)) = RENAMED_KEYS.iter().find(|(_, older)| *older == key) {
        tracing::warn!(key, use_instead = current, "deprecated configuration key (Flink 1.x's name); it still works");
        return;
    }
    // Reporters are named by the user (`metrics.reporter.<name>.*`), so their keys cannot be listed.
    if !KNOWN_KEYS.iter().any(|(known, _, _)| *known == key) && !key.starts_with("metrics.reporter.") {
        tracing::warn!(key, "unknown configuration key; it is kept but has no effect");
    }
}

fn invalid(key: &str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::InvalidValue { key: key.to_string(), value: value.to_string(), expected }
}

/// Splits `"100 ms"` into the number and the lowercase unit.
fn split_number_unit(raw: &str) -> Option<(f64, String)> {
    let raw = raw.trim();
    let end = raw.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(raw.len());
    let number: f64 = raw[..end].parse().ok()?;
    if !number.is_finite() || number < 0.0 {
        return None;
    }
    Some((number, raw[end..].trim().to_ascii_lowercase()))
}

/// Parses a duration in Flink's syntax.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let (number, unit) = split_number_unit(raw)?;
    let millis = match unit.as_str() {
        "" | "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1.0,
        "s" | "sec" | "secs" | "second" | "seconds" => 1e3,
        "min" | "m" | "minute" | "minutes" => 60e3,
        "h" | "hour" | "hours" => 3600e3,
        "d" | "day" | "days" => 86400e3,
        _ => return None,
    };
    // A duration must fit Java's long milliseconds, as Flink's do: then it
    // can be added to any instant, where a larger one (up to a Duration's
    // 584 billion years) would panic the first deadline it set. Checked, so
    // a value too large (or negative) is invalid, not a panic.
    let millis = number * millis;
    if millis > i64::MAX as f64 {
        return None;
    }
    Duration::try_from_secs_f64(millis / 1e3).ok()
}

/// Parses a memory size in Flink's syntax into bytes.
pub fn parse_memory_size(raw: &str) -> Option<u64> {
    let (number, unit) = split_number_unit(raw)?;
    let factor: u64 = match unit.as_str() {
        "" | "b" | "bytes" => 1,
        "k" | "kb" | "kibibytes" => 1 << 10,
        "m" | "mb" | "mebibytes" => 1 << 20,
        "g" | "gb" | "gibibytes" => 1 << 30,
        "t" | "tb" | "tebibytes" => 1 << 40,
        _ => return None,
    };
    // A size past u64 (16 EiB) is invalid rather than quietly the largest one.
    let bytes = number * factor as f64;
    (bytes < u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flink_2_names_work_and_win_over_the_renamed_1_x_names() {
        let old = Configuration::default()
            .with_overrides(&["state.checkpoints.dir=/old", "execution.buffer-timeout=5 ms"])
            .unwrap();
        assert_eq!(old.text("execution.checkpointing.dir"), "/old", "a 1.x name still sets the key");
        assert_eq!(old.duration("execution.buffer-timeout.interval").unwrap(), Duration::from_millis(5));
        assert_eq!(old.effective()["execution.checkpointing.dir"], "/old", "shown under the 2.x name");
        assert!(!old.effective().contains_key("state.checkpoints.dir"));
        let both = Configuration::default()
            .with_overrides(&["execution.checkpointing.dir=/new", "state.checkpoints.dir=/old"])
            .unwrap();
        assert_eq!(both.text("execution.checkpointing.dir"), "/new");
        assert_eq!(both.text("state.checkpoints.dir"), "/new", "reading the old name gives the winner too");
        assert_eq!(both.effective()["execution.checkpointing.dir"], "/new");
        let retained = Configuration::default().with_overrides(&["execution.checkpointing.num-retained=0"]);
        assert!(retained.is_err(), "the 2.x name is validated");
    }

    #[test]
    fn memory_sizes_use_flink_syntax() {
        assert_eq!(parse_memory_size("1728m"), Some(1728 << 20));
        assert_eq!(parse_memory_size("512 mb"), Some(512 << 20));
        assert_eq!(parse_memory_size("1.5g"), Some(3 << 29));
        assert_eq!(parse_memory_size("1728mbb"), None);
        assert_eq!(parse_memory_size("zero"), None);
    }

    #[test]
    fn durations_use_flink_syntax() {
        assert_eq!(parse_duration("1 ms"), Some(Duration::from_millis(1)));
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("250"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("soon"), None);
    }

    #[test]
    fn a_duration_too_large_is_invalid_not_a_panic() {
        assert_eq!(parse_duration("99999999999999999999999d"), None);
        let config = Configuration::default().with_overrides(&["heartbeat.timeout=99999999999999999999999d"]);
        let err = config.and_then(|c| c.validate()).unwrap_err();
        assert!(err.to_string().contains("heartbeat.timeout"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = Configuration::default().with_overrides(&["taskmanager.numberOfTaskSlots=zero"]).unwrap_err();
        assert!(err.to_string().contains("taskmanager.numberOfTaskSlots"), "{err}");
        let err = Configuration::default().with_overrides(&["novalue"]).unwrap_err();
        assert!(err.to_string().contains("novalue"), "{err}");
    }

    #[test]
    fn the_file_is_read_and_overrides_win_over_it() {
        let dir = std::env::temp_dir().join(format!("wflink-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config.yaml");
        std::fs::write(&file, "parallelism.default: 2\nrest:\n  port: 9091\nmade.up.key: 1\n").unwrap();
        let config = Configuration::load(Some(&file), &["rest.port=9092"]).unwrap();
        assert_eq!(config.positive_int("parallelism.default").unwrap(), 2);
        assert_eq!(config.port("rest.port").unwrap(), 9092);
        std::fs::write(&file, "taskmanager.memory.flink.size: 1728mbb\n").unwrap();
        let err = Configuration::load(Some(&file), &[] as &[&str]).unwrap_err();
        assert!(err.to_string().contains("taskmanager.memory.flink.size"), "{err}");
        let err = Configuration::load(Some(&dir.join("missing.yaml")), &[] as &[&str]).unwrap_err();
        assert!(err.to_string().contains("missing.yaml"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn secrets_are_masked_when_shown() {
        let config = Configuration::default()
            .with_overrides(&["security.rest.token=hunter2", "security.internal.secret-file=/etc/wflink/secret"])
            .unwrap();
        let shown = config.effective_masked();
        assert_eq!(shown["security.rest.token"], MASK);
        assert_eq!(shown["security.internal.secret"], "", "an unset secret shows as unset");
        assert_eq!(shown["security.internal.secret-file"], "/etc/wflink/secret", "a file name is not the secret");
        assert!(!format!("{shown:?}").contains("hunter2"));
        assert!(!format!("{config:?}").contains("hunter2"), "nor when the configuration is logged");
    }

    #[test]
    fn overrides_win_over_defaults() {
        let config = Configuration::default().with_overrides(&["parallelism.default=3"]).unwrap();
        assert_eq!(config.positive_int("parallelism.default").unwrap(), 3);
        assert_eq!(config.duration("execution.buffer-timeout").unwrap(), Duration::from_millis(1));
    }
}
