"""A Python job whose map raises ValueError on the line "boom"; the
runtime must fail the task with the message and the traceback."""

from wflink import export_job


def check(line):
    if line == "boom":
        raise ValueError(f"failing-python cannot handle {line!r}")
    return line


def build(env, args):
    env.set_job_name("failing-python")
    env.read_text_file(args.required("input")).map(check).name("check").print()


Job, Operator = export_job(build)
