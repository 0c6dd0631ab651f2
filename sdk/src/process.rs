//! Process functions: per-record functions with side outputs and access
//! to time ([`ProcessFunction`]), and on keyed streams also to keyed state
//! and timers ([`KeyedProcessFunction`]), as in Flink.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;

use serde::de::DeserializeOwned;

use crate::chain::Emitter;
use crate::codec::decode;
use crate::context::{self, StateError, TimeDomain};
use crate::{Data, JobError};

/// Names a side output of type `T`. Create it once in the build function
/// and use it both to emit (`ctx.output(&tag, value)`) and to read the
/// side output stream (`stream.get_side_output(&tag)`).
pub struct OutputTag<T> {
    pub(crate) id: u32,
    pub(crate) name: String,
    _records: PhantomData<fn(T)>,
}

impl<T> Clone for OutputTag<T> {
    fn clone(&self) -> Self {
        OutputTag { id: self.id, name: self.name.clone(), _records: PhantomData }
    }
}

impl<T: Data> OutputTag<T> {
    /// A tag named `name` (unique within the job).
    pub fn new(name: &str) -> Self {
        OutputTag { id: crate::state::state_id(name), name: name.to_owned(), _records: PhantomData }
    }

    /// The tag's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The side output emitters of a chain, by tag id: each is the start of
/// the side chain (functions after `get_side_output`) that ends in the
/// call's side records.
#[derive(Default)]
pub(crate) struct SideOutputs {
    pub emitters: RefCell<Vec<(u32, Box<dyn Any>)>>,
}

pub(crate) type SharedSides = Rc<SideOutputs>;

impl SideOutputs {
    /// Sends `value` to the side output `tag`; dropped when nothing reads it.
    pub fn emit<T: 'static>(&self, tag: u32, value: T) {
        let mut emitters = self.emitters.borrow_mut();
        if let Some((_, any)) = emitters.iter_mut().find(|(t, _)| *t == tag)
            && let Some(emitter) = any.downcast_mut::<Box<dyn Emitter<T>>>()
        {
            emitter.emit(value);
        }
    }
}

/// What a process function gets with each record or timer: emit main and
/// side output records, read the time, and (keyed) set timers.
pub struct Context<'a, O> {
    pub(crate) down: &'a mut dyn Emitter<O>,
    pub(crate) sides: &'a SideOutputs,
    /// Timestamp of the record (or timer) being processed.
    pub(crate) timestamp: Option<i64>,
}

impl<O> Context<'_, O> {
    /// Emits `value` on the main output, with the current record's timestamp.
    pub fn collect(&mut self, value: O) {
        self.down.emit(value);
    }

    /// Emits `value` on the side output `tag`.
    pub fn output<T: Data>(&mut self, tag: &OutputTag<T>, value: T) {
        self.sides.emit(tag.id, value);
    }

    /// The event timestamp of the current record (or the firing time of
    /// the current timer), if it has one.
    pub fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }

    /// The current event-time watermark (`i64::MIN` before the first).
    pub fn current_watermark(&self) -> i64 {
        context::with(|c| c.watermark)
    }

    /// The wall clock in ms since the epoch, as of this call.
    pub fn current_processing_time(&self) -> i64 {
        context::with(|c| c.processing_time)
    }

    /// The current key, decoded as `K` (keyed functions only).
    pub fn current_key<K: DeserializeOwned>(&self) -> Result<K, StateError> {
        context::with(|c| {
            if !c.keyed {
                return Err(StateError::NoKeyedContext);
            }
            decode(&c.key).map_err(|e| StateError::Decode(e.to_string()))
        })
    }

    /// Calls `on_timer` once the watermark reaches `timestamp` (keyed only).
    pub fn register_event_time_timer(&mut self, timestamp: i64) -> Result<(), StateError> {
        context::register_timer(TimeDomain::EventTime, timestamp)
    }

    /// Calls `on_timer` once the wall clock reaches `timestamp` (keyed only).
    pub fn register_processing_time_timer(&mut self, timestamp: i64) -> Result<(), StateError> {
        context::register_timer(TimeDomain::ProcessingTime, timestamp)
    }

    /// Deletes an event-time timer of the current key (keyed only).
    pub fn delete_event_time_timer(&mut self, timestamp: i64) -> Result<(), StateError> {
        context::delete_timer(TimeDomain::EventTime, timestamp)
    }

    /// Deletes a processing-time timer of the current key (keyed only).
    pub fn delete_processing_time_timer(&mut self, timestamp: i64) -> Result<(), StateError> {
        context::delete_timer(TimeDomain::ProcessingTime, timestamp)
    }
}

/// A per-record function with side outputs and access to time (Flink's
/// `ProcessFunction`). Closures `FnMut(I, &mut Context<O>) -> Result<(), JobError>`
/// implement it.
pub trait ProcessFunction<I, O>: 'static {
    /// Handles one record; emit through `ctx`.
    fn process_element(&mut self, value: I, ctx: &mut Context<'_, O>) -> Result<(), JobError>;
}

impl<I, O, F: FnMut(I, &mut Context<'_, O>) -> Result<(), JobError> + 'static> ProcessFunction<I, O> for F {
    fn process_element(&mut self, value: I, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        self(value, ctx)
    }
}

/// A per-record function on a keyed stream with keyed state (fields of
/// type [`ValueState`](crate::ValueState) and friends), timers and side
/// outputs (Flink's `KeyedProcessFunction`).
pub trait KeyedProcessFunction<I, O>: 'static {
    /// Handles one record of the current key.
    fn process_element(&mut self, value: I, ctx: &mut Context<'_, O>) -> Result<(), JobError>;

    /// Called when a timer of the current key fires; `timestamp` is the
    /// time it was registered for.
    fn on_timer(&mut self, timestamp: i64, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        let _ = (timestamp, ctx);
        Ok(())
    }
}
