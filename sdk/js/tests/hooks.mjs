// Module hooks that let Node run the wflink library outside a component:
// the host imports become stubs (log lines go to stderr, counters to
// `globalThis.wflinkCounters`) and `wflink` is the library in sdk/js/wflink.

const STUB = `export function log(level, message) { console.error("log", level, message); }
export function counterAdd(name, delta) {
  const c = (globalThis.wflinkCounters ??= {});
  c[name] = (c[name] ?? 0n) + delta;
}`;

/** Resolves the host's `wflink:job/...` imports to the stub and `wflink` to the library. */
export async function resolve(specifier, context, next) {
  if (specifier.startsWith("wflink:job/")) return { url: `data:text/javascript,${encodeURIComponent(STUB)}`, shortCircuit: true };
  if (specifier === "wflink") return { url: new URL("../wflink/index.js", import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
