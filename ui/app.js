// The dashboard's router and shared helpers. Each page is a module with
// `render(main, params)` that may return a refresh function; the router
// calls it every refresh interval until the page changes (live refresh
// without reloading).
import { overviewPage, taskManagersPage, taskManagerPage, jobManagerPage } from './cluster.js';
import { jobsPage } from './jobs.js';
import { jobPage } from './job.js';
import { submitPage } from './submit.js';

/** Where the REST token (security.rest.token) is kept: this tab only, gone when it closes. */
const TOKEN_KEY = 'wflink.rest.token';

/** `headers` plus `Authorization: Bearer <token>` once a token was given. */
export function withToken(headers = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { ...headers, Authorization: `Bearer ${token}` } : headers;
}

/**
 * A link that opens a raw file of the API (a log, stdout) in a new tab. A
 * plain link sends no `Authorization` header, so once a token was given the
 * file is fetched with it and shown from memory instead.
 */
export function fileLink(url, ...children) {
  const open = (event) => {
    if (sessionStorage.getItem(TOKEN_KEY) === null) return;
    event.preventDefault();
    const tab = window.open('', '_blank'); // opened at the click, so pop-up blockers allow it
    fetch(url, { headers: withToken() })
      .then(async (response) => {
        if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
        tab.location.href = URL.createObjectURL(new Blob([await response.arrayBuffer()], { type: 'text/plain;charset=utf-8' }));
      })
      .catch((e) => { tab.document.body.textContent = `Cannot open ${url}: ${e.message}`; });
  };
  return h('a', { href: url, target: '_blank', rel: 'noopener', onclick: open }, ...children);
}

/** GETs (or sends) JSON; throws an Error with the server's message and the HTTP `status`. */
export async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: withToken(options.headers) });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!response.ok) {
    const message = body && Array.isArray(body.errors) ? body.errors.join('; ') : `${response.status} ${response.statusText}`;
    throw Object.assign(new Error(message), { status: response.status });
  }
  return body;
}

/** Builds an element: h('td', {class: 'num'}, 'text', child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A status tag coloured by state. */
export const tag = (state) => h('span', { class: `tag ${state}` }, state);

/** A table: columns [{title, num}], rows of cells; onRow(row index) makes rows clickable. */
export function table(columns, rows, { empty = 'Nothing here yet.', onRow, id, selected } = {}) {
  const head = h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : null, scope: 'col' }, c.title)));
  const body = rows.map((cells, i) => h('tr', {
    class: [onRow ? 'clickable' : '', selected === i ? 'selected' : ''].join(' ').trim() || null,
    tabindex: onRow ? 0 : null,
    onclick: onRow ? () => onRow(i) : null,
    onkeydown: onRow ? (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onRow(i); } } : null,
  }, cells.map((cell, c) => h('td', { class: columns[c].num ? 'num' : null }, cell))));
  if (rows.length === 0) body.push(h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty)));
  return h('div', { class: 'table-wrap' }, h('table', { id }, h('thead', {}, head), h('tbody', {}, body)));
}

export const fmtTime = (ms) => (ms > 0 ? new Date(ms).toLocaleString() : '–');
export function fmtDuration(ms) {
  if (!(ms >= 0)) return '–';
  const s = Math.floor(ms / 1000), d = Math.floor(s / 86400), hh = Math.floor(s / 3600) % 24, mm = Math.floor(s / 60) % 60;
  if (d) return `${d}d ${hh}h ${mm}m`;
  if (hh) return `${hh}h ${mm}m ${s % 60}s`;
  if (mm) return `${mm}m ${s % 60}s`;
  return `${s}s`;
}
export function fmtBytes(n) {
  if (!(n >= 0)) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}
export const fmtNum = (n) => (n === undefined || n === null ? '–' : Number(n).toLocaleString('en-US'));
export const fmtPct = (x) => (x === null || x === undefined || Number.isNaN(x) ? '–' : `${Math.round(x * 100)}%`);

/** Colour chips with the task counts per state (Flink's job list column). */
export function taskCounts(tasks) {
  const colors = { running: 'var(--running)', finished: 'var(--finished)', canceled: 'var(--canceled)', failed: 'var(--failed)' };
  const shown = Object.entries(tasks || {}).filter(([k, v]) => k !== 'total' && v > 0);
  return h('span', { class: 'counts', title: shown.map(([k, v]) => `${k}: ${v}`).join(', ') },
    shown.map(([k, v]) => h('span', { style: `background:${colors[k.toLowerCase()] || 'var(--other)'}` }, v)));
}

let refreshTimer = null;
let refreshMs = 3000;
let generation = 0;

async function route() {
  clearInterval(refreshTimer);
  const gen = ++generation;
  const hash = location.hash.replace(/^#\/?/, '') || 'overview';
  const parts = hash.split('/');
  const pages = {
    overview: () => overviewPage,
    jobs: () => jobsPage,
    job: () => jobPage,
    taskmanagers: () => taskManagersPage,
    taskmanager: () => taskManagerPage,
    jobmanager: () => jobManagerPage,
    submit: () => submitPage,
  };
  const page = (pages[parts[0]] || pages.overview)();
  for (const a of document.querySelectorAll('[data-nav]')) {
    const on = hash === a.dataset.nav || (parts[0] === 'job' && a.dataset.nav === 'jobs/running') || (parts[0] === 'taskmanager' && a.dataset.nav === 'taskmanagers');
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const main = document.getElementById('main');
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  const stale = () => gen !== generation;
  try {
    const refresh = await page(main, parts.slice(1), stale);
    if (typeof refresh === 'function' && !stale()) {
      refreshTimer = setInterval(async () => {
        try { await refresh(); setRefreshState(''); } catch (e) { setRefreshState(`refresh failed: ${e.message}`); }
      }, refreshMs);
    }
  } catch (e) {
    if (stale()) return;
    if (e.status === 401) main.replaceChildren(...tokenForm(e.message));
    else main.replaceChildren(h('h1', {}, 'Error'), h('p', { class: 'error', role: 'alert' }, e.message));
  }
}

/** Asks for the REST token the server wants; keeps it for this tab and shows the page again. */
function tokenForm(message) {
  const input = h('input', { type: 'password', id: 'rest-token', autocomplete: 'current-password', required: true });
  const form = h('form', {
    id: 'token-form',
    onsubmit: (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      route();
    },
  },
  h('label', { for: 'rest-token' }, 'Token '), input, ' ', h('button', { type: 'submit' }, 'Sign in'));
  const hadToken = sessionStorage.getItem(TOKEN_KEY) !== null;
  return [
    h('h1', {}, 'Sign in'),
    h('p', {}, 'This cluster requires its REST token (security.rest.token). It is kept in this tab only.'),
    hadToken ? h('p', { class: 'error', role: 'alert' }, message) : null,
    form,
  ].filter(Boolean);
}

function setRefreshState(text) { document.getElementById('refresh-state').textContent = text; }

async function start() {
  try {
    const config = await api('/config');
    refreshMs = Math.min(Math.max(config['refresh-interval'] || 3000, 500), 3000);
    if (config.features && config.features['web-submit'] === false) document.querySelector('[data-nav="submit"]')?.parentElement.remove();
    document.getElementById('version').textContent = `version ${config['flink-version']}`;
  } catch { /* the pages show their own errors */ }
  window.addEventListener('hashchange', route);
  route();
}

start();
