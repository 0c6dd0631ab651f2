"""Explicit partitioning: how the records of a stream travel to the
subtasks of the next node, when the default (forward, or rebalance where
the parallelism changes; hash after a key-by) is not wanted, as in
Flink's ``DataStream``. Each method marks the stream; the edge to the
next node carries the mark, but for :meth:`partition_custom`, whose
functions run as a node at the end of the upstream chain (as the Rust
SDK's ``partition.rs``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Union

from .errors import InvalidPlan

if TYPE_CHECKING:
    from .stream import DataStream


class PartitionMethods:
    """The explicit partitionings of a :class:`~wflink.DataStream`."""

    def _partitioned(self, partitioning: str, method: str) -> DataStream:
        from .stream import DataStream

        plan, node = self._plan, self._node  # type: ignore[attr-defined]
        upstream = plan.nodes[node]
        if upstream.kind in ("key-by", "key-by-field"):
            plan.fail(
                InvalidPlan(
                    f"{method}() on the keyed stream of {upstream.label()}: a keyed stream travels by its key's hash; "
                    f"call {method}() before key_by"
                )
            )
        plan.partitionings[node] = partitioning
        return DataStream(plan, node)

    def rebalance(self) -> DataStream:
        """Sends records round-robin to every subtask of the next node."""
        return self._partitioned("rebalance", "rebalance")

    def rescale(self) -> DataStream:
        """Sends records round-robin to a subset of the next node's
        subtasks, pairing upstream and downstream subtasks pointwise (from
        2 to 4 subtasks, each upstream one feeds two; from 4 to 2, two feed
        each)."""
        return self._partitioned("rescale", "rescale")

    def shuffle(self) -> DataStream:
        """Sends each record to a random subtask of the next node."""
        return self._partitioned("shuffle", "shuffle")

    def global_(self) -> DataStream:
        """Sends every record to the first subtask of the next node
        (PyFlink's ``global``, a Python keyword: also reachable as
        ``getattr(stream, "global")()``)."""
        return self._partitioned("global", "global")

    def forward(self) -> DataStream:
        """Keeps records on their subtask: subtask ``i`` feeds subtask ``i``
        of the next node, which must have the same parallelism (else the
        plan is refused at submit, as Flink does)."""
        return self._partitioned("forward-strict", "forward")

    def partition_custom(
        self,
        partitioner: Union[Callable[[Any, int], int], Any],
        key_selector: Union[Callable[[Any], Any], Any],
    ) -> DataStream:
        """Sends each record to the subtask of the next node that
        ``partitioner`` picks (PyFlink's ``partition_custom``):
        ``key_selector(record)`` computes the record's key, and
        ``partitioner(key, num_partitions)`` returns an int from 0 to
        ``num_partitions - 1``, ``num_partitions`` being the next node's
        parallelism. Either may also be an object with PyFlink's method
        (``Partitioner.partition``, ``KeySelector.get_key``). Both run at
        the end of the upstream chain; a partition out of range, or not an
        int, fails the task naming this node::

            orders.partition_custom(lambda region, n: region % n, lambda order: order["region"])
        """
        from .stream import DataStream

        partition = partitioner if callable(partitioner) else getattr(partitioner, "partition", None)
        key = key_selector if callable(key_selector) else getattr(key_selector, "get_key", None)
        if not callable(partition) or not callable(key):
            raise TypeError(
                "partition_custom takes a partitioner (key, num_partitions) -> int and a key selector record -> key"
            )
        plan = self._plan  # type: ignore[attr-defined]
        node = plan.add("partition-custom", "Partition Custom", self._node, fn=key, spec=partition)  # type: ignore[attr-defined]
        return DataStream(plan, node)


# PyFlink spells it ``global()``, a keyword in Python source but a fine attribute name.
setattr(PartitionMethods, "global", PartitionMethods.global_)
