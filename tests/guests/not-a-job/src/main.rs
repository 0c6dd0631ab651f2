//! A plain WASI command (world `wasi:cli/command`), not a wflink job: the
//! runtime must refuse it at upload with a clear error.

fn main() {}
