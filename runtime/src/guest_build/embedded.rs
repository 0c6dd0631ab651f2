//! What this binary carries for building guests in other languages: the
//! WIT package it implements and the guest library of each language,
//! embedded folder by folder, so a file added to a library ships with it.

use include_dir::{Dir, include_dir};

/// The world every job component implements.
pub(super) const WORLD: &str = "stream-job";

/// `wit/`: the `wflink:job` package (its `.wit` files).
pub(super) static WIT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../wit");

/// `sdk/python/wflink/`: the `wflink` Python package (its `.py` files).
pub(super) static PYTHON_SDK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../sdk/python/wflink");

/// `sdk/js/wflink/`: the `wflink` JavaScript library (its `.js` files).
pub(super) static JS_SDK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../sdk/js/wflink");

/// `sdk/js/build.mjs`: bundles a job with esbuild and runs componentize-js.
pub(super) const JS_BUILD_SCRIPT: &str = include_str!("../../../sdk/js/build.mjs");

/// `sdk/c/wflink.h`: buffers and MessagePack for C jobs.
pub(super) const C_HEADER: &str = include_str!("../../../sdk/c/wflink.h");
