//! Functions of two inputs (`connect`): [`CoProcessFunction`] and, on
//! keyed connected streams, [`KeyedCoProcessFunction`], as in Flink. The
//! CoMap and CoFlatMap of [`ConnectedStreams`](crate::ConnectedStreams)
//! are co-process functions made of two closures.

use std::marker::PhantomData;

use crate::process::Context;
use crate::{Collector, JobError};

/// A function of two inputs with side outputs and access to time (Flink's
/// `CoProcessFunction`): each record of the first input goes to
/// `process_element1`, each of the second to `process_element2`, in the
/// order they reach the subtask.
pub trait CoProcessFunction<I1, I2, O>: 'static {
    /// Handles one record of the first input; emit through `ctx`.
    fn process_element1(&mut self, value: I1, ctx: &mut Context<'_, O>) -> Result<(), JobError>;
    /// Handles one record of the second input; emit through `ctx`.
    fn process_element2(&mut self, value: I2, ctx: &mut Context<'_, O>) -> Result<(), JobError>;
}

/// A function of two keyed inputs (Flink's `KeyedCoProcessFunction`):
/// the records of both inputs with one key share that key's state (fields
/// of type [`ValueState`](crate::ValueState) and friends) and timers.
pub trait KeyedCoProcessFunction<I1, I2, O>: 'static {
    /// Handles one record of the first input, for the current key.
    fn process_element1(&mut self, value: I1, ctx: &mut Context<'_, O>) -> Result<(), JobError>;
    /// Handles one record of the second input, for the current key.
    fn process_element2(&mut self, value: I2, ctx: &mut Context<'_, O>) -> Result<(), JobError>;
    /// Called when a timer of the current key fires; `timestamp` is the
    /// time it was registered for.
    fn on_timer(&mut self, timestamp: i64, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        let _ = (timestamp, ctx);
        Ok(())
    }
}

/// The co-process function of a CoMap: one closure per input.
pub(crate) struct CoMap<F1, F2, I1, I2> {
    pub f1: F1,
    pub f2: F2,
    pub _types: PhantomData<fn(I1, I2)>,
}

impl<I1, I2, O, F1, F2> CoProcessFunction<I1, I2, O> for CoMap<F1, F2, I1, I2>
where
    I1: 'static,
    I2: 'static,
    F1: FnMut(I1) -> O + 'static,
    F2: FnMut(I2) -> O + 'static,
{
    fn process_element1(&mut self, value: I1, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        ctx.collect((self.f1)(value));
        Ok(())
    }
    fn process_element2(&mut self, value: I2, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        ctx.collect((self.f2)(value));
        Ok(())
    }
}

/// The co-process function of a CoFlatMap: one closure per input, each
/// emitting into a [`Collector`].
pub(crate) struct CoFlatMap<F1, F2, I1, I2> {
    pub f1: F1,
    pub f2: F2,
    pub _types: PhantomData<fn(I1, I2)>,
}

impl<I1, I2, O, F1, F2> CoProcessFunction<I1, I2, O> for CoFlatMap<F1, F2, I1, I2>
where
    I1: 'static,
    I2: 'static,
    F1: FnMut(I1, &mut Collector<'_, O>) + 'static,
    F2: FnMut(I2, &mut Collector<'_, O>) + 'static,
{
    fn process_element1(&mut self, value: I1, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        (self.f1)(value, &mut Collector::new(&mut *ctx.down));
        Ok(())
    }
    fn process_element2(&mut self, value: I2, ctx: &mut Context<'_, O>) -> Result<(), JobError> {
        (self.f2)(value, &mut Collector::new(&mut *ctx.down));
        Ok(())
    }
}
