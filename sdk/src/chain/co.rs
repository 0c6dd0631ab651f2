//! The operator of two inputs (`connect`): a co-process function, keyed
//! or not, always the first node of its chain. Each call names the input
//! its batch came from (WIT `time-context.input`), so records decode as
//! the first or the second input's type.

use std::cell::Cell;
use std::marker::PhantomData;

use super::emitter::Emitter;
use super::operator::{AnyEmitter, ChainEnv, Downstream, Operator, decode_error, downstream};
use super::output::SharedOutput;
use super::timed::with_label;
use super::{Batch, ChainInput, KeyedState, slices};
use crate::co_process::{CoProcessFunction, KeyedCoProcessFunction};
use crate::codec::decode;
use crate::context::{self, Timers};
use crate::process::{Context, SharedSides};
use crate::{Data, JobError};

thread_local! {
    /// The input of the batch of the current call (0 or 1).
    static INPUT: Cell<u32> = const { Cell::new(0) };
}

/// Sets the input the current call's batch came from.
pub(crate) fn set_input(input: u32) {
    INPUT.with(|i| i.set(input));
}

/// The input the current call's batch came from.
pub(crate) fn current_input() -> u32 {
    INPUT.with(Cell::get)
}

/// Keyed and non-keyed co-process functions, seen alike by the chain.
trait CoFunction<I1, I2, O>: 'static {
    fn element1(&mut self, value: I1, ctx: &mut Context<'_, O>) -> Result<(), JobError>;
    fn element2(&mut self, value: I2, ctx: &mut Context<'_, O>) -> Result<(), JobError>;
    /// `None` for a function without timers.
    fn timer(&mut self, timestamp: i64, ctx: &mut Context<'_, O>) -> Option<Result<(), JobError>>;
}

/// A non-keyed [`CoProcessFunction`].
struct Plain<F>(F);

impl<I1, I2, O, F: CoProcessFunction<I1, I2, O>> CoFunction<I1, I2, O> for Plain<F> {
    fn element1(&mut self, value: I1, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        self.0.process_element1(value, ctx)
    }
    fn element2(&mut self, value: I2, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        self.0.process_element2(value, ctx)
    }
    fn timer(&mut self, _timestamp: i64, _ctx: &mut Context<'_, O>) -> Option<Result<(), JobError>> {
        None
    }
}

/// A [`KeyedCoProcessFunction`].
struct Keyed<F>(F);

impl<I1, I2, O, F: KeyedCoProcessFunction<I1, I2, O>> CoFunction<I1, I2, O> for Keyed<F> {
    fn element1(&mut self, value: I1, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        self.0.process_element1(value, ctx)
    }
    fn element2(&mut self, value: I2, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        self.0.process_element2(value, ctx)
    }
    fn timer(&mut self, timestamp: i64, ctx: &mut Context<'_, O>) -> Option<Result<(), JobError>> {
        Some(self.0.on_timer(timestamp, ctx))
    }
}

/// A co-process node before its chain is composed.
struct CoProcess<I1, I2, O, F> {
    f: F,
    keyed: bool,
    _types: PhantomData<fn(I1, I2) -> O>,
}

/// The operator of a `co-process` node (CoMap, CoFlatMap, CoProcessFunction).
pub(crate) fn co_process_operator<I1: Data, I2: Data, O: Data>(
    f: impl CoProcessFunction<I1, I2, O>,
) -> Box<dyn Operator> {
    Box::new(CoProcess { f: Plain(f), keyed: false, _types: PhantomData::<fn(I1, I2) -> O> })
}

/// The operator of a `keyed-co-process` node.
pub(crate) fn keyed_co_process_operator<I1: Data, I2: Data, O: Data>(
    f: impl KeyedCoProcessFunction<I1, I2, O>,
) -> Box<dyn Operator> {
    Box::new(CoProcess { f: Keyed(f), keyed: true, _types: PhantomData::<fn(I1, I2) -> O> })
}

impl<I1: Data, I2: Data, O: Data, F: CoFunction<I1, I2, O>> Operator for CoProcess<I1, I2, O, F> {
    fn into_emitter(self: Box<Self>, _down: Downstream, label: &str, _env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        Err(JobError::invalid_plan(format!(
            "{label} reads two inputs, so it must start its chain (a host bug if it does not)"
        )))
    }

    fn into_input(
        self: Box<Self>,
        down: Downstream,
        label: &str,
        env: &ChainEnv,
    ) -> Result<Box<dyn ChainInput>, JobError> {
        Ok(Box::new(CoInput {
            f: self.f,
            keyed: self.keyed,
            down: downstream::<O>(down, label)?,
            sides: env.sides.clone(),
            label: label.to_owned(),
            _input: PhantomData::<fn(I1, I2)>,
        }))
    }
}

struct CoInput<I1, I2, O, F> {
    f: F,
    keyed: bool,
    down: Box<dyn Emitter<O>>,
    sides: SharedSides,
    label: String,
    _input: PhantomData<fn(I1, I2)>,
}

impl<I1: Data, I2: Data, O: Data, F: CoFunction<I1, I2, O>> CoInput<I1, I2, O, F> {
    /// Runs every record of `input` through the function for input `I`.
    fn run<I: Data>(
        &mut self,
        input: &Batch,
        out: &SharedOutput,
        mut call: impl FnMut(&mut F, I, &mut Context<'_, O>) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        if self.keyed && input.key_ends.len() != input.value_ends.len() {
            return Err(JobError::Other(format!("{} received records without keys (a host bug)", self.label)));
        }
        let mut keys = slices(&input.keys, &input.key_ends);
        for (i, bytes) in slices(&input.values, &input.value_ends).enumerate() {
            let value = decode::<I>(bytes).map_err(|e| decode_error::<I>(&self.label, e))?;
            let timestamp = input.timestamps.get(i).copied();
            out.borrow_mut().timestamp = timestamp;
            if self.keyed
                && let Some(key) = keys.next()
            {
                context::set_key(key, timestamp);
            }
            let mut ctx = Context { down: &mut *self.down, sides: &self.sides, timestamp };
            call(&mut self.f, value, &mut ctx).map_err(|e| with_label(&self.label, e))?;
        }
        Ok(())
    }
}

impl<I1: Data, I2: Data, O: Data, F: CoFunction<I1, I2, O>> ChainInput for CoInput<I1, I2, O, F> {
    fn process(&mut self, input: &Batch, _state: &KeyedState, out: &SharedOutput) -> Result<KeyedState, JobError> {
        match INPUT.with(Cell::get) {
            0 => self.run::<I1>(input, out, |f, v, ctx| f.element1(v, ctx))?,
            1 => self.run::<I2>(input, out, |f, v, ctx| f.element2(v, ctx))?,
            other => return Err(JobError::Other(format!("{} has two inputs, not input {other}", self.label))),
        }
        Ok(KeyedState::default())
    }

    fn on_timers(&mut self, timers: &Timers, out: &SharedOutput) -> Result<(), JobError> {
        let keys = slices(&timers.keys, &timers.key_ends);
        for (key, &timestamp) in keys.zip(&timers.timestamps) {
            out.borrow_mut().timestamp = Some(timestamp);
            context::set_key(key, Some(timestamp));
            let mut ctx = Context { down: &mut *self.down, sides: &self.sides, timestamp: Some(timestamp) };
            match self.f.timer(timestamp, &mut ctx) {
                Some(result) => result.map_err(|e| with_label(&self.label, e))?,
                None => return Err(JobError::Other(format!("{} sets no timers (a host bug)", self.label))),
            }
        }
        Ok(())
    }
}
