//! One wasmtime engine per process, a ticker that drives guest deadlines,
//! and the component cache: a component is compiled and checked once, by
//! content hash, and every subtask instantiates the compiled artifact. The
//! compiled artifact is also kept on disk ([`ArtifactCache`]), so a later
//! process loads it in milliseconds instead of compiling it again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

use super::WasmError;
use super::artifact_cache::ArtifactCache;
use super::bindings::{StreamJob as Job, StreamJobPre as JobPre};
use super::contract::check_wit_version;
use super::host::HostState;
use super::interrupt::{EPOCH_TICK, add_interruptible_sleeps};

/// The process-wide wasm engine with its linker and compiled components.
pub struct WasmEngine {
    engine: Engine,
    linker: Linker<HostState>,
    /// Compiled components by content hash.
    cache: Mutex<LoadedComponents<JobComponent>>,
    /// Compiled artifacts on disk, shared by every process.
    artifacts: ArtifactCache,
    /// Tells the epoch ticker thread to stop when the engine goes away.
    stop_ticker: Arc<AtomicBool>,
}

/// A compiled, checked job component, cheap to clone and to instantiate.
#[derive(Clone)]
pub struct JobComponent {
    /// Content hash of the component's bytes (xxh3-128), 32 hex chars.
    pub hash: String,
    /// Size of the component in bytes.
    pub size: usize,
    pub(crate) pre: JobPre<HostState>,
    pub(crate) engine: Engine,
}

impl WasmEngine {
    /// Creates the engine with epoch interruption (guest deadlines) and
    /// the linker providing WASI and the wflink host imports.
    pub fn new() -> Result<Arc<Self>, WasmError> {
        Self::with_cache_dir(super::artifact_cache::cache_dir())
    }

    /// Like [`WasmEngine::new`], keeping compiled artifacts under
    /// `cache_dir` (none: compile in every process), whatever the environment says.
    pub fn with_cache_dir(cache_dir: Option<std::path::PathBuf>) -> Result<Arc<Self>, WasmError> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| WasmError::Compile(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| WasmError::Compile(format!("{e:#}")))?;
        add_interruptible_sleeps(&mut linker).map_err(|e| WasmError::Compile(format!("{e:#}")))?;
        Job::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| WasmError::Compile(format!("{e:#}")))?;

        let stop_ticker = Arc::new(AtomicBool::new(false));
        let (ticking, stop) = (engine.clone(), stop_ticker.clone());
        std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticking.increment_epoch();
                }
            })
            .map_err(|e| WasmError::Compile(format!("cannot start the epoch ticker: {e}")))?;
        let artifacts = ArtifactCache::new(&engine, cache_dir);
        Ok(Arc::new(WasmEngine { engine, linker, cache: Mutex::default(), artifacts, stop_ticker }))
    }

    /// Compiles `bytes` (or takes the cached artifact) and checks that it
    /// is a component of the `wflink:job` world.
    pub fn load(&self, bytes: &[u8]) -> Result<JobComponent, WasmError> {
        let hash = xxhash_rust::xxh3::xxh3_128(bytes);
        if let Some(found) = self.cache.lock().expect("component cache poisoned").get(hash) {
            return Ok(found);
        }
        check_header(bytes)?;
        let started = std::time::Instant::now();
        let component = match self.artifacts.load(&self.engine, hash) {
            Some(component) => component,
            None => {
                let component =
                    Component::new(&self.engine, bytes).map_err(|e| WasmError::Compile(format!("{e:#}")))?;
                tracing::debug!(bytes = bytes.len(), elapsed = ?started.elapsed(), "compiled component");
                self.artifacts.store(&component, hash);
                component
            }
        };
        check_wit_version(&self.engine, &component)?;
        let instance_pre =
            self.linker.instantiate_pre(&component).map_err(|e| WasmError::WrongWorld(format!("{e:#}")))?;
        let pre = JobPre::new(instance_pre).map_err(|e| WasmError::WrongWorld(format!("{e:#}")))?;
        tracing::debug!(bytes = bytes.len(), elapsed = ?started.elapsed(), "component ready");
        let loaded = JobComponent { hash: format!("{hash:032x}"), size: bytes.len(), pre, engine: self.engine.clone() };
        self.cache.lock().expect("component cache poisoned").insert(hash, loaded.clone());
        Ok(loaded)
    }
}

/// Most compiled components a process keeps in memory. A JobManager
/// compiles every upload; running jobs hold their own reference, so an
/// evicted component only costs a load from the artifact cache next time.
const LOADED_COMPONENTS: usize = 16;

/// Compiled components by content hash, the least recently used evicted
/// past [`LOADED_COMPONENTS`].
struct LoadedComponents<C> {
    components: HashMap<u128, (C, u64)>,
    /// A counter standing for time: the use a component had last.
    uses: u64,
}

impl<C> Default for LoadedComponents<C> {
    fn default() -> Self {
        LoadedComponents { components: HashMap::new(), uses: 0 }
    }
}

impl<C: Clone> LoadedComponents<C> {
    fn get(&mut self, hash: u128) -> Option<C> {
        self.uses += 1;
        let (component, used) = self.components.get_mut(&hash)?;
        *used = self.uses;
        Some(component.clone())
    }

    fn insert(&mut self, hash: u128, component: C) {
        self.uses += 1;
        self.components.insert(hash, (component, self.uses));
        while self.components.len() > LOADED_COMPONENTS {
            let oldest = self.components.iter().min_by_key(|(_, (_, used))| *used).map(|(hash, _)| *hash);
            if let Some(oldest) = oldest {
                self.components.remove(&oldest);
            }
        }
    }
}

impl Drop for WasmEngine {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// Tells a component from a core module or from something else entirely,
/// so the user learns which mistake they made.
fn check_header(bytes: &[u8]) -> Result<(), WasmError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(WasmError::NotWasm);
    }
    // Core modules have version 1 and layer 0; components have layer 1.
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(WasmError::CoreModule);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_component_leaves_first() {
        let mut loaded = LoadedComponents::default();
        for hash in 0..LOADED_COMPONENTS as u128 {
            loaded.insert(hash, hash);
        }
        assert_eq!(loaded.get(0), Some(0));
        loaded.insert(100, 100);
        assert_eq!(loaded.components.len(), LOADED_COMPONENTS);
        assert_eq!(loaded.get(1), None, "1 was used least recently");
        assert_eq!(loaded.get(0), Some(0));
        assert_eq!(loaded.get(100), Some(100));
    }
}
