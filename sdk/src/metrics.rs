//! User-defined counters, shown beside the task's built-in ones (the WIT
//! `metrics` import). Off the wasm target (host unit tests) they do nothing.

/// Adds `delta` to the counter `name` of the current task (created at zero).
///
/// Each call crosses into the host: count per batch or every N records,
/// not per record.
pub fn counter_add(name: &str, delta: u64) {
    #[cfg(target_arch = "wasm32")]
    crate::export::bindings::wflink::job::metrics::counter_add(name, delta);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (name, delta);
}
