//! The window operator: the first node of its chain (it reads a key-by).
//!
//! Built on keyed state and timers like Flink's `WindowOperator`: the
//! accumulator of each (key, window) is a state entry whose namespace is
//! the window; a timer at the window's last millisecond fires it; a
//! cleanup timer at `max_timestamp + allowed lateness` drops it. The
//! accumulators are folded in a [`KeyTable`] with no host call or
//! allocation per record. The operator keeps its tables between calls
//! when the host agrees (`keep-state`): then no state crosses the
//! boundary per batch, only restored entries once and every entry at a
//! checkpoint; otherwise the accumulators of a batch's keys travel with
//! the batch and the changed ones go back.

use std::marker::PhantomData;

use super::{TimeWindow, WindowAssigner, WindowLogic};
use crate::chain::{
    AnyEmitter, Batch, ChainEnv, ChainInput, Downstream, Emitter, KeyTable, KeyedState, Operator, SharedOutput,
    decode_error, downstream, slices,
};
use crate::codec::{decode, encode_into};
use crate::context::{self, EntryAddress, StateEntries, TimeDomain, Timers};
use crate::process::SharedSides;
use crate::{Data, JobError};

/// State id of the per-window accumulators.
pub(crate) fn acc_state_id() -> u32 {
    crate::state::state_id("window-contents")
}

/// State id of the per-key list of session windows.
pub(crate) fn sessions_state_id() -> u32 {
    crate::state::state_id("window-sessions")
}

/// The settings of a window node.
#[derive(Clone, Copy)]
pub(crate) struct WindowSettings {
    pub assigner: WindowAssigner,
    pub allowed_lateness: i64,
    pub late_tag: Option<u32>,
}

pub(crate) struct WindowOperator<T, L> {
    pub settings: WindowSettings,
    pub logic: L,
    pub _records: PhantomData<fn(T)>,
}

impl<T: Data, L: WindowLogic<T>> Operator for WindowOperator<T, L> {
    fn into_emitter(self: Box<Self>, _down: Downstream, label: &str, _env: &ChainEnv) -> Result<AnyEmitter, JobError> {
        Err(JobError::invalid_plan(format!("{label} is a window, which must start its chain (it reads a key-by)")))
    }

    fn into_input(
        self: Box<Self>,
        down: Downstream,
        label: &str,
        env: &ChainEnv,
    ) -> Result<Box<dyn ChainInput>, JobError> {
        Ok(Box::new(WindowInput {
            settings: self.settings,
            logic: self.logic,
            down: downstream::<L::Out>(down, label)?,
            sides: env.sides.clone(),
            label: label.to_owned(),
            accs: KeyTable::new(),
            sessions: KeyTable::new(),
            windows: Vec::new(),
            composite: Vec::new(),
            timers: Timers::default(),
            late: 0,
            keep: false,
            _records: PhantomData,
        }))
    }
}

struct WindowInput<T, L: WindowLogic<T>> {
    settings: WindowSettings,
    logic: L,
    down: Box<dyn Emitter<L::Out>>,
    sides: SharedSides,
    label: String,
    /// Accumulators of this call by window namespace (16 bytes) ++ key.
    accs: KeyTable<L::Acc>,
    /// Session windows of this call's keys, by key.
    sessions: KeyTable<Vec<(i64, i64)>>,
    /// Reused buffers.
    windows: Vec<TimeWindow>,
    composite: Vec<u8>,
    timers: Timers,
    /// Records dropped as late with no side output, counted per call.
    late: u64,
    /// Whether `accs` and `sessions` hold the subtask's whole window
    /// state for the life of the instance (`keep-state`).
    keep: bool,
    _records: PhantomData<fn(T)>,
}

fn composite(buf: &mut Vec<u8>, window: &TimeWindow, key: &[u8]) {
    buf.clear();
    buf.extend_from_slice(&window.namespace());
    buf.extend_from_slice(key);
}

impl<T: Data, L: WindowLogic<T>> WindowInput<T, L> {
    fn domain(&self) -> TimeDomain {
        if self.settings.assigner.event_time { TimeDomain::EventTime } else { TimeDomain::ProcessingTime }
    }

    /// Loads the accumulators and session lists that came with the call
    /// (when the state is kept: only restored entries not seen before).
    fn load(&mut self) -> Result<(), JobError> {
        if !self.keep {
            self.accs.clear();
            self.sessions.clear();
        }
        let (acc_id, sessions_id) = (acc_state_id(), sessions_state_id());
        let label = &self.label;
        let Self { accs, sessions, composite: buf, .. } = self;
        context::with(|c| {
            for (key, EntryAddress { state_id: id, namespace: ns, .. }, value) in c.raw.iter() {
                if id == acc_id {
                    let acc = decode::<L::Acc>(value).map_err(|e| state_error(label, e))?;
                    buf.clear();
                    buf.extend_from_slice(ns);
                    buf.extend_from_slice(key);
                    accs.slot(buf).value = Some(acc);
                } else if id == sessions_id {
                    let list = decode::<Vec<(i64, i64)>>(value).map_err(|e| state_error(label, e))?;
                    sessions.slot(key).value = Some(list);
                }
            }
            Ok(())
        })
    }

    /// Writes back what changed: accumulators (deleted ones as empty
    /// values), session lists, timers, the late count.
    fn store(&mut self) -> Result<(), JobError> {
        let (acc_id, sessions_id) = (acc_state_id(), sessions_state_id());
        let keep = self.keep;
        let Self { accs, sessions, timers, composite: value, .. } = self;
        // Straight into the call's outputs: no copy per changed entry.
        // Kept state stays here until a snapshot asks for it.
        context::with(|c| {
            if !keep {
                for (composite, acc) in accs.changed_all() {
                    value.clear();
                    if let Some(acc) = acc {
                        encode_into(value, acc).map_err(JobError::User)?;
                    }
                    c.direct_changes.push(
                        &composite[16..],
                        EntryAddress { state_id: acc_id, namespace: &composite[..16], user_key: &[] },
                        value,
                    );
                }
                for (key, list) in sessions.changed_all() {
                    value.clear();
                    if let Some(list) = list.filter(|l| !l.is_empty()) {
                        encode_into(value, list).map_err(JobError::User)?;
                    }
                    c.direct_changes.push(
                        key,
                        EntryAddress { state_id: sessions_id, namespace: &[], user_key: &[] },
                        value,
                    );
                }
            }
            if c.timers_registered.timestamps.is_empty() {
                std::mem::swap(&mut c.timers_registered, timers);
            } else {
                append_timers(&mut c.timers_registered, timers);
            }
            Ok::<_, JobError>(())
        })?;
        self.timers.clear();
        if self.late > 0 {
            crate::metrics::counter_add("late-records-dropped", std::mem::take(&mut self.late));
        }
        if self.keep {
            self.accs.compact_if_sparse();
            self.sessions.compact_if_sparse();
        } else {
            self.accs.clear();
            self.sessions.clear();
        }
        Ok(())
    }

    /// Emits the result of `window` for `key` from `acc`.
    fn fire(&mut self, key: &[u8], window: TimeWindow, acc: L::Acc, out: &SharedOutput) -> Result<(), JobError> {
        out.borrow_mut().timestamp = Some(window.max_timestamp());
        self.logic.emit(key, &window, acc, &mut *self.down).map_err(|e| crate::chain::with_label(&self.label, e))
    }

    fn add_to_window(
        &mut self,
        key: &[u8],
        window: TimeWindow,
        value: T,
        watermark: i64,
        out: &SharedOutput,
    ) -> Result<(), JobError> {
        composite(&mut self.composite, &window, key);
        let slot = self.accs.slot(&self.composite);
        let is_new = slot.value.is_none();
        let acc = self.logic.add(slot.value.take(), value);
        slot.value = Some(acc);
        slot.changed = true;
        let domain = self.domain();
        if is_new {
            let ns = window.namespace();
            self.timers.push(domain, window.max_timestamp(), key, &ns);
            if domain == TimeDomain::EventTime && self.settings.allowed_lateness > 0 {
                self.timers.push(domain, window.max_timestamp() + self.settings.allowed_lateness, key, &ns);
            }
        }
        if domain == TimeDomain::EventTime && window.max_timestamp() <= watermark {
            // A late record within the allowed lateness: fire again at once.
            let acc = self.accs.slot(&self.composite).value.clone().expect("just set");
            self.fire(key, window, acc, out)?;
        }
        Ok(())
    }

    /// Adds a record to its session: merges every session it touches.
    fn add_to_session(
        &mut self,
        key: &[u8],
        window: TimeWindow,
        value: T,
        watermark: i64,
        out: &SharedOutput,
    ) -> Result<(), JobError> {
        let mut list = self.sessions.slot(key).value.take().unwrap_or_default();
        let mut merged = window;
        let mut absorbed = Vec::new();
        list.retain(|&(start, end)| {
            let w = TimeWindow { start, end };
            if w.intersects(&window) {
                merged = TimeWindow { start: merged.start.min(start), end: merged.end.max(end) };
                absorbed.push(w);
                false
            } else {
                true
            }
        });
        if self.domain() == TimeDomain::EventTime
            && merged.max_timestamp() + self.settings.allowed_lateness <= watermark
        {
            list.extend(absorbed.iter().map(|w| (w.start, w.end)));
            self.sessions.slot(key).value = Some(list);
            return self.late_record(value);
        }
        let mut acc: Option<L::Acc> = None;
        for w in &absorbed {
            composite(&mut self.composite, w, key);
            let slot = self.accs.slot(&self.composite);
            if let Some(old) = slot.value.take() {
                slot.changed = true;
                acc = Some(match acc {
                    Some(a) => self.logic.merge(a, old),
                    None => old,
                });
            }
        }
        list.push((merged.start, merged.end));
        let session = self.sessions.slot(key);
        session.value = Some(list);
        session.changed = true;
        composite(&mut self.composite, &merged, key);
        let slot = self.accs.slot(&self.composite);
        let acc = self.logic.add(acc, value);
        slot.value = Some(acc);
        slot.changed = true;
        // Timers of absorbed windows find no accumulator and do nothing.
        let ns = merged.namespace();
        let domain = self.domain();
        self.timers.push(domain, merged.max_timestamp(), key, &ns);
        if domain == TimeDomain::EventTime && self.settings.allowed_lateness > 0 {
            self.timers.push(domain, merged.max_timestamp() + self.settings.allowed_lateness, key, &ns);
        }
        let _ = out;
        Ok(())
    }

    fn late_record(&mut self, value: T) -> Result<(), JobError> {
        match self.settings.late_tag {
            Some(tag) => self.sides.emit(tag, value),
            None => self.late += 1,
        }
        Ok(())
    }
}

fn state_error(label: &str, e: rmp_serde::decode::Error) -> JobError {
    JobError::Other(format!("{label} could not decode its window state: {e}"))
}

fn append_timers(to: &mut Timers, from: &Timers) {
    let keys = slices(&from.keys, &from.key_ends);
    let namespaces = slices(&from.namespaces, &from.namespace_ends);
    for (((key, ns), &ts), &domain) in keys.zip(namespaces).zip(&from.timestamps).zip(&from.domains) {
        to.push(domain, ts, key, ns);
    }
}

impl<T: Data, L: WindowLogic<T>> ChainInput for WindowInput<T, L> {
    fn keep_state(&mut self) -> bool {
        self.keep = true;
        true
    }

    fn snapshot_state(&mut self, out: &mut StateEntries) -> Result<(), JobError> {
        let (acc_id, sessions_id) = (acc_state_id(), sessions_state_id());
        let value = &mut self.composite;
        for (composite, acc) in self.accs.live() {
            value.clear();
            encode_into(value, acc).map_err(JobError::User)?;
            out.push(
                &composite[16..],
                EntryAddress { state_id: acc_id, namespace: &composite[..16], user_key: &[] },
                value,
            );
        }
        for (key, list) in self.sessions.live().filter(|(_, l)| !l.is_empty()) {
            value.clear();
            encode_into(value, list).map_err(JobError::User)?;
            out.push(key, EntryAddress { state_id: sessions_id, namespace: &[], user_key: &[] }, value);
        }
        Ok(())
    }

    fn process(&mut self, input: &Batch, _state: &KeyedState, out: &SharedOutput) -> Result<KeyedState, JobError> {
        if input.key_ends.is_empty() && !input.value_ends.is_empty() {
            return Err(JobError::Other(format!("{} received records without keys (a host bug)", self.label)));
        }
        let event_time = self.settings.assigner.event_time;
        if event_time && input.timestamps.is_empty() && !input.value_ends.is_empty() {
            return Err(JobError::user(format!(
                "{} is an event-time window but its records have no timestamps: call assign_timestamps_and_watermarks before key_by",
                self.label
            )));
        }
        self.load()?;
        let (watermark, now) = context::with(|c| (c.watermark, c.processing_time));
        let keys = slices(&input.keys, &input.key_ends);
        let values = slices(&input.values, &input.value_ends);
        let mut windows = std::mem::take(&mut self.windows);
        for (i, (key, bytes)) in keys.zip(values).enumerate() {
            let value = decode::<T>(bytes).map_err(|e| decode_error::<T>(&self.label, e))?;
            let timestamp = if event_time { input.timestamps[i] } else { now };
            self.settings.assigner.assign(timestamp, &mut windows);
            if self.settings.assigner.is_session() {
                self.add_to_session(key, windows[0], value, watermark, out)?;
                continue;
            }
            let lateness = self.settings.allowed_lateness;
            let on_time = |w: &TimeWindow| !event_time || w.max_timestamp().saturating_add(lateness) > watermark;
            let count = windows.iter().filter(|w| on_time(w)).count();
            if count == 0 {
                self.late_record(value)?;
                continue;
            }
            let mut value = Some(value);
            let mut left = count;
            for w in windows.iter().filter(|w| on_time(w)) {
                left -= 1;
                let v = if left == 0 { value.take().expect("last use") } else { value.clone().expect("kept") };
                self.add_to_window(key, *w, v, watermark, out)?;
            }
        }
        self.windows = windows;
        self.store()?;
        Ok(KeyedState::default())
    }

    fn on_timers(&mut self, timers: &Timers, out: &SharedOutput) -> Result<(), JobError> {
        self.load()?;
        let keys = slices(&timers.keys, &timers.key_ends);
        let namespaces = slices(&timers.namespaces, &timers.namespace_ends);
        let lateness = if self.settings.assigner.event_time { self.settings.allowed_lateness } else { 0 };
        for ((key, ns), &timestamp) in keys.zip(namespaces).zip(&timers.timestamps) {
            let Some(window) = TimeWindow::from_namespace(ns) else { continue };
            composite(&mut self.composite, &window, key);
            let slot = self.accs.slot(&self.composite);
            let Some(acc) = slot.value.clone() else { continue };
            let purge = timestamp >= window.max_timestamp() + lateness;
            if timestamp == window.max_timestamp() {
                if purge {
                    slot.value = None;
                    slot.changed = true;
                }
                self.fire(key, window, acc, out)?;
            } else if purge {
                slot.value = None;
                slot.changed = true;
            }
            if purge && self.settings.assigner.is_session() {
                let session = self.sessions.slot(key);
                if let Some(list) = &mut session.value {
                    list.retain(|&(s, e)| (s, e) != (window.start, window.end));
                    session.changed = true;
                    if list.is_empty() {
                        // No session left: the key's entry goes (and a
                        // kept table can drop its slot).
                        session.value = None;
                    }
                }
            }
        }
        self.store()
    }
}
