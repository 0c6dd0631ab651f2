"""A Python job of two inputs for the runtime tests: the lines
``key,timestamp_ms,amount`` of ``--a`` and ``--b``, merged with
``union``, then a running sum of the amounts per key, printed (or
written under ``--output DIR``) as ``(key,sum)`` after every record."""

from wflink import export_job


def parse(line):
    key, _, amount = line.split(",")
    return (key, int(amount))


def build(env, args):
    env.set_job_name("union-python")
    a = env.read_text_file(args.required("a")).map(parse)
    b = env.read_text_file(args.required("b")).map(parse)
    a.union(b).key_by(lambda r: r[0]).sum(1).print_or_write(args.get("output"))


Job, Operator = export_job(build)
