//! Running a chain: the user nodes of one task, composed at `open` and fed
//! one batch per `process` call.
//!
//! Layout:
//! - `batch`: the flat-buffer batch and keyed state.
//! - `emitter`: how a node hands records to the next one; `Collector`.
//! - `operator`: type-erased user nodes and how they become emitters.
//! - `reduce`, `key_table`: the keyed running reduce (and other keyed steps,
//!   e.g. count windows) and its per-call state.
//! - `output`: the output buffer and the encoders that end a chain.
//! - `timed`: timestamp assigner, process functions, side output encoders.
//! - `co`: the co-process operator of two inputs (`connect`).
//! - `broadcast`: the operator of a stream connected to a broadcast stream.

mod batch;
mod broadcast;
mod co;
mod emitter;
mod key_table;
mod operator;
mod output;
mod reduce;
mod timed;

#[cfg(test)]
pub(crate) use batch::slices as batch_slices;
pub(crate) use batch::{Batch, KeyedState, slices};
pub(crate) use broadcast::broadcast_operator;
pub(crate) use co::{co_process_operator, keyed_co_process_operator};
pub use emitter::Collector;
pub(crate) use emitter::Emitter;
pub(crate) use key_table::{KeyTable, bytes_eq};
pub(crate) use operator::{
    AnyEmitter, ChainEnv, Downstream, Operator, decode_error, downstream, filter_operator, flat_map_operator,
    key_by_operator, key_by_ref_operator, map_operator, named_fields_operator, partition_custom_operator,
};
pub(crate) use output::SharedOutput;
pub(crate) use reduce::{KeyedStep, keyed_step_operator, reduce_operator};
pub(crate) use timed::{assigner_operator, keyed_process_operator, process_operator, side_output_operator, with_label};

use crate::JobError;
use crate::builder::Recorded;
use crate::context::{self, CallOutput, StateEntries, Timers};
use crate::plan::{NodeKind, StreamPlan};
use crate::process::SideOutputs;

/// The input end of a composed chain: runs a whole batch through it.
pub(crate) trait ChainInput {
    /// Pushes every record of `input` through the chain into `out` and
    /// returns the state entries changed by this call.
    fn process(&mut self, input: &Batch, state: &KeyedState, out: &SharedOutput) -> Result<KeyedState, JobError>;

    /// Whether the input keeps its keyed state in the instance between
    /// calls from now on (the host asks once, after `open`); only inputs
    /// that can hand their whole state to [`Self::snapshot_state`] say yes.
    fn keep_state(&mut self) -> bool {
        false
    }

    /// Appends every state entry the input keeps to `out` (for a checkpoint).
    fn snapshot_state(&mut self, out: &mut StateEntries) -> Result<(), JobError> {
        let _ = out;
        Ok(())
    }

    /// Fires `timers` (keyed operators only) with the call's state loaded
    /// in the context.
    fn on_timers(&mut self, timers: &Timers, out: &SharedOutput) -> Result<(), JobError> {
        let _ = (timers, out);
        Err(JobError::Other("timers fired for a chain that sets none (a host bug)".into()))
    }
}

/// What one contextual call returns (WIT `context-output`).
#[derive(Default)]
pub(crate) struct ContextOutput {
    /// Records leaving the chain.
    pub records: Batch,
    /// State, timers and side outputs of the call.
    pub call: CallOutput,
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
    /// Composes the chain of the user nodes `node_ids` of a recorded plan
    /// (one that does not end with a partition-custom node).
    #[cfg(test)]
    pub fn open(recorded: Recorded, node_ids: &[u32]) -> Result<Chain, JobError> {
        Chain::open_with(recorded, node_ids, 0)
    }

    /// Composes the chain of the user nodes `node_ids` of a recorded plan;
    /// a partition-custom node ending it picks among `custom_partitions`
    /// (WIT `subtask-info.custom-partitions`).
    pub fn open_with(recorded: Recorded, node_ids: &[u32], custom_partitions: u32) -> Result<Chain, JobError> {
        let Recorded { plan, mut operators } = recorded;
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
                let input = node.inputs.first().map(|e| (e.source, e.partitioning.is_forward()));
                if input != Some((previous, true)) {
                    return Err(JobError::invalid_plan(format!(
                        "node {id} '{}' does not read node {previous} through a forward edge, so they cannot chain",
                        node.name
                    )));
                }
            }
            labels.push(format!("node {id} '{}'", node.name));
        }

        let out = SharedOutput::default();
        let sides = std::rc::Rc::new(SideOutputs::default());
        let env = ChainEnv { out: out.clone(), sides, custom_partitions };
        let side_chains = side_chains(&plan, node_ids)?;
        let mut take = |id: u32| {
            operators[id as usize]
                .take()
                .ok_or_else(|| JobError::invalid_plan(format!("node {id} appears twice in the chain")))
        };
        for (tag, ids) in side_chains {
            let mut down = Downstream::Side { tag, out: out.clone() };
            for &id in ids.iter().rev() {
                let label = format!("node {id} '{}'", plan.nodes[id as usize].name);
                down = Downstream::Next(take(id)?.into_emitter(down, &label, &env)?);
            }
            let Downstream::Next(head) = down else { unreachable!("a side chain has its side-output node") };
            env.sides.emitters.borrow_mut().push((tag, head));
        }
        let mut down = Downstream::Output(out.clone());
        for (position, &id) in node_ids.iter().enumerate().skip(1).rev() {
            down = Downstream::Next(take(id)?.into_emitter(down, &labels[position], &env)?);
        }
        let input = take(node_ids[0])?.into_input(down, &labels[0], &env)?;
        Ok(Chain { input, out, last_sizes: (0, 0, 0) })
    }

    /// Runs one batch through the chain with its named state and time.
    #[cfg(test)]
    pub fn process_with_context(
        &mut self,
        input: Batch,
        state: StateEntries,
        watermark: i64,
        processing_time: i64,
    ) -> Result<ContextOutput, JobError> {
        self.process_input_with_context(input, 0, state, watermark, processing_time)
    }

    /// Runs one batch of operator input `from` (0, or 1 for the second
    /// input of a two-input operator) through the chain with its named
    /// state and time.
    pub fn process_input_with_context(
        &mut self,
        input: Batch,
        from: u32,
        state: StateEntries,
        watermark: i64,
        processing_time: i64,
    ) -> Result<ContextOutput, JobError> {
        state.check().map_err(crate::error::malformed_from_host)?;
        context::begin(state, watermark, processing_time);
        co::set_input(from);
        let result = self.process(input, KeyedState::default());
        co::set_input(0);
        let call = context::end();
        Ok(ContextOutput { records: result?.records, call })
    }

    /// Asks the chain's input to keep its state between calls (WIT `keep-state`).
    pub fn keep_state(&mut self) -> bool {
        self.input.keep_state()
    }

    /// Every state entry the chain keeps (WIT `snapshot-state`).
    pub fn snapshot_state(&mut self) -> Result<StateEntries, JobError> {
        let mut entries = StateEntries::default();
        self.input.snapshot_state(&mut entries)?;
        Ok(entries)
    }

    /// Fires timers with their keys' named state.
    pub fn on_timers(
        &mut self,
        timers: Timers,
        state: StateEntries,
        watermark: i64,
        processing_time: i64,
    ) -> Result<ContextOutput, JobError> {
        state.check().map_err(crate::error::malformed_from_host)?;
        context::begin(state, watermark, processing_time);
        self.reset_output();
        let result = self.input.on_timers(&timers, &self.out);
        let call = context::end();
        result?;
        Ok(ContextOutput { records: self.take_output()?, call })
    }

    fn reset_output(&mut self) {
        let (values, records, keys) = self.last_sizes;
        let mut out = self.out.borrow_mut();
        out.batch.clear();
        out.timestamp = None;
        out.error = None;
        out.batch.values.reserve(values);
        out.batch.value_ends.reserve(records);
        out.batch.keys.reserve(keys);
    }

    fn take_output(&mut self) -> Result<Batch, JobError> {
        let mut out = self.out.borrow_mut();
        if let Some(error) = out.error.take() {
            out.batch = Batch::default();
            return Err(JobError::User(error));
        }
        let records = std::mem::take(&mut out.batch);
        self.last_sizes = (records.values.len(), records.value_ends.len(), records.keys.len());
        Ok(records)
    }

    /// Runs one batch through the chain.
    pub fn process(&mut self, input: Batch, state: KeyedState) -> Result<ChainOutput, JobError> {
        input.check().map_err(crate::error::malformed_from_host)?;
        state.check().map_err(crate::error::malformed_from_host)?;
        self.reset_output();
        let state = self.input.process(&input, &state, &self.out)?;
        let records = self.take_output()?;
        Ok(ChainOutput { records, state })
    }

    /// Flushes the chain at the end of input; nothing buffers yet.
    pub fn finish(&mut self) -> Result<ChainOutput, JobError> {
        Ok(ChainOutput::default())
    }
}

/// The side chains of the nodes `node_ids`: for each side output read
/// from one of them, its tag and the ids of the nodes that run inside this
/// chain for it (the side-output node, then maps, flat-maps and filters up
/// to the sink).
fn side_chains(plan: &StreamPlan, node_ids: &[u32]) -> Result<Vec<(u32, Vec<u32>)>, JobError> {
    let mut chains = Vec::new();
    for side in &plan.nodes {
        let NodeKind::SideOutput { tag, .. } = &side.kind else {
            continue;
        };
        if !side.inputs.iter().any(|e| node_ids.contains(&e.source)) {
            continue;
        }
        let mut ids = vec![side.id];
        let mut at = side.id;
        loop {
            let next: Vec<_> = plan.nodes.iter().filter(|n| n.inputs.iter().any(|e| e.source == at)).collect();
            match next.as_slice() {
                [n] if matches!(n.kind, NodeKind::Sink(_)) => break,
                [n] if n.kind.is_user_function() && !matches!(n.kind, NodeKind::KeyBy | NodeKind::PartitionCustom) => {
                    ids.push(n.id);
                    at = n.id;
                }
                _ => {
                    return Err(JobError::invalid_plan(format!(
                        "side output '{}' must pass through map, flat_map or filter only and end in one sink",
                        side.name
                    )));
                }
            }
        }
        chains.push((*tag, ids));
    }
    Ok(chains)
}
