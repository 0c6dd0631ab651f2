// Where a build function starts: the StreamExecutionEnvironment it
// receives creates the sources and sets the job's name and parallelism;
// `record` runs a build function into its checked plan.
//
// A build function only *records* the plan; it runs again in every task to
// find its functions, so it must have no side effects.

import { Args } from "./args.js";
import { InvalidArguments } from "./errors.js";
import { Plan, connectorOptions } from "./plan.js";
import { takeDeclared } from "./state.js";
import { DataStream } from "./stream.js";

/** A job's build function: records the dataflow on `env`; it runs in
 * every task too (to find the functions), so it must have no side effects.
 * @typedef {(env: StreamExecutionEnvironment, args: Args) => void} BuildFunction */

/** What a build function receives: create sources here, set the job name
 * and default parallelism. */
export class StreamExecutionEnvironment {
  /** A fresh environment with an empty plan (the library makes one per build run). */
  constructor() {
    this.plan = new Plan();
  }

  /** Names the job (shown by `wflink list` and the dashboard).
   * @param {string} name
   * @returns {this} */
  setJobName(name) {
    this.plan.jobName = String(name);
    return this;
  }

  /** Sets the parallelism of every node that sets none itself.
   * @param {number} parallelism at least 1
   * @returns {this} */
  setParallelism(parallelism) {
    this.plan.setParallelism(undefined, parallelism);
    return this;
  }

  /** Reads the text file (or directory) at `path`, one string per line.
   * @param {string} path
   * @returns {DataStream} */
  readTextFile(path) {
    return this.source("file", [["path", String(path)]], "Source: file");
  }

  /** Reads lines from a TCP server at `hostname:port`.
   * @param {string} hostname
   * @param {number} port
   * @returns {DataStream} */
  socketTextStream(hostname, port) {
    return this.source("socket", [["hostname", String(hostname)], ["port", String(port)]], "Source: socket");
  }

  /** Generates the numbers `0 .. count`, `rate` per second (0: unthrottled).
   * @param {number} rate
   * @param {number} count
   * @returns {DataStream} */
  datagen(rate, count) {
    return this.source("datagen", [["rate", String(rate)], ["count", String(count)]], "Source: datagen");
  }

  /** Reads the file (or directory) at `path` in `format`: `"raw"` (a
   * string per line), `"json"` (an object per line) or `"csv"` (an array of
   * fields, or an object by column with `{"csv.header": "true"}` or
   * `{"csv.columns": "a,b"}`); `options` adds connector options such as
   * `{"bad-records": "skip"}`.
   * @param {string} path
   * @param {string} [format]
   * @param {Record<string, string | number | boolean>} [options]
   * @returns {DataStream} */
  readFile(path, format = "raw", options = {}) {
    return this.source("file", connectorOptions({ path, format }, options), "Source: file");
  }

  /** Reads Kafka `topic` (comma-separated for several) from
   * `bootstrapServers`. Values are read by `format` (`"raw"`: a string;
   * `"json"`: an object; `"csv"`: an array or object); `metadata: true`
   * gives `{topic, partition, offset, timestamp, key, value, headers}`
   * instead. `startingOffsets`: `"earliest"` (default), `"latest"`,
   * `"committed"` or `"timestamp:<ms>"`; `bounded: true` stops at the end
   * the topic has at start; `options` adds any option of the README's table.
   * @param {string} bootstrapServers
   * @param {string} topic
   * @param {{format?: string, groupId?: string, startingOffsets?: string, bounded?: boolean, metadata?: boolean, options?: Record<string, string | number | boolean>}} [settings]
   * @returns {DataStream} */
  fromKafka(bootstrapServers, topic, settings = {}) {
    /** @type {Record<string, string | number | boolean>} */
    const base = { "bootstrap.servers": bootstrapServers, topic, format: settings.format ?? "raw" };
    if (settings.groupId !== undefined) base["group.id"] = settings.groupId;
    if (settings.startingOffsets !== undefined) base["starting-offsets"] = settings.startingOffsets;
    if (settings.bounded) base.bounded = true;
    if (settings.metadata) base.metadata = true;
    return this.source("kafka", connectorOptions(base, settings.options ?? {}), "Source: kafka");
  }

  /** The text source the usual example arguments name: `--input PATH` (a
   * file or directory) or `--hostname HOST --port PORT` (a socket).
   * @param {Args} args the job's arguments
   * @returns {DataStream} */
  readTextInput(args) {
    if (args.has("input")) return this.readTextFile(args.required("input"));
    if (args.has("hostname")) return this.socketTextStream(args.required("hostname"), args.requiredInt("port"));
    throw new InvalidArguments("the job needs --input PATH or --hostname HOST --port PORT");
  }

  /** Adds a source node of the host connector `name` with `options`.
   * @param {string} name the connector, e.g. `"file"`
   * @param {[string, string][]} options its settings as `[key, value]` pairs
   * @param {string} label the node's name
   * @returns {DataStream} */
  source(name, options, label) {
    return new DataStream(this.plan, this.plan.add("source", label, undefined, { name, options }));
  }
}

/** Runs `build` on `args` and returns the checked plan.
 * @param {BuildFunction} build
 * @param {Iterable<string>} args
 * @returns {Plan} */
export function record(build, args) {
  const env = new StreamExecutionEnvironment();
  takeDeclared();
  build(env, new Args(args));
  return env.plan.finish();
}
