"""The host's logging and metrics imports."""


def log(level, message):
    """Writes ``message`` to the task's log; ``level`` is one of "trace",
    "debug", "info", "warn", "error"."""
    from wit_world.imports import logging

    logging.log(logging.Level[level.upper()], str(message))


def counter_add(name, delta):
    """Adds ``delta`` to the task's user counter ``name``; call it per batch
    or rarely, not per record."""
    from wit_world.imports import metrics

    metrics.counter_add(str(name), int(delta))
