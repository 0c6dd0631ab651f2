// Word count: splits lines into words and emits a running [word, count]
// each time a word is seen — the JavaScript twin of guest-examples/wordcount.
//
//     --input PATH | --hostname HOST --port PORT   where lines come from
//     --output DIR | --discard                     where counts go (default: print)

import { InvalidArguments, exportJob } from "wflink";

// The ASCII rule: ASCII letters and digits make words; every other
// character (punctuation, spaces, anything non-ASCII) separates them.
const WORD = /[A-Za-z0-9]+/g;

// Any character that is not ASCII.
const NON_ASCII = /[^\x00-\x7f]/;

/** The words of the line, lowercased. */
function tokenize(line) {
  // An ASCII line is lowercased whole, in one native call. A line with
  // other characters is lowercased word by word instead: toLowerCase turns
  // some of them into ASCII letters (the Kelvin sign into "k").
  if (!NON_ASCII.test(line)) return line.toLowerCase().match(WORD) ?? [];
  const words = line.match(WORD);
  return words === null ? [] : words.map((w) => w.toLowerCase());
}

function build(env, args) {
  env.setJobName("wordcount");
  let lines;
  if (args.has("input")) lines = env.readTextFile(args.required("input"));
  else if (args.has("hostname")) lines = env.socketTextStream(args.required("hostname"), args.requiredInt("port"));
  else throw new InvalidArguments("wordcount needs --input PATH or --hostname HOST --port PORT");
  const counts = lines
    .flatMap(tokenize)
    .name("tokenize")
    // Each word is its own key, and the host counts them: [word, count].
    .keyBy()
    .count()
    .name("count");
  if (args.has("output")) counts.writeAsText(args.required("output"));
  else if (args.flag("discard")) counts.discard();
  else counts.print();
}

export const { job, operator } = exportJob(build);
