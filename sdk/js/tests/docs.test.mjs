// Every item the `wflink` package exports, and every public method of its
// classes, has a JSDoc comment: they are the users' API reference.

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";

import * as wflink from "wflink";

const LIBRARY = new URL("../wflink/", import.meta.url);

/** Each library file's lines. */
const files = readdirSync(LIBRARY)
  .filter((name) => name.endsWith(".js"))
  .map((name) => ({ name, lines: readFileSync(new URL(name, LIBRARY), "utf8").split("\n") }));

/** Whether a JSDoc comment (`/** ... *\/`) ends on the line before
 * `index`, skipping `//` comment lines. */
function documented(lines, index) {
  let i = index - 1;
  while (i >= 0 && lines[i].trim().startsWith("//")) i--;
  if (i < 0 || !lines[i].trim().endsWith("*/")) return false;
  while (i >= 0 && !lines[i].includes("/*")) i--;
  return i >= 0 && lines[i].trim().startsWith("/**");
}

/** Where `export class NAME` or `export function NAME` is declared. */
function declaration(name) {
  const pattern = new RegExp(`^export (class|function) ${name}\\b`);
  for (const file of files) {
    const index = file.lines.findIndex((line) => pattern.test(line));
    if (index >= 0) return { file, index };
  }
  return undefined;
}

/** The public methods of the class declared at `index`: `name(`, `static
 * name(`, `get name(` at two spaces, up to the class's closing brace. */
function methods(lines, index) {
  const out = [];
  for (let i = index + 1; i < lines.length && lines[i] !== "}"; i++) {
    const match = /^ {2}(?:static |get )?([A-Za-z]\w*)\(/.exec(lines[i]);
    if (match) out.push({ name: match[1], index: i });
  }
  return out;
}

test("every export and every public method of an exported class has a JSDoc comment", () => {
  const missing = [];
  for (const name of Object.keys(wflink)) {
    const found = declaration(name);
    assert.ok(found, `no declaration of ${name}`);
    const { file, index } = found;
    if (!documented(file.lines, index)) missing.push(`${file.name}: ${name}`);
    if (typeof wflink[name] === "function" && file.lines[index].startsWith("export class")) {
      for (const method of methods(file.lines, index)) {
        if (!documented(file.lines, method.index)) missing.push(`${file.name}: ${name}.${method.name}`);
      }
    }
  }
  assert.deepEqual(missing, []);
});
