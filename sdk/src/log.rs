//! Logging into the TaskManager's log (the WIT `logging` import).
//!
//! ```
//! wflink_sdk::log::info!("opened with {} nodes", 2);
//! ```
//! Off the wasm target (in host unit tests) messages go to standard error.

/// Severity of a log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Fine-grained tracing, off unless asked for.
    Trace,
    /// Diagnostic detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the job survives.
    Warn,
    /// Something failed.
    Error,
}

/// Writes `message` to the log of the task running this instance.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        use crate::export::bindings::wflink::job::logging::{self, Level as L};
        let level = match level {
            Level::Trace => L::Trace,
            Level::Debug => L::Debug,
            Level::Info => L::Info,
            Level::Warn => L::Warn,
            Level::Error => L::Error,
        };
        logging::log(level, message);
    }
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

#[doc(hidden)]
#[macro_export]
macro_rules! __wflink_log {
    ($level:ident, $($arg:tt)*) => {
        $crate::log::log($crate::log::Level::$level, &::std::format!($($arg)*))
    };
}

/// Logs a formatted message at [`Level::Trace`].
#[macro_export]
#[doc(hidden)]
macro_rules! __wflink_trace { ($($arg:tt)*) => { $crate::__wflink_log!(Trace, $($arg)*) }; }
/// Logs a formatted message at [`Level::Debug`].
#[macro_export]
#[doc(hidden)]
macro_rules! __wflink_debug { ($($arg:tt)*) => { $crate::__wflink_log!(Debug, $($arg)*) }; }
/// Logs a formatted message at [`Level::Info`].
#[macro_export]
#[doc(hidden)]
macro_rules! __wflink_info { ($($arg:tt)*) => { $crate::__wflink_log!(Info, $($arg)*) }; }
/// Logs a formatted message at [`Level::Warn`].
#[macro_export]
#[doc(hidden)]
macro_rules! __wflink_warn { ($($arg:tt)*) => { $crate::__wflink_log!(Warn, $($arg)*) }; }
/// Logs a formatted message at [`Level::Error`].
#[macro_export]
#[doc(hidden)]
macro_rules! __wflink_error { ($($arg:tt)*) => { $crate::__wflink_log!(Error, $($arg)*) }; }

/// `debug!("fmt", args..)`: logs a formatted message at [`Level::Debug`].
pub use crate::__wflink_debug as debug;
/// `error!("fmt", args..)`: logs a formatted message at [`Level::Error`].
pub use crate::__wflink_error as error;
/// `info!("fmt", args..)`: logs a formatted message at [`Level::Info`].
pub use crate::__wflink_info as info;
/// `trace!("fmt", args..)`: logs a formatted message at [`Level::Trace`].
pub use crate::__wflink_trace as trace;
/// `warn!("fmt", args..)`: logs a formatted message at [`Level::Warn`].
pub use crate::__wflink_warn as warn;
