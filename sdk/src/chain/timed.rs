//! The operators that use time: the timestamp assigner, the
//! ProcessFunction (an emitter inside a chain), the KeyedProcessFunction
//! (the input of its chain, as it reads a key-by) and the encoder that
//! ends a side output's chain.

use std::marker::PhantomData;

use super::emitter::Emitter;
use super::operator::{AnyEmitter, ChainEnv, Decoder, Downstream, Operator, decode_error, downstream};
use super::output::SharedOutput;
use super::{Batch, ChainInput, KeyedState, slices};
use crate::codec::{decode_record, encode_into};
use crate::context::{self, Timers};
use crate::process::{Context, KeyedProcessFunction, ProcessFunction, SharedSides};
use crate::{Data, JobError};

/// Sets each record's event timestamp.
struct Assigner<T, F> {
    f: F,
    _records: PhantomData<fn(&T)>,
}

struct AssignerEmitter<T, F> {
    f: F,
    out: SharedOutput,
    down: Box<dyn Emitter<T>>,
}

impl<T, F: FnMut(&T) -> i64> Emitter<T> for AssignerEmitter<T, F> {
    #[inline]
    fn emit(&mut self, value: T) {
        self.out.borrow_mut().timestamp = Some((self.f)(&value));
        self.down.emit(value);
    }
    fn emit_ref(&mut self, value: &T) {
        self.out.borrow_mut().timestamp = Some((self.f)(value));
        self.down.emit_ref(value);
    }
}

/// The operator of an `assign_timestamps_and_watermarks` node.
pub(crate) fn assigner_operator<T: Data>(f: impl FnMut(&T) -> i64 + 'static) -> Box<dyn Operator> {
    Box::new(Assigner { f, _records: PhantomData })
}

impl<T: Data, F: FnMut(&T) -> i64 + 'static> Operator for Assigner<T, F> {
    fn into_emitter(self: Box<Self>, down: Downstream, label: &str, env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        let emitter: Box<dyn Emitter<T>> =
            Box::new(AssignerEmitter { f: self.f, out: env.out.clone(), down: downstream::<T>(down, label)? });
        Ok(Box::new(emitter))
    }

    fn into_input(
        self: Box<Self>,
        down: Downstream,
        label: &str,
        env: &ChainEnv,
    ) -> Result<Box<dyn ChainInput>, JobError> {
        let first = *self.into_emitter(down, label, env)?.downcast::<Box<dyn Emitter<T>>>().expect("built above");
        Ok(Box::new(Decoder { first, label: label.to_owned() }))
    }
}

/// A ProcessFunction inside a chain.
struct Process<I, O, F> {
    f: F,
    _types: PhantomData<fn(I) -> O>,
}

struct ProcessEmitter<O, F> {
    f: F,
    out: SharedOutput,
    sides: SharedSides,
    down: Box<dyn Emitter<O>>,
    label: String,
}

impl<I: Clone, O, F: ProcessFunction<I, O>> Emitter<I> for ProcessEmitter<O, F> {
    fn emit(&mut self, value: I) {
        let timestamp = self.out.borrow().timestamp;
        let mut ctx = Context { down: &mut *self.down, sides: &self.sides, timestamp };
        if let Err(e) = self.f.process_element(value, &mut ctx) {
            self.out.borrow_mut().error.get_or_insert(format!("{}: {}", self.label, e.message()));
        }
    }
    fn emit_ref(&mut self, value: &I) {
        self.emit(value.clone());
    }
}

/// The operator of a (non-keyed) `process` node.
pub(crate) fn process_operator<I: Data, O: Data>(f: impl ProcessFunction<I, O>) -> Box<dyn Operator> {
    Box::new(Process { f, _types: PhantomData })
}

impl<I: Data, O: Data, F: ProcessFunction<I, O>> Operator for Process<I, O, F> {
    fn into_emitter(self: Box<Self>, down: Downstream, label: &str, env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        let emitter: Box<dyn Emitter<I>> = Box::new(ProcessEmitter {
            f: self.f,
            out: env.out.clone(),
            sides: env.sides.clone(),
            down: downstream::<O>(down, label)?,
            label: label.to_owned(),
        });
        Ok(Box::new(emitter))
    }

    fn into_input(
        self: Box<Self>,
        down: Downstream,
        label: &str,
        env: &ChainEnv,
    ) -> Result<Box<dyn ChainInput>, JobError> {
        let first = *self.into_emitter(down, label, env)?.downcast::<Box<dyn Emitter<I>>>().expect("built above");
        Ok(Box::new(Decoder { first, label: label.to_owned() }))
    }
}

/// A KeyedProcessFunction: always the first node of its chain.
struct KeyedProcess<I, O, F> {
    f: F,
    _types: PhantomData<fn(I) -> O>,
}

/// The operator of a keyed `process` node.
pub(crate) fn keyed_process_operator<I: Data, O: Data>(f: impl KeyedProcessFunction<I, O>) -> Box<dyn Operator> {
    Box::new(KeyedProcess { f, _types: PhantomData })
}

impl<I: Data, O: Data, F: KeyedProcessFunction<I, O>> Operator for KeyedProcess<I, O, F> {
    fn into_emitter(self: Box<Self>, _down: Downstream, label: &str, _env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        Err(JobError::invalid_plan(format!(
            "{label} is a keyed process function, which must start its chain (it reads the output of a key-by)"
        )))
    }

    fn into_input(
        self: Box<Self>,
        down: Downstream,
        label: &str,
        env: &ChainEnv,
    ) -> Result<Box<dyn ChainInput>, JobError> {
        Ok(Box::new(KeyedProcessInput {
            f: self.f,
            down: downstream::<O>(down, label)?,
            sides: env.sides.clone(),
            label: label.to_owned(),
            _input: PhantomData,
        }))
    }
}

struct KeyedProcessInput<I, O, F> {
    f: F,
    down: Box<dyn Emitter<O>>,
    sides: SharedSides,
    label: String,
    _input: PhantomData<fn(I)>,
}

impl<I: Data, O: Data, F: KeyedProcessFunction<I, O>> ChainInput for KeyedProcessInput<I, O, F> {
    fn process(&mut self, input: &Batch, _state: &KeyedState, out: &SharedOutput) -> Result<KeyedState, JobError> {
        if input.key_ends.is_empty() && !input.value_ends.is_empty() {
            return Err(JobError::Other(format!("{} received records without keys (a host bug)", self.label)));
        }
        let keys = slices(&input.keys, &input.key_ends);
        let values = slices(&input.values, &input.value_ends);
        for (i, (key, bytes)) in keys.zip(values).enumerate() {
            let value = decode_record::<I>(bytes).map_err(|e| decode_error::<I>(&self.label, e))?;
            let timestamp = input.timestamps.get(i).copied();
            out.borrow_mut().timestamp = timestamp;
            context::set_key(key, timestamp);
            let mut ctx = Context { down: &mut *self.down, sides: &self.sides, timestamp };
            self.f.process_element(value, &mut ctx).map_err(|e| with_label(&self.label, e))?;
        }
        Ok(KeyedState::default())
    }

    fn on_timers(&mut self, timers: &Timers, out: &SharedOutput) -> Result<(), JobError> {
        let keys = slices(&timers.keys, &timers.key_ends);
        for (key, &timestamp) in keys.zip(&timers.timestamps) {
            out.borrow_mut().timestamp = Some(timestamp);
            context::set_key(key, Some(timestamp));
            let mut ctx = Context { down: &mut *self.down, sides: &self.sides, timestamp: Some(timestamp) };
            self.f.on_timer(timestamp, &mut ctx).map_err(|e| with_label(&self.label, e))?;
        }
        Ok(())
    }
}

/// Names the node in a user function's error.
pub(crate) fn with_label(label: &str, error: JobError) -> JobError {
    match error {
        JobError::User(m) => JobError::User(format!("{label}: {m}")),
        other => other,
    }
}

/// Ends a side output's chain: encodes records into the call's side
/// records under `tag`.
pub(crate) struct SideEncoder<T> {
    pub tag: u32,
    pub out: SharedOutput,
    pub _records: PhantomData<fn(T)>,
}

impl<T: serde::Serialize> Emitter<T> for SideEncoder<T> {
    fn emit(&mut self, value: T) {
        self.emit_ref(&value);
    }
    fn emit_ref(&mut self, value: &T) {
        // Side records carry no timestamps: they end in a sink.
        let failed = context::with(|c| {
            let batch = &mut c.side_records;
            if let Err(e) = encode_into(&mut batch.values, value) {
                return Some(e);
            }
            batch.value_ends.push(batch.values.len() as u32);
            c.side_tags.push(self.tag);
            None
        });
        if let Some(e) = failed {
            self.out.borrow_mut().error.get_or_insert(e);
        }
    }
}

/// The head of a side output's chain: passes records of type `T` on.
struct SideHead<T> {
    _records: PhantomData<fn(T)>,
}

/// The operator of a `side-output` node.
pub(crate) fn side_output_operator<T: Data>() -> Box<dyn Operator> {
    Box::new(SideHead::<T> { _records: PhantomData })
}

impl<T: Data> Operator for SideHead<T> {
    fn into_emitter(self: Box<Self>, down: Downstream, label: &str, _env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        Ok(Box::new(downstream::<T>(down, label)?))
    }

    fn into_input(
        self: Box<Self>,
        _down: Downstream,
        label: &str,
        _env: &ChainEnv,
    ) -> Result<Box<dyn ChainInput>, JobError> {
        Err(JobError::invalid_plan(format!("{label} is a side output, which never starts a chain")))
    }
}
