"""Bytewax's twin of wflink's wordcount example, for `wflink bench-languages`.

Reads INPUT line by line, splits each line into lowercased ASCII words as
guest-examples/wordcount-python does, keeps a running count per word and
emits `(word, count)` each time a word is seen, into a sink that discards
(and counts) them. One worker, as wflink's Python word count runs at p=1.
Each system keys and counts the words its own fastest way: Bytewax's
`key_on` takes only a function (called per word) and its count here is a
Python function, where wflink's example keys each word by itself and counts
on the host (`key_by().count()`, no Python call per word after tokenize).

Prints one line `job_ms MS CPU_MS WORDS`: the dataflow's run time (the
interpreter's start and the imports not counted), the CPU time the process
used meanwhile, and how many counts reached the sink.
"""

import re
import resource
import sys
import time

import bytewax.operators as op
from bytewax.connectors.files import FileSource
from bytewax.dataflow import Dataflow
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import run_main

WORD = re.compile(r"[A-Za-z0-9]+")
emitted = 0


class _Discard(StatelessSinkPartition):
    def write_batch(self, items):
        global emitted
        emitted += len(items)


class DiscardSink(DynamicSink):
    """Drops every item, counting them (wflink's `--discard`)."""

    def build(self, step_id, worker_index, worker_count):
        return _Discard()


def tokenize(line):
    return [word.lower() for word in WORD.findall(line)]


def count(state, word):
    state = (state or 0) + 1
    return state, (word, state)


def flow(path):
    dataflow = Dataflow("wordcount")
    lines = op.input("lines", dataflow, FileSource(path))
    words = op.flat_map("tokenize", lines, tokenize)
    keyed = op.key_on("key", words, lambda word: word)
    counts = op.stateful_map("count", keyed, count)
    op.output("discard", counts, DiscardSink())
    return dataflow


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    dataflow = flow(sys.argv[1])
    cpu, started = cpu_seconds(), time.perf_counter()
    run_main(dataflow)
    took, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    print(f"job_ms {took * 1e3:.0f} {cpu * 1e3:.0f} {emitted}")
