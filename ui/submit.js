// Submit New Job: upload a component (drag and drop or file picker), list
// the uploads, and per upload choose entry, arguments, parallelism and
// savepoint path, then Show Plan or Submit; or delete it.
import { api, h, fmtTime } from './app.js';
import { renderDag } from './dag.js';

export async function submitPage(main) {
  const uploadError = h('div', { class: 'error', id: 'upload-error', role: 'alert', hidden: true });
  const uploadOk = h('div', { class: 'ok', id: 'upload-ok', role: 'status' });
  const picker = h('input', { type: 'file', id: 'jarfile', accept: '.wasm,application/wasm', onchange: () => picker.files[0] && upload(picker.files[0]) });
  const drop = h('div', { class: 'drop', id: 'drop-zone' },
    h('p', {}, 'Drop a job component (.wasm) here, or ', h('label', { for: 'jarfile' }, h('strong', {}, 'choose a file')), ':'),
    picker);
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]);
  });
  const list = h('div', { id: 'jars' });
  main.replaceChildren(h('h1', {}, 'Submit New Job'), drop, uploadError, uploadOk, h('h2', {}, 'Uploaded components'), list);

  async function upload(file) {
    uploadError.hidden = true;
    uploadOk.textContent = `Uploading ${file.name}…`;
    const form = new FormData();
    form.append('jarfile', file, file.name);
    try {
      await api('/jars/upload', { method: 'POST', body: form });
      uploadOk.textContent = `Uploaded ${file.name}.`;
    } catch (e) {
      uploadOk.textContent = '';
      uploadError.textContent = `Upload of ${file.name} failed: ${e.message}`;
      uploadError.hidden = false;
    }
    picker.value = '';
    await drawList();
  }

  async function drawList() {
    const { files } = await api('/jars');
    if (files.length === 0) {
      list.replaceChildren(h('p', { class: 'panel empty' }, 'No component uploaded yet.'));
      return;
    }
    list.replaceChildren(...files.map(jarForm));
  }

  function jarForm(jar) {
    const key = jar.id.replace(/[^A-Za-z0-9]/g, '');
    const field = (name, input) => [h('label', { for: `${name}-${key}` }, name.replace(/-/g, ' ')), input];
    const entry = h('select', { id: `entry-${key}`, name: 'entry' }, jar.entry.map((e) => h('option', { value: e.name }, e.name)));
    const args = h('input', { type: 'text', id: `program-arguments-${key}`, name: 'programArg', placeholder: '--hostname localhost --port 9999' });
    const parallelism = h('input', { type: 'number', id: `parallelism-${key}`, name: 'parallelism', min: 1, placeholder: 'parallelism.default' });
    const savepoint = h('input', { type: 'text', id: `savepoint-path-${key}`, name: 'savepointPath', placeholder: 'none' });
    const error = h('div', { class: 'error', role: 'alert', hidden: true });
    const plan = h('div', { class: 'dag', hidden: true });
    const request = () => {
      const body = { entryClass: entry.value, programArg: args.value };
      if (parallelism.value) body.parallelism = Number(parallelism.value);
      if (savepoint.value.trim()) body.savepointPath = savepoint.value.trim();
      return body;
    };
    const guarded = (action) => async (e) => {
      e.preventDefault();
      error.hidden = true;
      try { await action(); } catch (err) { error.textContent = err.message; error.hidden = false; }
    };
    const post = (path) => api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request()) });
    const showPlan = guarded(async () => {
      const result = await post(`/jars/${encodeURIComponent(jar.id)}/plan`);
      plan.hidden = false;
      renderDag(plan, result.plan);
    });
    const submit = guarded(async () => {
      const { jobid } = await post(`/jars/${encodeURIComponent(jar.id)}/run`);
      location.hash = `#/job/${jobid}`;
    });
    const remove = guarded(async () => {
      if (!window.confirm(`Delete ${jar.name}?`)) return;
      await api(`/jars/${encodeURIComponent(jar.id)}`, { method: 'DELETE' });
      await drawList();
    });
    return h('form', { class: 'panel jar', 'data-jar': jar.id, 'aria-label': jar.name, onsubmit: submit },
      h('h3', {}, jar.name, ' ', h('span', { class: 'muted' }, `uploaded ${fmtTime(jar.uploaded)}`)),
      h('div', { class: 'form-grid' },
        field('entry', entry), field('program-arguments', args), field('parallelism', parallelism), field('savepoint-path', savepoint),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'show-plan', onclick: showPlan }, 'Show Plan'),
          h('button', { type: 'submit', class: 'primary submit' }, 'Submit'),
          h('button', { type: 'button', class: 'delete', onclick: remove }, 'Delete'))),
      error, plan);
  }

  await drawList();
}
