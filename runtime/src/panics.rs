//! What a caught panic said, for the places that catch one to fail a
//! task or a request instead of a thread (the task loop, the describe
//! threads).

use std::any::Any;

/// The message of a panic payload (`panic!` carries a `String` or a
/// `&str`); empty for any other payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
