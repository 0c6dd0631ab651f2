// Cluster pages: Overview, Task Managers (list and detail), Job Manager.
import { api, fileLink, h, table, tag, fmtTime, fmtDuration, fmtBytes, fmtNum, fmtPct } from './app.js';
import { jobRows, JOB_COLUMNS, isRunning } from './jobs.js';
import { logViewer } from './logs.js';

/** Overview: slots, TaskManagers, jobs by outcome, version, uptime, and the running jobs. */
export async function overviewPage(main) {
  async function draw() {
    const [o, jobs] = await Promise.all([api('/overview'), api('/jobs/overview')]);
    const card = (label, value, id) => h('div', { class: 'card', id }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
    const running = jobs.jobs.filter((j) => isRunning(j.state)).sort((a, b) => b['start-time'] - a['start-time']);
    main.replaceChildren(
      h('h1', {}, 'Overview'),
      h('div', { class: 'cards' },
        card('Task Managers', o.taskmanagers, 'card-taskmanagers'),
        card('Total slots', o['slots-total'], 'card-slots-total'),
        card('Available slots', o['slots-available'], 'card-slots-available'),
        card('Running jobs', o['jobs-running'], 'card-running'),
        card('Finished jobs', o['jobs-finished'], 'card-finished'),
        card('Canceled jobs', o['jobs-cancelled'], 'card-canceled'),
        card('Failed jobs', o['jobs-failed'], 'card-failed'),
        card('Version', o['flink-version'], 'card-version'),
        h('div', { class: 'card', id: 'card-uptime', title: `JobManager started ${fmtTime(o['jobmanager-start-time'])}` },
          h('div', { class: 'label' }, 'Uptime'), h('div', { class: 'value' }, fmtDuration(o['jobmanager-uptime'])))),
      h('h2', {}, 'Running jobs'),
      table(JOB_COLUMNS, jobRows(running), { empty: 'No job is running.', onRow: (i) => { location.hash = `#/job/${running[i].jid}`; } }));
  }
  await draw();
  return draw;
}

const TM_COLUMNS = [
  { title: 'Id' }, { title: 'Data port', num: true }, { title: 'Slots (free / total)', num: true },
  { title: 'CPU cores', num: true }, { title: 'Memory', num: true }, { title: 'Last heartbeat', num: true },
];

/** Task Managers: one row each. */
export async function taskManagersPage(main) {
  async function draw() {
    const { taskmanagers } = await api('/taskmanagers');
    main.replaceChildren(
      h('h1', {}, 'Task Managers'),
      table(TM_COLUMNS, taskmanagers.map((tm) => [
        h('a', { href: `#/taskmanager/${encodeURIComponent(tm.id)}` }, tm.id), tm.dataPort,
        `${tm.freeSlots} / ${tm.slotsNumber}`, tm.hardware.cpuCores, fmtBytes(tm.memoryConfiguration.totalFlinkMemory),
        `${fmtDuration(Math.max(0, Date.now() - tm.timeSinceLastHeartbeat))} ago`,
      ]), { id: 'taskmanagers', empty: 'No TaskManager is registered. Start one with `wflink taskmanager --jobmanager HOST:PORT`.',
        onRow: (i) => { location.hash = `#/taskmanager/${encodeURIComponent(taskmanagers[i].id)}`; } }));
  }
  await draw();
  return draw;
}

const TASK_COLUMNS = [
  { title: 'Job' }, { title: 'Subtask' }, { title: 'Status' }, { title: 'Records in', num: true }, { title: 'Records out', num: true },
  { title: 'Busy', num: true }, { title: 'Backpressured', num: true }, { title: 'Duration', num: true },
];
const SLOT_COLUMNS = [{ title: 'Slot', num: true }, { title: 'Job' }, { title: 'Tasks', num: true }, { title: 'Guest memory (used / budget)', num: true }];

/** The subtasks of running jobs placed on TaskManager `id`, as table rows (found through the jobs' vertices). */
async function tasksOn(id) {
  const jobs = await api('/jobs/overview');
  const rows = [];
  for (const job of jobs.jobs.filter((j) => isRunning(j.state))) {
    const detail = await api(`/jobs/${job.jid}`);
    for (const v of detail.vertices) {
      const vertex = await api(`/jobs/${job.jid}/vertices/${v.id}`);
      for (const s of vertex.subtasks.filter((s) => s['taskmanager-id'] === id)) {
        // Shares of the subtask's lifetime: its accumulated busy and backpressured time over its duration.
        const share = (key) => (s.duration > 0 ? Math.min(1, s.metrics[key] / s.duration) : undefined);
        rows.push([h('a', { href: `#/job/${job.jid}` }, job.name), `${v.name} (${s.subtask + 1}/${v.parallelism})`, tag(s.status),
          fmtNum(s.metrics['read-records']), fmtNum(s.metrics['write-records']),
          fmtPct(share('accumulated-busy-time')), fmtPct(share('accumulated-backpressured-time')), fmtDuration(s.duration)]);
      }
    }
  }
  return rows;
}

/** One TaskManager: its resources, slots, the subtasks running on it, its log files, stdout and log (paged). */
export async function taskManagerPage(main, [rawId], stale) {
  const id = decodeURIComponent(rawId || '');
  const base = `/taskmanagers/${encodeURIComponent(id)}`;
  const info = h('div', { class: 'panel' });
  const slots = h('div');
  const tasks = h('div');
  const files = h('div');
  const stdout = logViewer({ id: 'tm-stdout', url: `${base}/stdout`, title: `Stdout of TaskManager ${id}` });
  const log = logViewer({ id: 'tm-log', url: `${base}/log`, title: `Log of TaskManager ${id}` });
  main.replaceChildren(h('h1', {}, `Task Manager ${id}`), info, h('h2', {}, 'Slots in use'), slots, h('h2', {}, 'Tasks running here'), tasks,
    h('h2', {}, 'Stdout'), h('p', { class: 'muted' }, 'What the print sinks of its tasks write.'), stdout.element,
    h('h2', {}, 'Log'), log.element, h('h2', {}, 'Log files'), files);

  async function draw() {
    const [tm, rows, list] = await Promise.all([api(base), tasksOn(id), api(`${base}/logs`).catch((e) => e)]);
    if (stale()) return;
    const m = tm.metrics || {};
    info.replaceChildren(h('dl', { class: 'kv' },
      h('dt', {}, 'Path'), h('dd', {}, tm.path),
      h('dt', {}, 'Slots'), h('dd', {}, `${tm.freeSlots} free of ${tm.slotsNumber}`),
      h('dt', {}, 'Tasks'), h('dd', { id: 'tm-assigned' }, tm.assignedTasks),
      h('dt', {}, 'CPU cores'), h('dd', {}, tm.hardware.cpuCores),
      h('dt', {}, 'Physical memory'), h('dd', {}, fmtBytes(tm.hardware.physicalMemory)),
      h('dt', {}, 'Guest memory'), h('dd', {}, `${fmtBytes(m.heapUsed)} used of ${fmtBytes(tm.memoryConfiguration.totalFlinkMemory)}`),
      h('dt', {}, 'Process memory'), h('dd', {}, m.processMemory ? fmtBytes(m.processMemory) : '–'),
      h('dt', {}, 'Last heartbeat'), h('dd', {}, `${fmtDuration(Math.max(0, Date.now() - tm.timeSinceLastHeartbeat))} ago`)));
    slots.replaceChildren(table(SLOT_COLUMNS, (tm.allocatedSlots || []).map((s) => [
      s.index, h('a', { href: `#/job/${s.jobId}` }, h('code', {}, s.jobId)), s.tasks, `${fmtBytes(s.memoryUsed)} / ${fmtBytes(s.memoryLimit)}`,
    ]), { id: 'tm-slots', empty: 'All slots are free.' }));
    tasks.replaceChildren(table(TASK_COLUMNS, rows, { id: 'tm-tasks', empty: 'No task runs on this TaskManager.' }));
    files.replaceChildren(list instanceof Error ? h('p', { class: 'panel muted' }, list.message)
      : table([{ title: 'File' }, { title: 'Size', num: true }, { title: 'Modified' }], list.logs.map((f) => [
        fileLink(`${base}/logs/${encodeURIComponent(f.name)}`, f.name), fmtBytes(f.size), fmtTime(f.mtime),
      ]), { id: 'tm-files', empty: 'No log file.' }));
    await Promise.all([stdout.refresh(), log.refresh()]);
  }
  await draw();
  return draw;
}

/** Job Manager: the effective configuration, its log and stdout (paged). */
export async function jobManagerPage(main) {
  const config = await api('/jobmanager/config');
  const log = logViewer({ id: 'jm-log', url: '/jobmanager/log', title: 'JobManager log' });
  const stdout = logViewer({ id: 'jm-stdout', url: '/jobmanager/stdout', title: 'JobManager stdout' });
  main.replaceChildren(
    h('h1', {}, 'Job Manager'),
    h('h2', {}, 'Log'), log.element,
    h('h2', {}, 'Stdout'), stdout.element,
    h('h2', {}, 'Effective configuration'),
    table([{ title: 'Key' }, { title: 'Value' }], config.map((e) => [e.key, e.value]), { id: 'jm-config' }));
  const refresh = () => Promise.all([log.refresh(), stdout.refresh()]);
  await refresh();
  return refresh;
}
