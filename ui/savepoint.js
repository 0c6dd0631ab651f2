// The savepoint form of the job page, on Flink's REST API:
// POST /jobs/:jid/savepoints {"target-directory", "cancel-job"} answers
// {"request-id"}; GET /jobs/:jid/savepoints/:id is polled until its
// status is COMPLETED, with either operation.location or
// operation.failure-cause. The outcome is shown next to the form; a
// JobManager without savepoints (404/405) is said so plainly.
import { api, h } from './app.js';

const POLL_MS = 1000;
const POLL_LIMIT_MS = 10 * 60 * 1000;

/** The form for job `jid`; `stale()` is true once the page was left (polling stops). */
export function savepointForm(jid, stale) {
  const dir = h('input', { type: 'text', name: 'target-directory', id: 'savepoint-dir', placeholder: 'default: execution.checkpointing.savepoint-dir',
    'aria-label': 'Savepoint directory' });
  const cancelJob = h('input', { type: 'checkbox', id: 'savepoint-cancel' });
  const trigger = h('button', { type: 'submit', id: 'trigger-savepoint' }, 'Trigger Savepoint');
  const status = h('span', { id: 'savepoint-status', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'panel savepoint', id: 'savepoint-form', onsubmit: (e) => { e.preventDefault(); run(); } },
    h('strong', {}, 'Savepoint'), dir, h('label', {}, cancelJob, ' cancel the job after it'), trigger, status);

  function show(text, kind) {
    status.textContent = text;
    status.className = kind === 'error' ? 'error' : kind === 'ok' ? 'ok' : 'muted';
  }

  async function run() {
    trigger.disabled = true;
    show('Triggering…', 'busy');
    try {
      const body = { 'cancel-job': cancelJob.checked };
      if (dir.value.trim()) body['target-directory'] = dir.value.trim();
      const { 'request-id': requestId } = await api(`/jobs/${jid}/savepoints`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      show(`Savepoint ${requestId} in progress…`, 'busy');
      const started = Date.now();
      while (!stale()) {
        const result = await api(`/jobs/${jid}/savepoints/${requestId}`);
        if (result.status && result.status.id === 'COMPLETED') {
          const op = result.operation || {};
          if (op.location) show(`Savepoint completed: ${op.location}`, 'ok');
          else show(`Savepoint failed: ${failureText(op['failure-cause'])}`, 'error');
          break;
        }
        if (Date.now() - started > POLL_LIMIT_MS) { show(`Savepoint ${requestId} still in progress after 10 minutes; check the job's checkpoints.`, 'error'); break; }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } catch (e) {
      show(e.status === 404 || e.status === 405
        ? `Savepoints are not available on this JobManager (HTTP ${e.status}: ${e.message})`
        : `Savepoint failed: ${e.message}`, 'error');
    } finally {
      trigger.disabled = false;
    }
  }

  return form;
}

/** The message of Flink's failure-cause ({class, stack-trace, serialized-throwable}). */
function failureText(cause) {
  if (!cause) return 'no cause given';
  const trace = cause['stack-trace'] || cause.message || '';
  return trace.split('\n')[0] || cause.class || JSON.stringify(cause);
}
