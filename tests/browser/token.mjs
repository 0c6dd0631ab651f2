// The dashboard of a cluster with a REST token (security.rest.token), in
// Debian's chromium (run by tests/dashboard.rs). Environment:
//   DASHBOARD_URL  http://127.0.0.1:PORT of the JobManager's REST server
//   TOKEN          the cluster's token
//   SCREENSHOTS    folder for the screenshots
// The page loads without the token and asks for it; a wrong one is
// refused and asked again; the right one shows the overview, the
// JobManager's log (fetched by the log viewer, and by its raw link in a
// new tab) and survives a reload in
// the same tab. Exits non-zero on the first failed check.
import { join } from 'node:path';
import { check, openChromium } from './chromium.mjs';

const url = process.env.DASHBOARD_URL;
const token = process.env.TOKEN;
const shots = process.env.SCREENSHOTS;

const { page, close } = await openChromium(shots);
const scriptErrors = [];
page.on('pageerror', (e) => scriptErrors.push(String(e)));

try {
  await page.goto(`${url}/#/overview`);
  await page.locator('#token-form').waitFor();
  check(true, 'without a token the dashboard asks for one');
  await page.screenshot({ path: join(shots, 'token-01-sign-in.png') });

  await page.fill('#rest-token', 'wrong');
  await page.click('#token-form button');
  await page.locator('#main [role=alert]', { hasText: 'wrong' }).waitFor();
  check(await page.locator('#token-form').isVisible(), 'a wrong token is refused and asked again');

  await page.fill('#rest-token', token);
  await page.click('#token-form button');
  await page.locator('#card-taskmanagers .value', { hasText: '1' }).waitFor();
  check(true, 'with the token the overview shows the TaskManager');

  await page.click('a[data-nav=jobmanager]');
  await page.locator('#jm-log-text', { hasText: 'job manager started' }).waitFor();
  check(true, "the log viewer fetches the JobManager's log with the token");

  const [tab] = await Promise.all([
    page.context().waitForEvent('page'),
    page.click('#jm-log a:text-is("raw")'),
  ]);
  await tab.waitForFunction(() => document.body && document.body.innerText.includes('job manager started'));
  check(true, "the raw log link opens the JobManager's log with the token");
  await tab.close();

  await page.reload();
  await page.locator('#jm-log-text', { hasText: 'job manager started' }).waitFor();
  check(true, 'the token is kept for the tab across a reload');
  await page.screenshot({ path: join(shots, 'token-02-signed-in.png') });
  check(scriptErrors.length === 0, `no script errors ${scriptErrors.join('; ')}`);
} finally {
  await close();
}
