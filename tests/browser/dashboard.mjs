// Drives the wflink dashboard end to end in Debian's chromium (run by
// tests/dashboard.rs against a real cluster). Environment:
//   DASHBOARD_URL  http://127.0.0.1:PORT of the JobManager's REST server
//   WASM           the wordcount component to upload
//   SOCKET_PORT    a port where the test serves lines of words
//   SCREENSHOTS    folder for one screenshot per page
//   SAVEPOINT_DIR  a directory for the savepoint triggered from the job page
// Prints what it checks; exits non-zero on the first failed check.
import { readFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { check, openChromium } from './chromium.mjs';

const url = process.env.DASHBOARD_URL;
const wasm = process.env.WASM;
const socketPort = process.env.SOCKET_PORT;
const shots = process.env.SCREENSHOTS;
const savepointDir = process.env.SAVEPOINT_DIR;
const TIMEOUT = 30_000;
const number = (text) => Number(String(text).replace(/[^0-9]/g, ''));

const { page, close } = await openChromium(shots, { viewport: { width: 1280, height: 860 } });
const consoleErrors = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));
// The refused upload's 400 is logged by the browser as a failed resource; script errors are not expected.
page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text()); });
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

try {
  // Overview: the TaskManager and its 2 slots.
  await page.goto(`${url}/#/overview`);
  await page.locator('#card-taskmanagers .value', { hasText: '1' }).waitFor();
  check(number(await page.locator('#card-slots-total .value').textContent()) === 2, 'overview shows 1 TaskManager with 2 slots');
  const uptime = await page.locator('#card-uptime .value').textContent();
  check(/^\d+(s|m)/.test(uptime), `overview shows the JobManager's uptime: ${uptime}`);
  await shot('01-overview');

  // Submit page: a file that is not a component is refused with the server's message next to the form.
  await page.click('a[data-nav=submit]');
  await page.locator('#drop-zone').waitFor();
  await page.setInputFiles('#jarfile', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a component\n') });
  const error = page.locator('#upload-error');
  await error.waitFor({ state: 'visible' });
  const errorText = await error.textContent();
  check(/notes\.txt/.test(errorText) && /not a valid job component/.test(errorText), `upload error shown: ${errorText}`);
  await shot('02-submit-error');

  // Upload the component by drag and drop.
  const name = basename(wasm);
  const transfer = await page.evaluateHandle(({ b64, name }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, { type: 'application/wasm' }));
    return dt;
  }, { b64: readFileSync(wasm).toString('base64'), name });
  await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: transfer });
  const form = page.locator('form.jar', { hasText: name });
  await form.waitFor();
  check(await error.isHidden(), 'the error is cleared by a good upload');
  check(/uploaded /.test(await form.locator('h3').textContent()), 'the upload is listed with its upload time');

  // Entry, arguments, parallelism; Show Plan, then Submit.
  await form.locator('select[name=entry]').selectOption('default');
  await form.locator('input[name=programArg]').fill(`--hostname 127.0.0.1 --port ${socketPort}`);
  await form.locator('input[name=parallelism]').fill('2');
  await form.locator('button.show-plan').click();
  await form.locator('.dag g.node').first().waitFor();
  const planNodes = await form.locator('.dag g.node').count();
  check(planNodes >= 2, `Show Plan draws ${planNodes} vertices`);
  await shot('03-submit-plan');
  await form.locator('button.submit').click();
  await page.waitForURL(/#\/job\/[0-9a-f]{32}$/);
  const jid = page.url().split('/').pop();
  check(true, `submitted as job ${jid}`);

  // Running jobs lists it.
  await page.click('a[data-nav="jobs/running"]');
  const row = page.locator('#running-jobs tbody tr', { hasText: jid });
  await row.waitFor();
  await row.locator('.tag', { hasText: 'RUNNING' }).waitFor();
  check(true, 'the job is listed under Running Jobs as RUNNING');
  await shot('04-jobs-running');

  // Its DAG: as many nodes as the JobGraph has vertices, edges labelled with the API's ship strategies.
  await row.click();
  await page.locator('#job-state .tag', { hasText: 'RUNNING' }).waitFor();
  const plan = (await (await page.request.get(`${url}/jobs/${jid}/plan`)).json()).plan;
  const strategies = plan.nodes.flatMap((n) => (n.inputs || []).map((i) => i.ship_strategy)).sort();
  await page.locator('#dag g.node').first().waitFor();
  check(await page.locator('#dag g.node').count() === plan.nodes.length, `the DAG has the JobGraph's ${plan.nodes.length} vertices`);
  const labels = (await page.locator('#dag .edge-label').allTextContents()).sort();
  check(JSON.stringify(labels) === JSON.stringify(strategies), `edges labelled ${labels.join(', ')}`);
  check(labels.includes('HASH'), 'the keyBy edge is HASH');
  const chained = await page.locator('#dag g.node').evaluateAll((nodes) => nodes.map((n) => n.querySelectorAll('text.op').length));
  check(chained.some((n) => n > 1), `chained operators drawn inside one node (${chained.join(', ')} operators per node)`);

  // Counters increase while the socket feeds words (live refresh, no reload).
  const sent = () => page.locator('#vertices tbody tr').first().locator('td').nth(4).textContent().then(number);
  const first = await sent();
  await page.waitForFunction((before) => {
    const cell = document.querySelectorAll('#vertices tbody tr')[0]?.querySelectorAll('td')[4];
    return cell && Number(cell.textContent.replace(/[^0-9]/g, '')) > before;
  }, first, { timeout: TIMEOUT });
  const second = await sent();
  check(second > first, `records sent by the source rise without reload: ${first} -> ${second}`);
  await page.waitForFunction(() => {
    const cell = document.querySelectorAll('#vertices tbody tr')[0]?.querySelectorAll('td')[7];
    return cell && Number(cell.textContent.replace(/[^0-9]/g, '')) > 0;
  }, null, { timeout: TIMEOUT });
  check(true, `the source shows ${await page.locator('#vertices tbody tr').first().locator('td').nth(7).textContent()} records/s`);

  // Subtasks with their TaskManager.
  const tms = (await (await page.request.get(`${url}/taskmanagers`)).json()).taskmanagers;
  await page.locator('#subtasks tbody tr').first().waitFor();
  const tmCells = await page.locator('#subtasks tbody tr td:nth-child(3)').allTextContents();
  check(tmCells.length > 0 && tmCells.every((c) => c === tms[0].id), `subtasks run on TaskManager ${tms[0].id}`);
  // Each subtask's back pressure (level and share), busy and idle shares and watermark; each vertex's low watermark.
  const pressure = await page.locator('#subtasks tbody tr td:nth-child(10)').first().textContent();
  check(/^(ok|low|high) \d/.test(pressure), `a subtask's back pressure shows as "${pressure}"`);
  const busy = await page.locator('#subtasks tbody tr td:nth-child(11)').first().textContent();
  check(/%$/.test(busy), `a subtask's busy share shows as "${busy}"`);
  const headers = await page.locator('#vertices thead th').allTextContents();
  check(headers.includes('Low watermark'), 'the vertices show their low watermark');
  const subtaskHeaders = await page.locator('#subtasks thead th').allTextContents();
  check(subtaskHeaders.includes('Watermark'), 'the subtasks show their watermark');
  // The selected vertex's records/s chart gains a point each refresh.
  await page.waitForFunction(() => {
    const line = document.querySelector('#rate-chart polyline.rate.out');
    return line && line.getAttribute('points').split(' ').length >= 2;
  }, null, { timeout: TIMEOUT });
  check(true, `the records/s chart draws: ${await page.locator('#rate-caption').textContent()}`);
  await page.locator('#dag g.node').last().click();
  await page.locator('#subtasks h2, h2', { hasText: 'Subtasks of' }).first().waitFor();
  await page.waitForTimeout(0);
  await shot('05-job-overview');

  // Savepoint from the job page: the JobManager takes it and the form shows where it went.
  await page.fill('#savepoint-dir', savepointDir);
  await page.click('#trigger-savepoint');
  await page.waitForFunction(() => {
    const s = document.querySelector('#savepoint-status');
    return s && /completed|failed|not available/i.test(s.textContent) && !/in progress|Triggering/.test(s.textContent);
  }, null, { timeout: 90_000 });
  const savepointText = await page.locator('#savepoint-status').textContent();
  const savepointClass = await page.locator('#savepoint-status').getAttribute('class');
  check(savepointClass === 'ok' && savepointText.includes(savepointDir),
    `the savepoint completed and its location is shown next to the form: ${savepointText}`);
  await shot('05b-job-savepoint');

  for (const [tab, marker, file] of [['exceptions', '#no-exceptions', '06-job-exceptions'], ['checkpoints', '#no-checkpoints, #checkpoint-counts', '07-job-checkpoints'], ['configuration', '#job-config', '08-job-configuration']]) {
    await page.click(`#tab-${tab}`);
    await page.locator(marker).first().waitFor();
    await shot(file);
  }
  // The Checkpoints tab draws the JobManager's /jobs/:id/checkpoints (Flink's shape): the
  // savepoint just taken is counted, is the latest savepoint and is in the history.
  await page.click('#tab-configuration');
  await page.click('#tab-checkpoints');
  await page.locator('#checkpoint-history tbody tr', { hasText: 'Savepoint' }).waitFor();
  check((await page.locator('#cp-completed .value').textContent()) === '1', 'the completed savepoint is counted');
  check((await page.locator('#checkpoint-latest').textContent()).includes(savepointDir), 'the latest savepoint\'s path is drawn');
  // Flink's full shape (as its documentation gives it) draws too: history, counts, latest.
  await page.route(`**/jobs/${jid}/checkpoints`, (route) => route.fulfill({ json: flinkCheckpoints() }));
  await page.click('#tab-configuration');
  await page.click('#tab-checkpoints');
  await page.locator('#cp-completed .value', { hasText: '5' }).waitFor();
  check(await page.locator('#checkpoint-history tbody tr').count() === 2, 'checkpoint history rows drawn from Flink\'s shape');
  check((await page.locator('#cp-completed .value').textContent()) === '5', 'checkpoint counts drawn');
  check(/file:\/\/\/tmp\/savepoints\/savepoint-1/.test(await page.locator('#checkpoint-latest').textContent()), 'latest savepoint path drawn');
  await shot('07b-job-checkpoints-flink-shape');
  await page.unroute(`**/jobs/${jid}/checkpoints`);
  await page.click('#tab-overview');

  // Task managers list and detail with the tasks running there.
  await page.click('a[data-nav=taskmanagers]');
  await page.locator('#taskmanagers tbody tr', { hasText: tms[0].id }).waitFor();
  check((await page.locator('#taskmanagers tbody tr').first().textContent()).includes('0 / 2'), 'the TaskManager shows 0 of 2 slots free');
  await shot('09-taskmanagers');
  await page.locator('#taskmanagers tbody tr').first().click();
  await page.locator('#tm-tasks tbody tr', { hasText: 'RUNNING' }).first().waitFor();
  check(true, 'the TaskManager page lists the tasks running on it');
  await page.locator('#tm-slots tbody tr', { hasText: jid }).first().waitFor();
  check(true, 'the TaskManager page shows the slots the job holds');
  // Its stdout (the print sink's counts) and its log, fetched from the TaskManager process.
  await page.locator('#tm-stdout-text', { hasText: /\(\w+,\d+\)/ }).waitFor();
  await page.locator('#tm-log-text', { hasText: 'registered with the resource manager' }).waitFor();
  check(true, 'the TaskManager page shows its stdout and log');
  // Paged: with Follow off (from the keyboard) and 4 KB pages the viewer shows the last 4096 bytes;
  // "Load older" (pressed with the keyboard) adds the 4096 before them.
  const outSize = async () => (await (await page.request.get(`${url}/taskmanagers/${encodeURIComponent(tms[0].id)}/logs`)).json())
    .logs.find((f) => f.name.endsWith('.out')).size;
  for (const since = Date.now(); (await outSize()) <= 8192; await page.waitForTimeout(100)) {
    if (Date.now() - since > TIMEOUT) throw new Error('the TaskManager wrote less than 8 KB of stdout');
  }
  const range = async () => (await page.locator('#tm-stdout-range').textContent()).split(' of ')[0].split('–').map(number);
  await page.locator('#tm-stdout-follow').focus();
  await page.keyboard.press('Space');
  check(!(await page.locator('#tm-stdout-follow').isChecked()), 'Follow is turned off with the keyboard');
  await page.selectOption('#tm-stdout-page-size', '4096');
  await page.waitForFunction(() => {
    const [start, end] = (document.querySelector('#tm-stdout-range')?.textContent || '').split(' of ')[0].split('–').map((t) => Number(t.replace(/[^0-9]/g, '')));
    return start > 0 && end - start === 4096;
  }, null, { timeout: TIMEOUT });
  const [tailStart, tailEnd] = await range();
  await page.locator('#tm-stdout-older').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((before) => {
    const start = Number((document.querySelector('#tm-stdout-range')?.textContent || '').split('–')[0].replace(/[^0-9]/g, ''));
    return start < before;
  }, tailStart, { timeout: TIMEOUT });
  const [olderStart, olderEnd] = await range();
  check(olderStart === Math.max(0, tailStart - 4096) && olderEnd === tailEnd,
    `Load older shows the page before: bytes ${tailStart}–${tailEnd}, then ${olderStart}–${olderEnd}`);
  await shot('10-taskmanager');

  await page.click('a[data-nav=jobmanager]');
  await page.locator('#jm-config tbody tr', { hasText: 'rest.port' }).waitFor();
  await page.locator('#jm-log-text', { hasText: 'job manager started' }).waitFor();
  await page.locator('#jm-stdout-text', { hasText: 'REST endpoint:' }).waitFor();
  check(true, 'the Job Manager page shows its log and stdout');
  await shot('11-jobmanager');

  // Cancel from the UI, confirming the dialog.
  await page.goto(`${url}/#/job/${jid}`);
  await page.locator('#job-state .tag', { hasText: 'RUNNING' }).waitFor();
  page.once('dialog', (dialog) => dialog.accept());
  await page.click('#cancel-job');
  await page.locator('#job-state .tag', { hasText: 'CANCELED' }).waitFor();
  check(await page.locator('#cancel-job').isHidden(), 'the job shows CANCELED and the Cancel button is gone');
  await shot('12-job-canceled');
  await page.click('a[data-nav="jobs/completed"]');
  await page.locator('#completed-jobs tbody tr', { hasText: jid }).locator('.tag', { hasText: 'CANCELED' }).waitFor();
  await shot('13-jobs-completed');

  // Submit again from a savepoint path: one that does not exist is refused next to the form.
  await page.click('a[data-nav=submit]');
  const again = page.locator('form.jar', { hasText: name });
  await again.locator('input[name=programArg]').fill(`--hostname 127.0.0.1 --port ${socketPort}`);
  await again.locator('input[name=savepointPath]').fill(`${savepointDir}/no-such-savepoint`);
  await again.locator('button.submit').click();
  const restoreError = again.locator('.error[role=alert]');
  await restoreError.waitFor({ state: 'visible' });
  const restoreText = await restoreError.textContent();
  check(/no-such-savepoint/.test(restoreText), `a missing savepoint is refused by name: ${restoreText}`);
  await shot('13b-submit-missing-savepoint');

  // A narrow window: the navigation wraps above the content.
  await page.setViewportSize({ width: 420, height: 800 });
  await page.click('a[data-nav=overview]');
  await page.locator('#card-taskmanagers').waitFor();
  await shot('14-overview-narrow');

  check(consoleErrors.length === 0, `no script errors in the page${consoleErrors.length ? `: ${consoleErrors.join(' | ')}` : ''}`);
  console.log(`JOB ${jid}`);
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await close();
}

/** A /jobs/:id/checkpoints answer in Flink 2.x's shape (CheckpointingStatistics). */
function flinkCheckpoints() {
  const now = Date.now();
  const entry = (id, isSavepoint, status) => ({
    className: 'completed', id, status, is_savepoint: isSavepoint, savepointFormat: isSavepoint ? 'CANONICAL' : null,
    trigger_timestamp: now - 60_000 + id * 1000, latest_ack_timestamp: now - 59_000 + id * 1000, checkpointed_size: 2048 * id,
    state_size: 4096 * id, end_to_end_duration: 120 * id, alignment_buffered: 0, processed_data: 0, persisted_data: 0,
    num_subtasks: 6, num_acknowledged_subtasks: 6, checkpoint_type: isSavepoint ? 'SAVEPOINT' : 'CHECKPOINT', tasks: {},
    external_path: isSavepoint ? 'file:///tmp/savepoints/savepoint-1' : `file:///tmp/checkpoints/chk-${id}`, discarded: false,
  });
  const stat = (min, avg, max) => ({ min, max, avg, p50: avg, p90: max, p95: max, p99: max, p999: max });
  return {
    counts: { restored: 0, total: 6, in_progress: 0, completed: 5, failed: 1 },
    summary: { checkpointed_size: stat(2048, 4096, 10240), state_size: stat(4096, 8192, 20480), end_to_end_duration: stat(120, 300, 600),
      alignment_buffered: stat(0, 0, 0), processed_data: stat(0, 0, 0), persisted_data: stat(0, 0, 0) },
    latest: { completed: entry(5, false, 'COMPLETED'), savepoint: entry(4, true, 'COMPLETED'), failed: null, restored: null },
    history: [entry(5, false, 'COMPLETED'), entry(4, true, 'COMPLETED')],
  };
}
