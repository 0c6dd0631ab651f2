// Builds a JavaScript job into a component with componentize-js, from the
// job project's own node_modules; run by `wflink build DIR`.
//
//   node build.mjs PROJECT_DIR SOURCE WIT_DIR WORLD OUT.wasm

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [projectDir, sourcePath, witPath, worldName, outPath] = process.argv.slice(2);
const entry = join(projectDir, "node_modules", "@bytecodealliance", "componentize-js", "src", "componentize.js");
const { componentize } = await import(pathToFileURL(entry).href);
const { component } = await componentize({
  sourcePath,
  witPath,
  worldName,
  // Jobs reach the outside world through host connectors only.
  disableFeatures: ["http", "fetch-event"],
});
await writeFile(outPath, component);
