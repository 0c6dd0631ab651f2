// A paged viewer of a log or stdout file served by the REST API
// (`/jobmanager/log`, `/taskmanagers/:id/stdout`, ...): it opens on the
// tail of the file, "Load older" fetches the page before what is shown,
// and each refresh appends what was written since ("Follow" keeps the
// view at the end). Pages are fetched with ?offset=&length=; the server
// says where a page starts (X-Log-Offset) and how large the file is
// (X-Log-Size). Bytes are kept and decoded together, so a character
// split between two pages is shown whole.
import { h, fmtBytes, withToken, fileLink } from './app.js';

const PAGE_SIZES = [4096, 65536, 1048576];
/** At most this many bytes stay loaded; older ones are dropped when following. */
const MAX_LOADED = 4 * 1048576;

/** Fetches one page; resolves to { offset, size, bytes } or throws an Error with the server's message. */
async function fetchPage(url, offset, length) {
  const query = offset === null ? `length=${length}` : `offset=${offset}&length=${length}`;
  const response = await fetch(`${url}?${query}`, { headers: withToken() });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).errors.join('; '); } catch { /* not JSON */ }
    throw new Error(message);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { offset: Number(response.headers.get('X-Log-Offset') || 0), size: Number(response.headers.get('X-Log-Size') || bytes.length), bytes };
}

/**
 * A viewer of the file at `url`, titled `title`; `id` names its elements for tests.
 * Returns { element, refresh } — call refresh() to fetch what was written since.
 */
export function logViewer({ id, url, title }) {
  let start = 0, end = 0, size = 0;
  let chunks = [];
  let pageSize = PAGE_SIZES[1];
  let loaded = false;
  let busy = null; // the fetch under way: refreshes and clicks wait for it, so no page is appended twice

  const text = h('pre', { class: 'log', id: `${id}-text`, tabindex: 0, role: 'log', 'aria-label': title });
  const range = h('span', { class: 'muted', id: `${id}-range`, 'aria-live': 'polite' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const older = h('button', { type: 'button', id: `${id}-older`, onclick: () => serial(loadOlder) }, 'Load older');
  const follow = h('input', { type: 'checkbox', id: `${id}-follow`, checked: true });
  const pageSelect = h('select', { id: `${id}-page-size`, 'aria-label': 'Page size', onchange: () => { pageSize = Number(pageSelect.value); serial(reload); } },
    PAGE_SIZES.map((n) => h('option', { value: n, selected: n === pageSize }, `${fmtBytes(n)} pages`)));
  const download = fileLink(url, 'raw');
  const bar = h('div', { class: 'log-bar' }, older, pageSelect, h('label', {}, follow, ' Follow'), range, h('span', { class: 'spacer' }), download);
  const element = h('section', { class: 'log-viewer', id, 'aria-label': title }, bar, error, text);

  function draw(stickToEnd) {
    const all = new Uint8Array(end - start);
    let at = 0;
    for (const c of chunks) { all.set(c, at); at += c.length; }
    text.textContent = new TextDecoder().decode(all) || (size === 0 ? '(empty)' : '');
    range.textContent = size === 0 ? 'empty file' : `bytes ${start.toLocaleString('en-US')}–${end.toLocaleString('en-US')} of ${fmtBytes(size)}`;
    older.disabled = start === 0;
    if (stickToEnd) text.scrollTop = text.scrollHeight;
  }

  function fail(e) {
    error.textContent = e.message;
    error.hidden = false;
    older.disabled = true;
  }

  /** Loads the tail of the file. */
  async function reload() {
    try {
      const page = await fetchPage(url, null, pageSize);
      chunks = [page.bytes];
      start = page.offset; end = page.offset + page.bytes.length; size = page.size;
      error.hidden = true;
      loaded = true;
      draw(true);
    } catch (e) { fail(e); }
  }

  async function loadOlder() {
    if (start === 0) return;
    const from = Math.max(0, start - pageSize);
    try {
      const page = await fetchPage(url, from, start - from);
      chunks.unshift(page.bytes);
      start = page.offset; size = Math.max(size, page.size);
      error.hidden = true;
      const before = text.scrollHeight - text.scrollTop;
      draw(false);
      text.scrollTop = text.scrollHeight - before; // keep the lines in view where they were
    } catch (e) { fail(e); }
  }

  /** Appends what was written since the last fetch (or reloads if the file shrank). */
  async function refresh() {
    if (!loaded) return reload();
    if (!follow.checked) return;
    try {
      const page = await fetchPage(url, end, PAGE_SIZES[PAGE_SIZES.length - 1]);
      if (page.size < end) return reload(); // truncated or replaced
      size = page.size;
      if (page.bytes.length) {
        chunks.push(page.bytes);
        end += page.bytes.length;
        while (end - start > MAX_LOADED && chunks.length > 1) start += chunks.shift().length;
      }
      error.hidden = true;
      draw(true);
    } catch (e) { fail(e); }
  }

  /** Runs `step` after the fetch under way, if any. */
  function serial(step) {
    busy = (busy || Promise.resolve()).then(step, step);
    return busy;
  }

  return { element, refresh: () => serial(refresh) };
}
