//! Running a chain: the user nodes of one task, composed at `open` and fed
//! one batch per `process` call.
//!
//! Layout:
//! - `batch`: the flat-buffer batch and keyed state.
//! - `emitter`: how a node hands records to the next one; `Collector`.
//! - `operator`: type-erased user nodes and how they become emitters.
//! - `reduce`, `key_table`: the keyed running reduce and its per-call state.
//! - `output`: the output buffer and the encoders that end a chain.

mod batch;
mod emitter;
mod key_table;
mod operator;
mod output;
mod reduce;

#[cfg(test)]
pub(crate) use batch::slices as batch_slices;
pub(crate) use batch::{Batch, KeyedState};
pub use emitter::Collector;
pub(crate) use operator::{
    Operator, filter_operator, flat_map_operator, key_by_operator, map_operator,
};
pub(crate) use reduce::reduce_operator;

use operator::Downstream;
use output::SharedOutput;

use crate::JobError;
use crate::builder::Recorded;
use crate::plan::Partitioning;

/// The input end of a composed chain: runs a whole batch through it.
pub(crate) trait ChainInput {
    /// Pushes every record of `input` through the chain into `out` and
    /// returns the state entries changed by this call.
    fn process(
        &mut self,
        input: &Batch,
        state: &KeyedState,
        out: &SharedOutput,
    ) -> Result<KeyedState, JobError>;
}

/// What one call returns (WIT `chain-output`).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ChainOutput {
    /// Records leaving the chain.
    pub records: Batch,
    /// State entries changed by the call.
    pub state: KeyedState,
}

/// An opened chain.
pub(crate) struct Chain {
    /// The first node, wrapping all the others.
    input: Box<dyn ChainInput>,
    /// Where the last node writes.
    out: SharedOutput,
    /// Sizes of the previous output, to allocate the next one at once.
    last_sizes: (usize, usize, usize),
}

impl Chain {
    /// Composes the chain of the user nodes `node_ids` of a recorded plan.
    pub fn open(recorded: Recorded, node_ids: &[u32]) -> Result<Chain, JobError> {
        let Recorded {
            plan,
            mut operators,
        } = recorded;
        if node_ids.is_empty() {
            return Err(JobError::invalid_plan("open needs at least one node id"));
        }
        let mut labels = Vec::with_capacity(node_ids.len());
        for (position, &id) in node_ids.iter().enumerate() {
            let Some(node) = plan.nodes.get(id as usize) else {
                return Err(JobError::invalid_plan(format!("the plan has no node {id}")));
            };
            if !node.kind.is_user_function() {
                return Err(JobError::invalid_plan(format!(
                    "node {id} '{}' is a host connector, not a user function",
                    node.name
                )));
            }
            if position > 0 {
                let previous = node_ids[position - 1];
                let forward = node.inputs.first().map(|e| (e.source, e.partitioning));
                if forward != Some((previous, Partitioning::Forward)) {
                    return Err(JobError::invalid_plan(format!(
                        "node {id} '{}' does not read node {previous} through a forward edge, so they cannot chain",
                        node.name
                    )));
                }
            }
            labels.push(format!("node {id} '{}'", node.name));
        }

        let out = SharedOutput::default();
        let mut take = |id: u32| {
            operators[id as usize].take().ok_or_else(|| {
                JobError::invalid_plan(format!("node {id} appears twice in the chain"))
            })
        };
        let mut down = Downstream::Output(out.clone());
        for (position, &id) in node_ids.iter().enumerate().skip(1).rev() {
            down = Downstream::Next(take(id)?.into_emitter(down, &labels[position])?);
        }
        let input = take(node_ids[0])?.into_input(down, &labels[0])?;
        Ok(Chain {
            input,
            out,
            last_sizes: (0, 0, 0),
        })
    }

    /// Runs one batch through the chain.
    pub fn process(&mut self, input: Batch, state: KeyedState) -> Result<ChainOutput, JobError> {
        input.check()?;
        state.check()?;
        {
            let (values, records, keys) = self.last_sizes;
            let mut out = self.out.borrow_mut();
            out.batch.clear();
            out.timestamp = None;
            out.error = None;
            out.batch.values.reserve(values);
            out.batch.value_ends.reserve(records);
            out.batch.keys.reserve(keys);
        }
        let state = self.input.process(&input, &state, &self.out)?;
        let mut out = self.out.borrow_mut();
        if let Some(error) = out.error.take() {
            out.batch = Batch::default();
            return Err(JobError::User(error));
        }
        let records = std::mem::take(&mut out.batch);
        self.last_sizes = (
            records.values.len(),
            records.value_ends.len(),
            records.keys.len(),
        );
        Ok(ChainOutput { records, state })
    }

    /// Flushes the chain at the end of input; nothing buffers yet.
    pub fn finish(&mut self) -> Result<ChainOutput, JobError> {
        Ok(ChainOutput::default())
    }
}
