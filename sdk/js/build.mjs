// Builds a JavaScript job into a component; run by `wflink build DIR` with
// the job project's own node_modules:
//
//   node build.mjs PROJECT_DIR MAIN LIBRARY_DIR WIT_DIR WORLD OUT_DIR OUT.wasm
//
// 1. esbuild bundles MAIN and everything it imports into OUT_DIR/bundle/,
//    resolving `wflink` to the library in LIBRARY_DIR (the copy this wflink
//    carries) and leaving the host's `wflink:job/...` imports to the component.
// 2. The bundle's source map is appended to it in a compact form, so the
//    library can point a stack's frames at the project's own files and lines.
// 3. componentize-js makes the bundle a component (StarlingMonkey inside).

import { mkdir, writeFile } from "node:fs/promises";
import { basename, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";

const [projectArg, main, libraryArg, witArg, worldName, outDirArg, outArg] = process.argv.slice(2);
// Absolute paths: the working directory changes before componentize-js runs.
const [projectDir, libraryDir, witPath, outDir, outPath] = [projectArg, libraryArg, witArg, outDirArg, outArg].map(
  (path) => resolve(path),
);

/** Imports a package from the project's node_modules, or exits with one line saying how to add it. */
async function fromProject(name, entry) {
  const path = join(projectDir, "node_modules", ...name.split("/"), ...entry.split("/"));
  try {
    return await import(pathToFileURL(path).href);
  } catch (error) {
    if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
    console.error(`${name} is not installed in ${projectDir}: add it to the devDependencies of its package.json (npm install --save-dev ${name})`);
    process.exit(2);
  }
}

/** Runs one phase; a failure the tool already reported ends the build with one more line. */
async function phase(what, run) {
  try {
    return await run();
  } catch (error) {
    // esbuild has printed its errors, with file, line and a code frame.
    if (!Array.isArray(error?.errors)) console.error(error);
    console.error(`${what} failed`);
    process.exit(1);
  }
}

const esbuild = await fromProject("esbuild", "lib/main.js");
const { componentize } = await fromProject("@bytecodealliance/componentize-js", "src/componentize.js");

// The bundle keeps the main module's file name: a stack frame reads
// `check@app.js:7:11`, the name the user knows.
const bundleDir = join(outDir, "bundle");
const bundlePath = join(bundleDir, basename(main));

const result = await phase(`bundling ${main} with esbuild`, () => esbuild.build({
  absWorkingDir: projectDir,
  entryPoints: [join(projectDir, main)],
  outfile: bundlePath,
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  target: "es2022",
  alias: { wflink: join(libraryDir, "index.js") },
  external: ["wflink:job/*"],
  sourcemap: "external",
  write: false,
  logLevel: "error",
}));

const code = result.outputFiles.find((f) => f.path.endsWith(".js")).text;
const map = JSON.parse(result.outputFiles.find((f) => f.path.endsWith(".map")).text);
const library = libraryDir + sep;
// Sources named as the user knows them: the project's files relative to
// it, the library's as `wflink/FILE` (whose frames a stack leaves out).
const sources = map.sources.map((source) => {
  const path = resolve(bundleDir, source);
  return path.startsWith(library) ? `wflink/${relative(library, path)}` : relative(projectDir, path);
});
const sourceMap = { file: basename(main), sources, mappings: map.mappings };
// Appended after the code, so no line of the bundle moves.
const registered = `\nglobalThis[Symbol.for("wflink.sourceMap")] = ${JSON.stringify(sourceMap)};\n`;
await mkdir(bundleDir, { recursive: true });
await writeFile(bundlePath, code + registered);

// componentize-js names a module by its path from the working directory:
// from the bundle's folder, a frame reads `app.js`, as the map expects.
process.chdir(bundleDir);
const { component } = await phase("making the bundle a component with componentize-js", () => componentize({
  sourcePath: bundlePath,
  witPath,
  worldName,
  // Jobs reach the outside world through host connectors only.
  disableFeatures: ["http", "fetch-event"],
}));
await writeFile(outPath, component);
