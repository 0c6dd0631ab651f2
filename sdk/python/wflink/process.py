"""Process functions: per-record functions with side outputs and access to
time (:class:`ProcessFunction`), and on keyed streams also to keyed state
and timers (:class:`KeyedProcessFunction`), as in Flink.

A process function emits in either (or both) of two ways:

- through the context: ``ctx.collect(value)``, ``ctx.output(tag, value)``;
- by returning an iterable, e.g. by ``yield``\\ ing: ``yield value`` emits
  on the main output and ``yield tag, value`` (a pair whose first item is
  an :class:`OutputTag`) on a side output, as in PyFlink.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from .context import CALL, EVENT_TIME, PROCESSING_TIME
from .msgpack import unpackb
from .state import state_id


class OutputTag:
    """Names a side output. Create it once in the build function and use it
    both to emit (``ctx.output(tag, value)``) and to read the side output
    stream (``stream.get_side_output(tag)``)."""

    __slots__ = ("name", "id")

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError("an OutputTag needs a non-empty str name")
        #: The tag's name (unique within the job).
        self.name = name
        #: The tag id in the plan and in side records.
        self.id = state_id(name)

    def __repr__(self):
        return f"OutputTag({self.name!r})"


class ProcessFunction:
    """A per-record function with side outputs and access to time (Flink's
    ``ProcessFunction``). Subclass it and define :meth:`process_element`,
    or pass a plain function ``f(value, ctx)`` to ``stream.process``."""

    def process_element(self, value: Any, ctx: Context) -> Optional[Iterable[Any]]:
        """Handles one record; emit through ``ctx`` or return an iterable."""
        raise NotImplementedError


class KeyedProcessFunction:
    """A per-record function on a keyed stream with keyed state (attributes
    holding :class:`~wflink.ValueState` and friends, created in
    ``__init__``), timers and side outputs (Flink's ``KeyedProcessFunction``)."""

    def process_element(self, value: Any, ctx: Context) -> Optional[Iterable[Any]]:
        """Handles one record of the current key; emit through ``ctx`` or
        return an iterable."""
        raise NotImplementedError

    def on_timer(self, timestamp: int, ctx: Context) -> Optional[Iterable[Any]]:
        """Called when a timer of the current key fires; ``timestamp`` is the
        time it was registered for. Emit as in :meth:`process_element`."""
        return None


class Context:
    """What a process function gets with each record or timer: emit main and
    side output records, read the time and (keyed) the key, set timers."""

    __slots__ = ("_values", "_stamps", "_timestamp", "_sides", "_domain")

    def __init__(self, sides: dict) -> None:
        self._values = None
        self._stamps = None
        self._timestamp = None
        self._domain = None
        self._sides = sides

    def _bind(self, values, stamps):
        self._values = values
        self._stamps = stamps

    def collect(self, value: Any) -> None:
        """Emits ``value`` on the main output, with the current record's timestamp."""
        self._values.append(value)
        if self._stamps is not None:
            self._stamps.append(self._timestamp)

    def output(self, tag: OutputTag, value: Any) -> None:
        """Emits ``value`` on the side output ``tag`` (dropped when no stream
        reads that side output)."""
        buffer = self._sides.get(tag.id)
        if buffer is not None:
            buffer.append(value)

    def _emit_all(self, result):
        """Emits what a function returned: None, or an iterable of values
        and ``(tag, value)`` pairs."""
        if result is None:
            return
        values, sides = self._values, self._sides
        for item in result:
            if type(item) is tuple and len(item) == 2 and type(item[0]) is OutputTag:
                buffer = sides.get(item[0].id)
                if buffer is not None:
                    buffer.append(item[1])
            else:
                values.append(item)
                if self._stamps is not None:
                    self._stamps.append(self._timestamp)

    def timestamp(self) -> Optional[int]:
        """The event timestamp (ms) of the current record, or the firing time
        of the current timer; None when the record has none."""
        return self._timestamp

    def current_watermark(self) -> int:
        """The current event-time watermark in ms (``-2**63`` before the first)."""
        return CALL.watermark

    def current_processing_time(self) -> int:
        """The wall clock in ms since the epoch, as of this call."""
        return CALL.processing_time

    def current_key(self) -> Any:
        """The key of the current record or timer (keyed functions only)."""
        CALL.require_keyed()
        return unpackb(CALL.key)

    def time_domain(self) -> Optional[str]:
        """In ``on_timer``: ``"event-time"`` or ``"processing-time"``."""
        return self._domain

    def register_event_time_timer(self, timestamp: int) -> None:
        """Calls ``on_timer`` once the watermark reaches ``timestamp`` (keyed only).
        Registering the same time twice keeps one timer."""
        CALL.register_timer(EVENT_TIME, timestamp)

    def register_processing_time_timer(self, timestamp: int) -> None:
        """Calls ``on_timer`` once the wall clock reaches ``timestamp`` (keyed only)."""
        CALL.register_timer(PROCESSING_TIME, timestamp)

    def delete_event_time_timer(self, timestamp: int) -> None:
        """Deletes an event-time timer of the current key (keyed only)."""
        CALL.delete_timer(EVENT_TIME, timestamp)

    def delete_processing_time_timer(self, timestamp: int) -> None:
        """Deletes a processing-time timer of the current key (keyed only)."""
        CALL.delete_timer(PROCESSING_TIME, timestamp)

    def timer_service(self) -> Context:
        """PyFlink's spelling: the timer methods live on the context itself."""
        return self
