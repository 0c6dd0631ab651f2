//! Fuzz tests of every decoder that reads bytes wflink did not write
//! itself: what a guest hands back (record batches, state entries, timers),
//! what a peer sends (data and RPC frames), what storage holds (keyed state
//! files, checkpoint metadata) and what a user types (the configuration, the
//! `Range` header). Each must decode or refuse with an error naming what
//! was wrong; a panic is a bug, and so is memory taken on a peer's word.
//!
//! Two kinds of test, both on stable Rust in plain `cargo test`:
//! - **properties** (proptest): arbitrary input never panics, encode then
//!   decode gives back what went in, a frame's claimed length costs nothing;
//! - **the corpus** (`runtime/fuzz-corpus/<target>/`): real inputs, each
//!   replayed through its target's decoder; a file named `bad-*` must be
//!   refused, any other must decode. Write one there to keep an input that
//!   found a bug, or [`write_corpus`] to make the samples again.
//!
//! Case counts keep the whole lot to a few seconds on 2 cores, with a fixed
//! seed so CI is repeatable. A longer session (random seeds, more cases):
//! `PROPTEST_CASES=100000 cargo test -p wflink --lib fuzz_tests`. A failure
//! is shrunk and its seed saved under `runtime/proptest-regressions/`,
//! which is committed: it is replayed first by every later run.
//!
//! Layout: one file per decoder family; this one holds the shared config,
//! the targets and the corpus replay.

mod batch;
mod config;
mod frame;
mod range;
mod state;

use std::path::{Path, PathBuf};

use proptest::test_runner::{Config, RngSeed};

/// The seed of a run without `PROPTEST_CASES`: CI sees the same inputs every time.
const SEED: u64 = 0x5eed_f1a4_c0de_2026;

/// Proptest's configuration for a property worth `cases` inputs in a
/// normal run. Setting `PROPTEST_CASES` (a longer session) also makes the
/// seed random unless `PROPTEST_RNG_SEED` fixes it.
pub(crate) fn cases(cases: u32) -> Config {
    let from_env = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_some() {
        return from_env;
    }
    let rng_seed = match from_env.rng_seed {
        RngSeed::Random => RngSeed::Fixed(SEED),
        fixed => fixed,
    };
    Config { cases, rng_seed, ..from_env }
}

/// A decoder under test: the bytes of one input, decoded as wflink
/// decodes them, and everything decoded read as wflink reads it, so an
/// accepted input that breaks a later step also fails. `Err` names what
/// was wrong with a refused input.
type Target = fn(&[u8]) -> Result<(), String>;

/// Every corpus target, by the name of its folder under `fuzz-corpus/`.
const TARGETS: &[(&str, Target)] = &[
    ("data-frames", frame::data_connection),
    ("rpc-to-jobmanager", frame::rpc_to_jobmanager),
    ("rpc-to-taskmanager", frame::rpc_to_taskmanager),
    ("keyed-state-file", state::keyed_state_file),
    ("checkpoint-metadata", state::checkpoint_metadata),
    ("config-yaml", config::yaml_file),
    ("range-header", range::header),
];

/// `runtime/fuzz-corpus`.
fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-corpus")
}

/// Runs `target` on `input`, turning a panic into an `Err` that says so.
fn run_target(target: Target, input: &[u8]) -> Result<Result<(), String>, String> {
    std::panic::catch_unwind(|| target(input)).map_err(|panic| crate::panics::panic_message(&*panic))
}

/// Every file of the committed corpus decodes (or, named `bad-*`, is
/// refused with a message), and none panics.
#[test]
fn the_corpus_replays_through_every_decoder() {
    let mut failures = Vec::new();
    for (name, target) in TARGETS {
        let dir = corpus_dir().join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus folder {}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        assert!(files.iter().any(|f| !is_bad(f)), "{name}: the corpus needs at least one good input");
        for file in files {
            let input = std::fs::read(&file).unwrap();
            let shown = format!("{name}/{}", file.file_name().unwrap().to_string_lossy());
            match (run_target(*target, &input), is_bad(&file)) {
                (Err(panic), _) => failures.push(format!("{shown}: panicked: {panic}")),
                (Ok(Ok(())), true) => failures.push(format!("{shown}: accepted, but it is named bad-")),
                (Ok(Err(e)), false) => failures.push(format!("{shown}: refused: {e}")),
                (Ok(Err(e)), true) if e.trim().is_empty() => failures.push(format!("{shown}: refused in silence")),
                _ => {}
            }
        }
    }
    assert!(failures.is_empty(), "corpus failures:\n{}", failures.join("\n"));
}

fn is_bad(file: &Path) -> bool {
    file.file_name().is_some_and(|n| n.to_string_lossy().starts_with("bad-"))
}

/// Writes the generated corpus samples (real encodings made by wflink's
/// own encoders) into `fuzz-corpus/`. Ignored: run it by hand after a
/// format changes, `cargo test -p wflink --lib write_corpus -- --ignored`,
/// and commit what it wrote.
#[test]
#[ignore = "writes the corpus; run by hand after a format change"]
fn write_corpus() {
    let samples = [
        ("data-frames", frame::corpus()),
        ("rpc-to-jobmanager", frame::rpc_to_jobmanager_corpus()),
        ("rpc-to-taskmanager", frame::rpc_to_taskmanager_corpus()),
        ("keyed-state-file", state::keyed_state_file_corpus()),
        ("checkpoint-metadata", state::checkpoint_metadata_corpus()),
        ("config-yaml", config::corpus()),
        ("range-header", range::corpus()),
    ];
    for (name, files) in samples {
        let dir = corpus_dir().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, bytes) in files {
            std::fs::write(dir.join(file), bytes).unwrap();
        }
    }
}

/// Every target is fed arbitrary bytes as well: the corpus samples mutated
/// (a byte flipped, cut short, spliced) and plain noise.
mod arbitrary_bytes {
    use proptest::prelude::*;

    use super::*;

    /// The committed corpus, every target's files.
    fn corpus() -> Vec<(usize, Vec<u8>)> {
        let mut all = Vec::new();
        for (index, (name, _)) in TARGETS.iter().enumerate() {
            for entry in std::fs::read_dir(corpus_dir().join(name)).into_iter().flatten() {
                all.push((index, std::fs::read(entry.unwrap().path()).unwrap()));
            }
        }
        all
    }

    /// A corpus file of `target` with a few bytes changed, cut or repeated.
    fn mutated() -> impl Strategy<Value = (usize, Vec<u8>)> {
        let files = corpus();
        assert!(!files.is_empty(), "the corpus is empty");
        (0..files.len(), prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..4u8), 1..6)).prop_map(
            move |(file, edits)| {
                let (target, mut bytes) = files[file].clone();
                for (at, byte, how) in edits {
                    if bytes.is_empty() {
                        bytes.push(byte);
                        continue;
                    }
                    let at = at.index(bytes.len());
                    match how {
                        0 => bytes[at] = byte,
                        1 => bytes.truncate(at),
                        2 => bytes.insert(at, byte),
                        _ => {
                            let tail = bytes[at..].to_vec();
                            bytes.extend_from_slice(&tail);
                        }
                    }
                }
                (target, bytes)
            },
        )
    }

    proptest! {
        #![proptest_config(cases(5000))]

        /// A corpus input changed a little decodes or is refused with a message.
        #[test]
        fn a_mutated_input_never_panics((target, bytes) in mutated()) {
            let (name, decode) = TARGETS[target];
            match run_target(decode, &bytes) {
                Err(panic) => prop_assert!(false, "{name} panicked: {panic}"),
                Ok(Err(e)) => prop_assert!(!e.trim().is_empty(), "{name} refused in silence"),
                Ok(Ok(())) => {}
            }
        }
    }

    proptest! {
        #![proptest_config(cases(1000))]

        /// Noise decodes or is refused with a message, in every target.
        #[test]
        fn noise_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            for (name, decode) in TARGETS {
                match run_target(*decode, &bytes) {
                    Err(panic) => prop_assert!(false, "{name} panicked: {panic}"),
                    Ok(Err(e)) => prop_assert!(!e.trim().is_empty(), "{name} refused in silence"),
                    Ok(Ok(())) => {}
                }
            }
        }
    }
}
