// `node --import ./register.mjs FILE`: installs hooks.mjs.
import { register } from "node:module";

register("./hooks.mjs", import.meta.url);
