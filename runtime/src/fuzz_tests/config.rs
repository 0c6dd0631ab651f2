//! The configuration (`config.rs`, `config/`): `conf/config.yaml` and
//! `-D key=value`. A wrong value is refused at start naming its key; a
//! value the configuration accepts must then work wherever it is used:
//! every duration can be added to the current instant, every size to its
//! headroom.

use std::time::Instant;

use proptest::prelude::*;

use super::cases;
use crate::checkpoint::coordinator::CheckpointSettings;
use crate::config::{ConfigError, Configuration, KNOWN_KEYS, RestartStrategy, parse_duration, parse_memory_size};
use crate::network::FrameLimits;
use crate::rest::ServerLimits;

/// A configuration file: read, checked, then every typed value used as
/// the processes use it.
pub(super) fn yaml_file(bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut config = Configuration::default();
    for (key, value) in crate::config::parse_yaml(text)? {
        config.set(&key, value);
    }
    config.validate().map_err(|e| e.to_string())?;
    use_everything(&config);
    Ok(())
}

/// Uses every value of a configuration that passed `validate`, as the
/// JobManager and TaskManagers do at start; a panic here is a value the
/// check should have refused.
fn use_everything(config: &Configuration) {
    FrameLimits::from_config(config).expect("validated");
    ServerLimits::from_config(config).expect("validated");
    CheckpointSettings::from_config(config).expect("validated");
    RestartStrategy::from_config(config).expect("validated");
    // The duration keys: their defaults have a unit after a space (`10 s`).
    let durations =
        KNOWN_KEYS.iter().filter(|(_, default, _)| default.contains(' ') && parse_duration(default).is_some());
    for (key, _, _) in durations {
        if let Ok(duration) = config.duration(key) {
            assert!(Instant::now().checked_add(duration).is_some(), "{key}: {duration:?} accepted but unusable");
        }
    }
}

/// The repository's own `conf/config.yaml`, the same keys nested, and
/// files that must be refused.
pub(super) fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let shipped = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../conf/config.yaml")).unwrap();
    vec![
        ("conf-config.yaml", shipped),
        (
            "nested-keys.yaml",
            b"rest:\n  port: 9091\n  address: 0.0.0.0\njobmanager:\n  rpc:\n    port: 6124\nheartbeat:\n  timeout: 30 s\n"
                .to_vec(),
        ),
        ("empty.yaml", Vec::new()),
        ("allowed-paths-list.yaml", b"wflink.io.allowed-paths:\n  - /data/in\n  - s3://bucket/out\n".to_vec()),
        ("bad-slots-not-a-number.yaml", b"taskmanager.numberOfTaskSlots: many\n".to_vec()),
        ("bad-top-level-list.yaml", b"- rest.port: 8081\n".to_vec()),
        ("bad-duration-past-every-clock.yaml", b"heartbeat.timeout: 150000000000000 d\n".to_vec()),
        ("bad-unclosed-flow.yaml", b"rest: {port: 8081\n".to_vec()),
        ("bad-not-utf8.yaml", b"rest.address: \xff\xfe\n".to_vec()),
        ("bad-deep-nesting.yaml", "[".repeat(5000).into_bytes()),
    ]
}

/// A value as a user might write one: numbers with and without units,
/// huge and fractional ones, words, and arbitrary text.
fn value() -> impl Strategy<Value = String> {
    let unit = prop::sample::select(vec![
        "", " ", "ms", " ms", "s", " s", "min", "m", "h", "d", "b", "k", "kb", "mb", "g", "gb", "t", "tb", "x",
    ]);
    let number = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        (0..100_000u32).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|x| x.to_string()),
        "[0-9]{1,30}(\\.[0-9]{0,5})?",
    ];
    prop_oneof![
        (number, unit).prop_map(|(n, u)| format!("{n}{u}")),
        prop::sample::select(vec!["true", "FALSE", "none", "fixed-delay", "exponential-delay", "", "-1", "0"])
            .prop_map(String::from),
        "\\PC{0,16}",
    ]
}

/// A known key, or sometimes an unknown one.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        9 => prop::sample::select(KNOWN_KEYS.iter().map(|(k, _, _)| *k).collect::<Vec<_>>()).prop_map(String::from),
        1 => "[a-z.\\-]{1,20}",
    ]
}

proptest! {
    #![proptest_config(cases(2000))]

    /// `-D key=value` overrides are accepted, and then usable, or refused
    /// naming the key (or the malformed argument).
    #[test]
    fn overrides_are_usable_or_refused_naming_the_key(settings in prop::collection::vec((key(), value()), 1..5)) {
        let raw: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        match Configuration::default().with_overrides(&raw) {
            Ok(config) => use_everything(&config),
            Err(ConfigError::InvalidValue { key, .. }) => {
                prop_assert!(settings.iter().any(|(k, _)| *k == key), "{key} was refused but not set");
            }
            Err(other) => prop_assert!(false, "unexpected error: {other}"),
        }
    }

    /// A `-D` argument of any text is an override or a refusal naming it.
    #[test]
    fn any_override_argument_is_read_or_refused(raw in "\\PC{0,40}") {
        if let Err(e) = Configuration::default().with_overrides(&[&raw]) {
            let text = e.to_string();
            prop_assert!(text.contains("configuration key") || text.contains(&raw), "{text}");
        }
    }

    /// Any text as a YAML file is a configuration or a refusal.
    #[test]
    fn any_yaml_text_is_read_or_refused(text in "([a-z.]{1,12}|[\\[\\]{}:,\\-'\" #&*!|>%@`]|\\n  ?|[0-9]{1,4}( ?[a-z]{1,3})?){0,40}") {
        if let Err(e) = yaml_file(text.as_bytes()) {
            prop_assert!(!e.is_empty());
        }
    }

    /// A duration written with any of Flink's units parses to its value.
    #[test]
    fn durations_round_trip(n in 0u64..10_000_000, unit in 0..5usize) {
        let (names, millis): (&[&str], u64) =
            [(&["", "ms", "millis"][..], 1), (&["s", "sec", "seconds"], 1000), (&["min", "m", "minutes"], 60_000),
             (&["h", "hours"], 3_600_000), (&["d", "days"], 86_400_000)][unit];
        for name in names {
            for space in ["", " "] {
                let parsed = parse_duration(&format!("{n}{space}{name}"));
                prop_assert_eq!(parsed.map(|d| d.as_millis()), Some(n as u128 * millis as u128), "{} {}", n, name);
            }
        }
    }

    /// A memory size written with any of Flink's units parses to its value.
    #[test]
    fn memory_sizes_round_trip(n in 0u64..1_000_000, unit in 0..5usize) {
        let (names, factor): (&[&str], u64) =
            [(&["", "b", "bytes"][..], 1), (&["k", "kb"], 1 << 10), (&["m", "mb"], 1 << 20), (&["g", "gb"], 1 << 30),
             (&["t", "tb"], 1 << 40)][unit];
        for name in names {
            prop_assert_eq!(parse_memory_size(&format!("{n}{name}")), Some(n * factor), "{} {}", n, name);
        }
    }

    /// Any text as a duration or a size: a value or `None`, never a panic,
    /// and an accepted duration fits the clock.
    #[test]
    fn any_text_is_a_duration_or_not(raw in prop_oneof!["\\PC{0,24}", value()]) {
        if let Some(duration) = parse_duration(&raw) {
            prop_assert!(Instant::now().checked_add(duration).is_some(), "{raw}: {duration:?}");
        }
        let _ = parse_memory_size(&raw);
    }
}
