//! What this binary carries for building guests in other languages: the
//! WIT package it implements and the guest library of each language.

/// The world every job component implements.
pub(super) const WORLD: &str = "stream-job";

/// `wit/`: the `wflink:job` package.
pub(super) const WIT: &[(&str, &str)] = &[
    ("host.wit", include_str!("../../../wit/host.wit")),
    ("job.wit", include_str!("../../../wit/job.wit")),
    ("operator.wit", include_str!("../../../wit/operator.wit")),
    ("plan.wit", include_str!("../../../wit/plan.wit")),
    ("state.wit", include_str!("../../../wit/state.wit")),
    ("types.wit", include_str!("../../../wit/types.wit")),
    ("world.wit", include_str!("../../../wit/world.wit")),
];

/// `sdk/python/`: the `wflink` Python package.
pub(super) const PYTHON_SDK: &[(&str, &str)] = &[
    ("wflink/__init__.py", include_str!("../../../sdk/python/wflink/__init__.py")),
    ("wflink/args.py", include_str!("../../../sdk/python/wflink/args.py")),
    ("wflink/chain.py", include_str!("../../../sdk/python/wflink/chain.py")),
    ("wflink/component.py", include_str!("../../../sdk/python/wflink/component.py")),
    ("wflink/context.py", include_str!("../../../sdk/python/wflink/context.py")),
    ("wflink/errors.py", include_str!("../../../sdk/python/wflink/errors.py")),
    ("wflink/log.py", include_str!("../../../sdk/python/wflink/log.py")),
    ("wflink/msgpack.py", include_str!("../../../sdk/python/wflink/msgpack.py")),
    ("wflink/process.py", include_str!("../../../sdk/python/wflink/process.py")),
    ("wflink/stages.py", include_str!("../../../sdk/python/wflink/stages.py")),
    ("wflink/state.py", include_str!("../../../sdk/python/wflink/state.py")),
    ("wflink/stream.py", include_str!("../../../sdk/python/wflink/stream.py")),
    ("wflink/time.py", include_str!("../../../sdk/python/wflink/time.py")),
    ("wflink/window.py", include_str!("../../../sdk/python/wflink/window.py")),
];

/// `sdk/js/wflink/`: the `wflink` JavaScript library.
pub(super) const JS_SDK: &[(&str, &str)] = &[
    ("args.js", include_str!("../../../sdk/js/wflink/args.js")),
    ("chain.js", include_str!("../../../sdk/js/wflink/chain.js")),
    ("component.js", include_str!("../../../sdk/js/wflink/component.js")),
    ("context.js", include_str!("../../../sdk/js/wflink/context.js")),
    ("errors.js", include_str!("../../../sdk/js/wflink/errors.js")),
    ("index.js", include_str!("../../../sdk/js/wflink/index.js")),
    ("log.js", include_str!("../../../sdk/js/wflink/log.js")),
    ("msgpack.js", include_str!("../../../sdk/js/wflink/msgpack.js")),
    ("process.js", include_str!("../../../sdk/js/wflink/process.js")),
    ("state.js", include_str!("../../../sdk/js/wflink/state.js")),
    ("stream.js", include_str!("../../../sdk/js/wflink/stream.js")),
    ("time.js", include_str!("../../../sdk/js/wflink/time.js")),
    ("timed.js", include_str!("../../../sdk/js/wflink/timed.js")),
    ("window.js", include_str!("../../../sdk/js/wflink/window.js")),
];

/// `sdk/js/build.mjs`: runs componentize-js.
pub(super) const JS_BUILD_SCRIPT: &str = include_str!("../../../sdk/js/build.mjs");

/// `sdk/c/wflink.h`: buffers and MessagePack for C jobs.
pub(super) const C_HEADER: &str = include_str!("../../../sdk/c/wflink.h");
