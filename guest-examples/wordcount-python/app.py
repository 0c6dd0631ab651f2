"""Word count: splits lines into words and emits a running (word, count)
each time a word is seen — the Python twin of guest-examples/wordcount.

    --input PATH | --hostname HOST --port PORT   where lines come from
    --output DIR | --discard                     where counts go (default: print)
"""

import re

from wflink import InvalidArguments, export_job

# The ASCII rule: ASCII letters and digits make words; every other
# character (punctuation, spaces, anything non-ASCII) separates them.
WORD = re.compile(r"[A-Za-z0-9]+")


def tokenize(line):
    """The words of the line, lowercased."""
    return [word.lower() for word in WORD.findall(line)]


def build(env, args):
    env.set_job_name("wordcount")
    if "input" in args:
        lines = env.read_text_file(args.required("input"))
    elif "hostname" in args:
        lines = env.socket_text_stream(args.required("hostname"), args.required_int("port"))
    else:
        raise InvalidArguments("wordcount needs --input PATH or --hostname HOST --port PORT")
    # Each word is its own key, and the host counts them: (word, count).
    counts = lines.flat_map(tokenize).name("tokenize").key_by().count().name("count")
    if "output" in args:
        counts.write_as_text(args.required("output"))
    elif args.flag("discard"):
        counts.discard()
    else:
        counts.print()


Job, Operator = export_job(build)
