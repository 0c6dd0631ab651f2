"""The host's logging and metrics imports.

The bindings are imported when the module loads: componentize-py keeps
only the modules imported while it pre-initialises the component, so an
import inside the functions would fail at run time. Outside a component
(tests of a job's functions on the host) there are no bindings, and the
functions raise a clear error.
"""

from __future__ import annotations

try:
    from wit_world.imports import logging as _logging
    from wit_world.imports import metrics as _metrics
except ImportError:  # not inside a component
    _logging = _metrics = None


def _host(module, what):
    if module is None:
        raise RuntimeError(f"{what} needs the wflink host: it works only inside a job component")
    return module


def log(level: str, message: object) -> None:
    """Writes ``message`` to the task's log; ``level`` is one of "trace",
    "debug", "info", "warn", "error"."""
    logging = _host(_logging, "log")
    logging.log(logging.Level[level.upper()], str(message))


def counter_add(name: str, delta: int) -> None:
    """Adds ``delta`` to the task's user counter ``name``; call it per batch
    or rarely, not per record."""
    _host(_metrics, "counter_add").counter_add(str(name), int(delta))
