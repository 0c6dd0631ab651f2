// Module hooks that let Node run the wflink library outside a component:
// the host imports become stubs (log lines go to stderr, counters to
// `globalThis.wflinkCounters`, the `state` import's calls to the stand-in
// host in `globalThis.wflinkStateHost`) and `wflink` is the library in
// sdk/js/wflink.

const STUB = `export function log(level, message) { console.error("log", level, message); }
export function counterAdd(name, delta) {
  const c = (globalThis.wflinkCounters ??= {});
  c[name] = (c[name] ?? 0n) + delta;
}`;

/** The `state` import: the stand-in host a test installs as
 * `globalThis.wflinkStateHost` (an object with `keys` and `scan`, as
 * tests/host.mjs's Host), or an error as outside a component. */
const STATE_STUB = `function host() {
  const h = globalThis.wflinkStateHost;
  if (h === undefined) throw new Error("the state import needs the wflink host: it works only inside a job component");
  return h;
}
export function keys(stateId, fromGroup, limit) { return host().keys(stateId, fromGroup, limit); }
export function scan(stateId, key, namespace, after, limit) { return host().scan(stateId, key, namespace, after, limit); }
export function get(stateId, key, namespace, userKey) { return host().get(stateId, key, namespace, userKey); }`;

/** Resolves the host's `wflink:job/...` imports to the stubs and `wflink` to the library. */
export async function resolve(specifier, context, next) {
  if (specifier.startsWith("wflink:job/state@")) return { url: `data:text/javascript,${encodeURIComponent(STATE_STUB)}`, shortCircuit: true };
  if (specifier.startsWith("wflink:job/")) return { url: `data:text/javascript,${encodeURIComponent(STUB)}`, shortCircuit: true };
  if (specifier === "wflink") return { url: new URL("../wflink/index.js", import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
