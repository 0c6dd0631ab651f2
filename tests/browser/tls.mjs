// The dashboard of a cluster that serves https (security.ssl.rest.enabled),
// in Debian's chromium (run by tests/tls.rs). Environment:
//   DASHBOARD_URL  https://127.0.0.1:PORT of the JobManager's REST server
//   SCREENSHOTS    folder for the screenshots
// The test's certificate authority is not one the browser knows, so its
// errors are ignored: what is checked is that the page, its scripts and
// every API call it makes work over https. Exits non-zero on the first
// failed check.
import { join } from 'node:path';
import { check, openChromium } from './chromium.mjs';

const url = process.env.DASHBOARD_URL;
const shots = process.env.SCREENSHOTS;

const { page, close } = await openChromium(shots, { ignoreHTTPSErrors: true });
const scriptErrors = [];
const insecure = [];
page.on('pageerror', (e) => scriptErrors.push(String(e)));
page.on('request', (request) => {
  if (request.url().startsWith('http://')) insecure.push(request.url());
});

try {
  check(url.startsWith('https://'), `the dashboard is at ${url}`);
  await page.goto(`${url}/#/overview`);
  await page.locator('#card-taskmanagers .value', { hasText: '2' }).waitFor();
  check(true, 'the overview shows both TaskManagers');
  await page.screenshot({ path: join(shots, 'tls-01-overview.png') });

  await page.click('a[data-nav=jobmanager]');
  await page.locator('#jm-log-text', { hasText: 'job manager started' }).waitFor();
  check(true, "the log viewer fetches the JobManager's log over https");
  check(insecure.length === 0, `no request went out in the clear ${insecure.join(' ')}`);
  check(scriptErrors.length === 0, `no script errors ${scriptErrors.join('; ')}`);
} finally {
  await close();
}
