// Job detail: header with Cancel, the savepoint form, and tabs Overview
// (DAG, vertices, subtasks), Exceptions, Checkpoints, Configuration;
// refreshed live.
import { api, h, table, tag, fmtTime, fmtDuration, fmtBytes, fmtNum, fmtPct } from './app.js';
import { renderDag, operatorsOf } from './dag.js';
import { isRunning } from './jobs.js';
import { savepointForm } from './savepoint.js';
import { drawCheckpoints } from './checkpoints.js';
import { rateChart } from './chart.js';

const VERTEX_COLUMNS = [
  { title: 'Name' }, { title: 'Status' }, { title: 'Parallelism', num: true },
  { title: 'Records received', num: true }, { title: 'Records sent', num: true },
  { title: 'Bytes received', num: true }, { title: 'Bytes sent', num: true }, { title: 'Records/s', num: true },
  { title: 'Backpressured', num: true }, { title: 'Busy', num: true }, { title: 'Low watermark', num: true },
];
const SUBTASK_COLUMNS = [
  { title: 'Subtask', num: true }, { title: 'Status' }, { title: 'Task Manager' }, { title: 'Endpoint' },
  { title: 'Records received', num: true }, { title: 'Records sent', num: true },
  { title: 'Bytes received', num: true }, { title: 'Bytes sent', num: true }, { title: 'Duration', num: true },
  { title: 'Back pressure' }, { title: 'Busy', num: true }, { title: 'Idle', num: true }, { title: 'Watermark', num: true },
];
/** Long.MIN_VALUE and Long.MAX_VALUE, as Flink's watermark endpoints write them: no watermark yet, end of input. */
const NO_WATERMARK = '-9223372036854775808';
const END_OF_TIME = '9223372036854775807';

/** A watermark as the REST API gives it (a string of ms), for a table cell. */
function fmtWatermark(value) {
  if (value === undefined || value === NO_WATERMARK) return '–';
  if (value === END_OF_TIME) return 'end of input';
  return fmtTime(Number(value));
}

/** The lowest watermark of a vertex's subtasks (`/watermarks`), as a string; none while any subtask has none. */
function lowWatermark(watermarks) {
  if (!watermarks.length || watermarks.some((w) => w.value === NO_WATERMARK)) return NO_WATERMARK;
  return watermarks.map((w) => w.value).reduce((a, b) => (BigInt(a) < BigInt(b) ? a : b));
}
const TABS = ['Overview', 'Exceptions', 'Checkpoints', 'Configuration'];

/** Rates between two samples of a vertex: records/s, and the share of time backpressured and busy. */
function rates(prev, cur, now, parallelism) {
  if (!prev || now <= prev.now) return {};
  const dt = now - prev.now;
  const m = cur.metrics, p = prev.metrics;
  const records = Math.max(m['write-records'], m['read-records']) - Math.max(p['write-records'], p['read-records']);
  const share = (key) => Math.min(1, Math.max(0, (m[key] - p[key]) / (dt * parallelism)));
  return { perSecond: (records * 1000) / dt, backpressure: share('accumulated-backpressured-time'), busy: share('accumulated-busy-time') };
}

export async function jobPage(main, [jid], stale) {
  let job = await api(`/jobs/${jid}`);
  let tab = 'Overview';
  let selected = job.vertices[0] && job.vertices[0].id;
  const samples = new Map();
  let computed = {};
  let watermarks = {};

  const title = h('h1', {}, job.name);
  const state = h('span', { id: 'job-state' });
  const times = h('span', { class: 'muted' });
  const cancelError = h('span', { class: 'error', role: 'alert', hidden: true });
  const cancel = h('button', { class: 'danger', id: 'cancel-job', type: 'button', onclick: onCancel }, 'Cancel Job');
  const head = h('div', { class: 'job-head' }, title, state, times, h('span', { class: 'spacer' }), cancel);
  const tabButtons = TABS.map((name) => h('button', { role: 'tab', type: 'button', id: `tab-${name.toLowerCase()}`,
    'aria-selected': String(name === tab), onclick: () => { tab = name; drawTabs(); refresh(); } }, name));
  const tabBar = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Job views' }, tabButtons);
  tabBar.addEventListener('keydown', (e) => {
    const i = TABS.indexOf(tab);
    const next = e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i + TABS.length - 1) % TABS.length : -1;
    if (next >= 0) { tab = TABS[next]; drawTabs(); tabButtons[next].focus(); refresh(); }
  });
  const dag = h('div', { class: 'dag', id: 'dag' });
  const vertices = h('div');
  const subtasks = h('div');
  const chart = rateChart();
  const overviewPanel = h('section', { role: 'tabpanel', 'aria-labelledby': 'tab-overview' }, dag, h('h2', {}, 'Vertices'), vertices,
    chart.element, subtasks);
  const otherPanel = h('section', { role: 'tabpanel' });
  const savepoint = savepointForm(jid, stale);
  main.replaceChildren(head, h('div', { class: 'muted' }, 'Job id ', h('code', {}, jid)), cancelError, savepoint, tabBar, overviewPanel, otherPanel);

  const updateDag = renderDag(dag, job.plan, (id) => { selected = id; refresh(); });

  function drawTabs() {
    tabButtons.forEach((b, i) => { b.setAttribute('aria-selected', String(TABS[i] === tab)); b.tabIndex = TABS[i] === tab ? 0 : -1; });
    overviewPanel.hidden = tab !== 'Overview';
    otherPanel.hidden = tab === 'Overview';
    otherPanel.setAttribute('aria-labelledby', `tab-${tab.toLowerCase()}`);
  }

  async function onCancel() {
    if (!window.confirm(`Cancel job "${job.name}" (${jid})?`)) return;
    cancel.disabled = true;
    try {
      await api(`/jobs/${jid}?mode=cancel`, { method: 'PATCH' });
      cancelError.hidden = true;
    } catch (e) {
      cancelError.textContent = `Cancel failed: ${e.message}`;
      cancelError.hidden = false;
      cancel.disabled = false;
    }
    await refresh();
  }

  function drawHeader() {
    state.replaceChildren(tag(job.state));
    times.textContent = `started ${fmtTime(job['start-time'])} · ${fmtDuration(job.duration)}`;
    cancel.hidden = !isRunning(job.state) || job.state === 'CANCELLING';
    savepoint.hidden = job.state !== 'RUNNING';
  }

  function drawVertices() {
    const meta = {};
    const rows = job.vertices.map((v) => {
      const r = computed[v.id] || {};
      const m = v.metrics;
      meta[v.id] = [`${v.status} · in ${fmtNum(m['read-records'])} · out ${fmtNum(m['write-records'])}`,
        `${r.perSecond === undefined ? '–' : fmtNum(Math.round(r.perSecond))} rec/s · busy ${fmtPct(r.busy)} · bp ${fmtPct(r.backpressure)}`];
      return [h('span', { title: v.name }, operatorsOf({ description: v.name.split(' -> ').join('<br/>') }).join(' → ')), tag(v.status), v.parallelism,
        fmtNum(m['read-records']), fmtNum(m['write-records']), fmtBytes(m['read-bytes']), fmtBytes(m['write-bytes']),
        r.perSecond === undefined ? '–' : fmtNum(Math.round(r.perSecond)), fmtPct(r.backpressure), fmtPct(r.busy),
        fmtWatermark(watermarks[v.id])];
    });
    updateDag(meta, selected);
    const index = job.vertices.findIndex((v) => v.id === selected);
    vertices.replaceChildren(table(VERTEX_COLUMNS, rows, { id: 'vertices', selected: index,
      onRow: (i) => { selected = job.vertices[i].id; refresh(); } }));
  }

  async function drawSubtasks() {
    if (!selected) { subtasks.replaceChildren(); return; }
    const path = `/jobs/${jid}/vertices/${selected}`;
    const [v, pressure, marks] = await Promise.all([api(path), api(`${path}/backpressure`), api(`${path}/watermarks`)]);
    const ratios = new Map(pressure.subtasks.map((p) => [p.subtask, p]));
    const mark = new Map(marks.map((w) => [Number(w.id.split('.')[0]), w.value]));
    subtasks.replaceChildren(h('h2', {}, `Subtasks of ${v.name}`), table(SUBTASK_COLUMNS, v.subtasks.map((s) => {
      const p = ratios.get(s.subtask);
      return [
        s.subtask + 1, tag(s.status),
        s['taskmanager-id'] ? h('a', { href: `#/taskmanager/${encodeURIComponent(s['taskmanager-id'])}` }, s['taskmanager-id']) : '–',
        s.endpoint || '–', fmtNum(s.metrics['read-records']), fmtNum(s.metrics['write-records']),
        fmtBytes(s.metrics['read-bytes']), fmtBytes(s.metrics['write-bytes']), fmtDuration(s.duration),
        p ? h('span', { class: `pressure ${p.backpressureLevel}` }, `${p.backpressureLevel} ${fmtPct(p.ratio)}`) : '–',
        p ? fmtPct(p.busyRatio) : '–', p ? fmtPct(p.idleRatio) : '–', fmtWatermark(mark.get(s.subtask)),
      ];
    }), { id: 'subtasks' }));
  }

  async function drawOther() {
    if (tab === 'Exceptions') {
      const ex = await api(`/jobs/${jid}/exceptions`);
      const entries = ex.exceptionHistory.entries;
      otherPanel.replaceChildren(h('h2', {}, 'Exceptions'), entries.length === 0
        ? h('p', { class: 'panel empty', id: 'no-exceptions' }, 'No exception: the job has not failed.')
        : entries.map((e) => h('div', { class: 'panel exception' }, h('strong', {}, e.taskName || e.exceptionName), ' ',
          h('span', { class: 'muted' }, fmtTime(e.timestamp)), h('pre', { class: 'trace' }, e.stacktrace))));
    } else if (tab === 'Checkpoints') {
      await drawCheckpoints(otherPanel, jid);
    } else if (tab === 'Configuration') {
      const kv = [['Job id', job.jid], ['Name', job.name], ['Job type', job['job-type']], ['Scheduler', job.schedulerType],
        ['Max parallelism (key groups)', job.vertices[0] ? job.vertices[0].maxParallelism : '–'],
        ...job.vertices.map((v) => [`Parallelism of ${v.name}`, v.parallelism])];
      otherPanel.replaceChildren(h('h2', {}, 'Configuration'),
        h('div', { class: 'panel' }, h('dl', { class: 'kv', id: 'job-config' }, kv.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
        h('p', { class: 'muted' }, 'The cluster-wide settings are on the ', h('a', { href: '#/jobmanager' }, 'Job Manager'), ' page.'));
    }
  }

  async function refresh() {
    job = await api(`/jobs/${jid}`);
    if (stale()) return;
    if (!isRunning(job.state)) computed = {}; // an ended job has no rate
    else for (const v of job.vertices) {
      // Metrics of remote subtasks arrive with heartbeats: a rate over less
      // than a second (a refresh after a click) would read 0, so keep the last one.
      const prev = samples.get(v.id);
      if (prev && job.now - prev.now < 1000) continue;
      computed[v.id] = rates(prev, v, job.now, v.parallelism);
      samples.set(v.id, { now: job.now, metrics: v.metrics });
    }
    // Each vertex's lowest subtask watermark (Flink's "Low Watermark"), from the server's watermark view.
    const marks = await Promise.all(job.vertices.map((v) => api(`/jobs/${jid}/vertices/${v.id}/watermarks`).catch(() => [])));
    if (stale()) return;
    watermarks = Object.fromEntries(job.vertices.map((v, i) => [v.id, lowWatermark(marks[i])]));
    drawHeader();
    drawVertices();
    const vertex = job.vertices.find((v) => v.id === selected);
    chart.element.hidden = !vertex || !isRunning(job.state);
    if (tab === 'Overview' && vertex && isRunning(job.state)) await chart.sample(jid, vertex);
    if (tab === 'Overview') await drawSubtasks(); else await drawOther();
  }

  drawTabs();
  await refresh();
  return refresh;
}
