// The Checkpoints tab of the job page: Flink's /jobs/:jid/checkpoints —
// counts, summary, latest completed/savepoint/failed/restored, history.
import { api, h, table, tag, fmtTime, fmtDuration, fmtBytes, fmtNum } from './app.js';

/** Checkpoints take milliseconds: show them below a second. */
const fmtMs = (ms) => (ms >= 0 && ms < 1000 ? `${ms} ms` : fmtDuration(ms));

const HISTORY_COLUMNS = [
  { title: 'Id', num: true }, { title: 'Status' }, { title: 'Type' }, { title: 'Triggered' }, { title: 'Latest acknowledgement' },
  { title: 'End to end duration', num: true }, { title: 'State size', num: true }, { title: 'Acknowledged', num: true },
];

/** Renders the tab into `panel`. */
export async function drawCheckpoints(panel, jid) {
  let stats;
  try {
    stats = await api(`/jobs/${jid}/checkpoints`);
  } catch (e) {
    if (e.status !== 404) throw e;
    panel.replaceChildren(h('h2', {}, 'Checkpoints'), h('p', { class: 'panel empty', id: 'no-checkpoints' },
      `This JobManager reports no checkpoints for this job (${e.message}).`));
    return;
  }
  const counts = stats.counts || {};
  const card = (label, value, id) => h('div', { class: 'card', id }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
  const latest = stats.latest || {};
  const summary = stats.summary || {};
  const range = (s, fmt) => (s && s.max !== undefined ? `${fmt(s.min)} / ${fmt(Math.round(s.avg))} / ${fmt(s.max)}` : '–');
  const latestRows = [['Completed', latest.completed], ['Savepoint', latest.savepoint], ['Failed', latest.failed], ['Restored', latest.restored]]
    .map(([kind, c]) => [kind, c ? `#${c.id}` : 'none',
      c ? fmtTime(c.latest_ack_timestamp || c.failure_timestamp || c.restore_timestamp) : '–',
      c && c.end_to_end_duration !== undefined ? fmtMs(c.end_to_end_duration) : '–',
      c && c.state_size !== undefined ? fmtBytes(c.state_size) : '–',
      c ? (c.external_path || c.failure_message || '') : '']);
  const history = (stats.history || []).map((c) => [
    c.id, tag(c.status), c.is_savepoint ? 'Savepoint' : 'Checkpoint', fmtTime(c.trigger_timestamp), fmtTime(c.latest_ack_timestamp),
    fmtMs(c.end_to_end_duration), fmtBytes(c.state_size), `${fmtNum(c.num_acknowledged_subtasks)} / ${fmtNum(c.num_subtasks)}`,
  ]);
  panel.replaceChildren(h('h2', {}, 'Checkpoints'),
    h('div', { class: 'cards', id: 'checkpoint-counts' },
      card('Triggered', fmtNum(counts.total), 'cp-total'), card('In progress', fmtNum(counts.in_progress), 'cp-in-progress'),
      card('Completed', fmtNum(counts.completed), 'cp-completed'), card('Failed', fmtNum(counts.failed), 'cp-failed'),
      card('Restored', fmtNum(counts.restored), 'cp-restored')),
    h('h2', {}, 'Latest'),
    table([{ title: 'Kind' }, { title: 'Id' }, { title: 'Time' }, { title: 'Duration', num: true }, { title: 'State size', num: true }, { title: 'Path / cause' }],
      latestRows, { id: 'checkpoint-latest' }),
    h('h2', {}, 'Summary (min / avg / max)'),
    h('div', { class: 'panel' }, h('dl', { class: 'kv', id: 'checkpoint-summary' },
      h('dt', {}, 'State size'), h('dd', {}, range(summary.state_size, fmtBytes)),
      h('dt', {}, 'End to end duration'), h('dd', {}, range(summary.end_to_end_duration, fmtMs)))),
    h('h2', {}, 'History'),
    table(HISTORY_COLUMNS, history, { id: 'checkpoint-history', empty: 'No checkpoint has been triggered yet.' }));
}
