// Jobs: running and completed lists.
import { api, h, table, tag, fmtTime, fmtDuration, taskCounts } from './app.js';

const ENDED = ['FINISHED', 'FAILED', 'CANCELED', 'SUSPENDED'];
/** True while a job has not reached a terminal status. */
export const isRunning = (state) => !ENDED.includes(state);

export const JOB_COLUMNS = [
  { title: 'Job name' }, { title: 'Start time' }, { title: 'Duration', num: true }, { title: 'End time' },
  { title: 'Tasks' }, { title: 'Status' }, { title: 'Job id' },
];

/** The cells of Flink's job list. */
export const jobRows = (jobs) => jobs.map((j) => [
  h('a', { href: `#/job/${j.jid}` }, j.name), fmtTime(j['start-time']), fmtDuration(j.duration), fmtTime(j['end-time']),
  taskCounts(j.tasks), tag(j.state), h('code', {}, j.jid),
]);

/** `#/jobs/running` or `#/jobs/completed`. */
export async function jobsPage(main, [which = 'running']) {
  const completed = which === 'completed';
  async function draw() {
    const { jobs } = await api('/jobs/overview');
    const shown = jobs.filter((j) => isRunning(j.state) !== completed).sort((a, b) => b['start-time'] - a['start-time']);
    main.replaceChildren(
      h('h1', {}, completed ? 'Completed Jobs' : 'Running Jobs'),
      table(JOB_COLUMNS, jobRows(shown), {
        id: completed ? 'completed-jobs' : 'running-jobs',
        empty: completed ? 'No job has ended yet.' : 'No job is running. Submit one on the Submit New Job page.',
        onRow: (i) => { location.hash = `#/job/${shown[i].jid}`; },
      }));
  }
  await draw();
  return draw;
}
