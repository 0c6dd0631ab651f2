"""Count windows on keyed streams, as Flink's ``count_window(size)`` and
``count_window(size, slide)`` and the Rust SDK's: per key, a window fires
every ``slide`` records (``size`` for tumbling ones) with the key's last
``size`` records::

    keyed.count_window(100).reduce(lambda a, b: (a[0], a[1] + b[1]))
    keyed.count_window(10, 5).process(lambda key, elements: [(key, len(elements))])

They run on the keyed running-reduce path (one state value per key,
travelling with each batch): a tumbling window folds incrementally (a
reduce or aggregate keeps one accumulator per key); a sliding one keeps
the key's last ``size`` records and folds them when it fires, as Flink's
count evictor does. Output records carry the timestamp of the record
that fired the window. A key's records short of a full window never fire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

from .errors import InvalidPlan
from .msgpack import unpackb
from .window import _MISSING, AggregateFunction, TimeWindow, _Aggregate, _Process, _Reduce

if TYPE_CHECKING:
    from .stream import DataStream, KeyedStream

#: The one window every count window of a key is reported in to the shared
#: window logic (Flink's ``GlobalWindow``): it holds all time.
GLOBAL = TimeWindow(-(2**63), 2**63 - 1)


class CountWindowedStream:
    """A keyed stream cut into count windows (see ``KeyedStream.count_window``)."""

    def __init__(self, keyed: KeyedStream, size: int, slide: int) -> None:
        for n in (size, slide):
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise InvalidPlan("a count window needs a size and a slide of at least 1 (ints)")
        self._keyed, self._size, self._slide = keyed, size, slide

    def reduce(self, reduce_function: Callable[[Any, Any], Any]) -> DataStream:
        """Folds each window's records with ``reduce_function(a, b)``;
        emits one record per window."""
        return self._build(_Reduce(reduce_function, None))

    def aggregate(self, aggregate_function: AggregateFunction) -> DataStream:
        """Aggregates each window's records with an
        :class:`~wflink.AggregateFunction`; emits its result."""
        return self._build(_Aggregate(aggregate_function, None))

    def process(self, process_function: Callable[[Any, list], Optional[Iterable[Any]]]) -> DataStream:
        """Hands each window's records, oldest first, with its key to
        ``process_function(key, elements)``, which returns an iterable of
        outputs (a generator works)."""
        return self._build(_Process(lambda key, _window, elements: process_function(key, elements)))

    def _build(self, logic):
        size, slide = self._size, self._slide
        name = f"Count Window ({size})" if size == slide else f"Count Window ({size}, slide {slide})"
        step = CountWindowStep(logic, size, slide)
        return self._keyed._then("reduce", name, step, spec=("step", None))


class CountWindowStep:
    """Counts a key's records and fires its window every ``slide`` of them.
    A key's state: ``(records since the window last fired, whether an
    accumulator is set, the accumulator of a tumbling window, the last
    ``size`` records of a sliding one)``."""

    def __init__(self, logic, size, slide):
        self.logic, self.size, self.slide = logic, size, slide

    def step(self, key: bytes, state, record):
        """Adds ``record`` to its key's window; returns the new state and
        the window's outputs if it fired (else nothing)."""
        if state is None:
            seen, has_acc, acc, last = 0, False, None, []
        else:
            seen, has_acc, acc, last = state
            last = list(last)
        seen += 1
        tumbling = self.size == self.slide
        if tumbling:
            acc, has_acc = self.logic.add(acc if has_acc else _MISSING, record), True
        else:
            if len(last) == self.size:
                del last[0]
            last.append(record)
        if seen < self.slide:
            return (seen, has_acc, acc, last), ()
        folded = _MISSING
        if tumbling:
            folded, has_acc, acc = acc, False, None
        else:
            for r in last:
                folded = self.logic.add(folded, r)
        out = () if folded is _MISSING else self.logic.emit(unpackb(key), GLOBAL, folded)
        return (0, has_acc, acc, last), out
