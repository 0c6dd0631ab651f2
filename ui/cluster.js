// Cluster pages: Overview, Task Managers (list and detail), Job Manager.
import { api, h, table, tag, fmtDuration, fmtBytes, fmtNum } from './app.js';
import { jobRows, JOB_COLUMNS, isRunning } from './jobs.js';

/** Overview: slots, TaskManagers, jobs by outcome, and the running jobs. */
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
        card('Version', o['flink-version'], 'card-version')),
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
        `${fmtDuration(tm.timeSinceLastHeartbeat)} ago`,
      ]), { id: 'taskmanagers', empty: 'No TaskManager is registered. Start one with `wflink taskmanager --jobmanager HOST:PORT`.',
        onRow: (i) => { location.hash = `#/taskmanager/${encodeURIComponent(taskmanagers[i].id)}`; } }));
  }
  await draw();
  return draw;
}

/** One TaskManager: its resources and the subtasks running on it (found through the jobs' vertices). */
export async function taskManagerPage(main, [rawId]) {
  const id = decodeURIComponent(rawId || '');
  async function draw() {
    const [tm, jobs] = await Promise.all([api(`/taskmanagers/${encodeURIComponent(id)}`), api('/jobs/overview')]);
    const tasks = [];
    for (const job of jobs.jobs.filter((j) => isRunning(j.state))) {
      const detail = await api(`/jobs/${job.jid}`);
      for (const v of detail.vertices) {
        const vertex = await api(`/jobs/${job.jid}/vertices/${v.id}`);
        for (const s of vertex.subtasks.filter((s) => s['taskmanager-id'] === id)) {
          tasks.push([h('a', { href: `#/job/${job.jid}` }, job.name), `${v.name} (${s.subtask + 1}/${v.parallelism})`, tag(s.status),
            fmtNum(s.metrics['read-records']), fmtNum(s.metrics['write-records'])]);
        }
      }
    }
    main.replaceChildren(
      h('h1', {}, `Task Manager ${tm.id}`),
      h('div', { class: 'panel' }, h('dl', { class: 'kv' },
        h('dt', {}, 'Path'), h('dd', {}, tm.path),
        h('dt', {}, 'Slots'), h('dd', {}, `${tm.freeSlots} free of ${tm.slotsNumber}`),
        h('dt', {}, 'CPU cores'), h('dd', {}, tm.hardware.cpuCores),
        h('dt', {}, 'Physical memory'), h('dd', {}, fmtBytes(tm.hardware.physicalMemory)),
        h('dt', {}, 'Memory for guests'), h('dd', {}, fmtBytes(tm.memoryConfiguration.totalFlinkMemory)),
        h('dt', {}, 'Last heartbeat'), h('dd', {}, `${fmtDuration(tm.timeSinceLastHeartbeat)} ago`))),
      h('h2', {}, 'Tasks running here'),
      table([{ title: 'Job' }, { title: 'Subtask' }, { title: 'Status' }, { title: 'Records in', num: true }, { title: 'Records out', num: true }],
        tasks, { id: 'tm-tasks', empty: 'No task runs on this TaskManager.' }),
      h('h2', {}, 'Stdout and log'),
      h('p', { class: 'panel muted' }, 'The REST API does not serve TaskManager files yet: read its stdout and log where it runs ',
        '(with `wflink cluster start`, under log/ next to the JobManager).'));
  }
  await draw();
  return draw;
}

/** Job Manager: the effective configuration. */
export async function jobManagerPage(main) {
  const config = await api('/jobmanager/config');
  main.replaceChildren(
    h('h1', {}, 'Job Manager'),
    h('h2', {}, 'Effective configuration'),
    table([{ title: 'Key' }, { title: 'Value' }], config.map((e) => [e.key, e.value]), { id: 'jm-config' }),
    h('h2', {}, 'Logs'),
    h('p', { class: 'panel muted' }, 'The REST API does not serve the JobManager log yet: read it where the JobManager runs ',
      '(with `wflink cluster start`, under log/).'));
}

