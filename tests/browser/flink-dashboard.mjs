// Drives Flink 2.3's own web dashboard, unmodified, against wflink (run by
// tests/flink_dashboard.rs): its static files are served by flink-proxy.mjs,
// which passes every API call to wflink. Environment:
//   FLINK_WEB      the dashboard's `web/` folder (cargo xtask install extracts it from the PyPI wheel)
//   WFLINK_URL     http://127.0.0.1:PORT of the JobManager's REST server
//   WASM           the wordcount component to upload
//   SOCKET_PORT    a port where the test serves lines of words
//   SCREENSHOTS    folder for one screenshot per page
//   NO_SUBMIT_URL  http://127.0.0.1:PORT of a second JobManager with web.submit.enable: false
// Every page of the list in issue 18 is opened with a full load; each must
// show wflink's data, raise no error toast, and every API call it makes must
// be answered. Prints what it checks; exits non-zero on the first failure.
import { join } from 'node:path';
import { check, openChromium } from './chromium.mjs';
import { serveFlinkDashboard } from './flink-proxy.mjs';

const { FLINK_WEB: web, WFLINK_URL: upstream, WASM: wasm, SOCKET_PORT: socketPort, SCREENSHOTS: shots } = process.env;
const noSubmitUpstream = process.env.NO_SUBMIT_URL;

const proxy = await serveFlinkDashboard(web, upstream);
const { page, close } = await openChromium(shots, { viewport: { width: 1400, height: 900 } });
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
const api = async (path) => (await fetch(`${upstream}${path}`)).json();
let loads = 0;

/** Opens `route` with a full page load, waits for `text`, checks calls and toasts, takes a screenshot. */
async function visit(route, texts, shot) {
  const before = proxy.calls.length;
  await page.goto(`${proxy.url}/?load=${loads++}#/${route}`);
  for (const text of [].concat(texts)) {
    await page.getByText(text, { exact: false }).first().waitFor();
  }
  // Let the page's periodic refresh run once, so late calls are judged too.
  await page.waitForTimeout(1500);
  const calls = proxy.calls.slice(before);
  const failed = calls.filter((c) => c.status >= 400);
  check(failed.length === 0, `#/${route}: every API call answered ${failed.map((c) => `${c.status} ${c.method} ${c.path}`).join(', ')}`);
  const toasts = await page.locator('.ant-notification-notice').allTextContents();
  check(toasts.length === 0, `#/${route}: no error toast ${toasts.join(' | ')}`);
  check(pageErrors.length === 0, `#/${route}: no script error ${pageErrors.join(' | ')}`);
  await page.screenshot({ path: join(shots, `flink-${shot}.png`), fullPage: true });
}

try {
  const [tm] = (await api('/taskmanagers')).taskmanagers;
  await visit('overview', ['Available Task Slots', 'Running Applications'], '01-overview');
  const slots = await page.getByText('Total Task Slots').first().locator('xpath=..').innerText();
  check(/2/.test(slots), `overview shows the 2 slots: ${slots.replace(/\s+/g, ' ')}`);
  check((await page.getByText('Submit New Job').count()) > 0, 'the menu offers Submit New Job');

  // Submit New Job: upload the component, then run it with arguments and parallelism.
  await visit('submit', 'Uploaded Jars', '02-submit');
  await page.setInputFiles('input[type=file]', wasm);
  const jarRow = page.locator('tr', { hasText: 'wordcount.wasm' }).first();
  await jarRow.waitFor();
  check(true, 'the upload is listed under Uploaded Jars');
  await jarRow.locator('td').first().click();
  await page.locator('input[formcontrolname=parallelism]:visible').fill('2');
  await page.locator('input[formcontrolname=programArgs]:visible').fill(`--hostname 127.0.0.1 --port ${socketPort}`);
  await page.getByRole('button', { name: 'Show Plan' }).first().click();
  await page.waitForTimeout(2000);
  await page.screenshot({ path: join(shots, 'flink-03-submit-plan.png'), fullPage: true });
  const planned = proxy.calls.filter((c) => /\/jars\/[^/]+\/plan/.test(c.path));
  check(planned.length > 0 && planned.every((c) => c.status === 200), `Show Plan gets the plan: ${planned.map((c) => c.path).join(', ')}`);
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Submit' }).first().click();
  await page.waitForURL(/#\/job\/running\/[0-9a-f]{32}/);
  const jid = page.url().match(/[0-9a-f]{32}/)[0];
  console.log(`JOB ${jid}`);
  check(true, `submitted as job ${jid}`);
  const job = await api(`/jobs/${jid}`);
  check(job.vertices.slice(1).every((v) => v.parallelism === 2), 'the job runs at parallelism 2 (the socket source at 1)');
  const vertex = job.vertices[job.vertices.length - 1];

  await visit('application/running', `SingleJobApplication(${job.name})`, '04-applications-running');
  await visit('job/running', [job.name, 'RUNNING'], '05-jobs-running');
  await visit(`job/running/${jid}/overview`, [vertex.name.slice(0, 20), 'Cancel Job'], '06-job-graph');
  await visit(`job/running/${jid}/overview/${vertex.id}/subtasks`, ['Subtask Metrics', 'RUNNING'], '07-vertex-subtasks');
  await visit(`job/running/${jid}/exceptions`, 'Exception History', '08-job-exceptions');
  await visit(`job/running/${jid}/configuration`, ['Execution Configuration', `${socketPort}`], '09-job-configuration');

  // Checkpoints: wait for a completed one, open it and one vertex's subtask details.
  let completed;
  for (let i = 0; i < 100 && !completed; i++) {
    completed = (await api(`/jobs/${jid}/checkpoints`)).latest.completed;
    if (!completed) await new Promise((r) => setTimeout(r, 100));
  }
  check(completed, `checkpoint ${completed?.id} completed`);
  await visit(`job/running/${jid}/checkpoints`, ['Checkpoint Counts', 'Completed'], '10-job-checkpoints');
  await page.getByText('History', { exact: true }).first().click();
  // Expand the newest checkpoint, then the vertex's row inside it: that loads its subtasks.
  await page.locator('.ant-table-row-expand-icon:visible').first().click();
  const vertexRow = page.locator('tr:visible', { hasText: vertex.name }).last();
  await vertexRow.waitFor();
  const before = proxy.calls.length;
  await vertexRow.locator('.ant-table-row-expand-icon').first().click();
  await page.waitForTimeout(1500);
  const details = proxy.calls.slice(before).filter((c) => /\/checkpoints\/details\/\d+\/subtasks\//.test(c.path));
  check(details.length > 0 && details.every((c) => c.status === 200), `the checkpoint's subtask details load: ${details.map((c) => c.path).join(', ')}`);
  const toasts = await page.locator('.ant-notification-notice').count();
  check(toasts === 0 && pageErrors.length === 0, 'the subtask details raise no toast or script error');
  await page.screenshot({ path: join(shots, 'flink-11-checkpoint-subtasks.png'), fullPage: true });

  await visit('task-manager', tm.id, '12-taskmanagers');
  await visit(`task-manager/${tm.id}/metrics`, 'Free/All Slots', '13-taskmanager-metrics');
  await visit(`task-manager/${tm.id}/logs`, 'Free/All Slots', '14-taskmanager-log');
  await visit(`task-manager/${tm.id}/stdout`, 'Free/All Slots', '15-taskmanager-stdout');
  await visit(`task-manager/${tm.id}/thread-dump`, 'a native thread', '16-taskmanager-thread-dump');
  await visit('job-manager/config', 'rest.port', '17-jobmanager-config');
  await visit('job-manager/metrics', 'Metrics', '18-jobmanager-metrics');
  await visit('job-manager/logs', 'Log List', '19-jobmanager-log');

  // Cancel from the job page: the Cancel Job button asks, then the job ends CANCELED.
  await visit(`job/running/${jid}/overview`, 'Cancel Job', '20-job-before-cancel');
  await page.getByText('Cancel Job', { exact: true }).first().click();
  await page.getByRole('button', { name: 'Yes' }).click();
  for (let i = 0; i < 200 && (await api(`/jobs/${jid}/status`)).status !== 'CANCELED'; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  check((await api(`/jobs/${jid}/status`)).status === 'CANCELED', 'Cancel Job cancelled the job');
  await visit('job/completed', [job.name, 'CANCELED'], '21-jobs-completed');
  await visit('application/completed', [`SingleJobApplication(${job.name})`, 'CANCELED'], '22-applications-completed');
  await visit(`job/completed/${jid}/overview`, 'CANCELED', '23-job-canceled');
  const served = new Set(proxy.calls.map((c) => `${c.method} ${c.path.split('?')[0].replace(/[0-9a-f]{32}/g, ':id').replace(/localhost:\d+-[0-9a-f]+/g, ':tm').replace(/\/\d+\//g, '/:n/')}`));
  console.log(`the dashboard called ${served.size} distinct URLs`);

  // A cluster with web.submit.enable: false says so in /config (features.web-submit); the dashboard hides Submit.
  const noSubmit = await serveFlinkDashboard(web, noSubmitUpstream);
  try {
    await page.goto(`${noSubmit.url}/?load=${loads++}#/overview`);
    await page.getByText('Available Task Slots').first().waitFor();
    await page.waitForTimeout(1000);
    check((await page.getByText('Submit New Job').count()) === 0, 'web.submit.enable: false hides Submit New Job');
    await page.screenshot({ path: join(shots, 'flink-24-no-submit.png'), fullPage: true });
  } finally {
    await noSubmit.close();
  }
} catch (e) {
  await page.screenshot({ path: join(shots, 'flink-failure.png'), fullPage: true }).catch(() => {});
  throw e;
} finally {
  await close();
  await proxy.close();
}
