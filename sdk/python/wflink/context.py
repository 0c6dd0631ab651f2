"""The current ``process-with-context`` or ``on-timers`` call: the named
keyed state that travelled with it, the current key and namespace, the
time, and the timers and side outputs the call produces.

There is one per component instance (an instance runs one chain), kept in
:data:`CALL`, so state handles can read "the current key's value" without
a context argument, as in Flink. Outside a keyed call there is no current
key, and state access raises :class:`StateError`.
"""

from .errors import JobError, UserError

#: The watermark before the first one (WIT ``time-context.watermark``).
MIN_WATERMARK = -(2**63)

EVENT_TIME = "event-time"
PROCESSING_TIME = "processing-time"


class StateError(UserError):
    """Keyed state or a timer was used outside a keyed function, or a stored
    value could not be decoded."""


def slices(buf, ends):
    """The pieces of a flat buffer (WIT ``*-ends`` convention), as a list."""
    return list(map(buf.__getitem__, map(slice, [0, *ends[:-1]], ends)))


class Timers:
    """Timers as flat lists: ``(domain, timestamp, key, namespace)`` each."""

    __slots__ = ("items",)

    def __init__(self):
        self.items = []

    def push(self, domain, timestamp, key, namespace):
        self.items.append((domain, timestamp, key, namespace))


class Call:
    """Everything the current call knows and produces besides its main records."""

    def __init__(self):
        self.keyed = False
        #: Key of the record or timer being processed (MessagePack bytes).
        self.key = b""
        #: Namespace of the state in use (an encoded window, or empty).
        self.namespace = b""
        self.watermark = MIN_WATERMARK
        self.processing_time = 0
        #: The state entries that came with the call (WIT ``state-entries``).
        self.raw = None
        #: ``(state id, key, namespace, user key) -> bytes or None``, built
        #: from ``raw`` on first use by a state handle.
        self.store = None
        #: Addresses written by this call.
        self.dirty = set()
        #: Entries written by operators that keep their own tables (windows):
        #: ``(state id, key, namespace, user key, bytes)``, empty bytes deletes.
        self.direct = []
        self.registered = Timers()
        self.deleted = Timers()

    def begin(self, raw, watermark, processing_time):
        """Starts a call with the state entries ``raw`` and the time."""
        self.keyed = False
        self.key = b""
        self.namespace = b""
        self.watermark = watermark
        self.processing_time = processing_time
        self.raw = raw
        self.store = None
        self.dirty = set()
        self.direct = []
        self.registered = Timers()
        self.deleted = Timers()

    def end(self):
        """Ends a call: the keyed context closes (state access fails again)."""
        self.keyed = False
        self.raw = None

    def set_key(self, key):
        """Makes ``key`` (bytes) the current key, with the empty namespace."""
        self.keyed = True
        self.key = key
        self.namespace = b""

    def clear_key(self):
        """Leaves the current key: keyed state access fails again (as for a
        broadcast record, which has no key)."""
        self.keyed = False
        self.key = b""
        self.namespace = b""

    def entries(self):
        """The entries that came with the call, as
        ``(state id, key, namespace, user key, value)`` tuples of bytes."""
        raw = self.raw
        if raw is None:
            return iter(())
        return zip(
            raw.state_ids,
            slices(raw.keys, raw.key_ends),
            slices(raw.namespaces, raw.namespace_ends),
            slices(raw.user_keys, raw.user_key_ends),
            slices(raw.values, raw.value_ends),
        )

    def require_keyed(self):
        if not self.keyed:
            raise StateError(
                "keyed state accessed outside a keyed context (use it in a keyed process function or window)"
            )

    def _loaded(self):
        if self.store is None:
            self.store = {(i, k, n, u): v for i, k, n, u, v in self.entries()}
        return self.store

    def get(self, state_id, user_key=b""):
        """The stored bytes of a state of the current key and namespace, or None."""
        self.require_keyed()
        return self._loaded().get((state_id, self.key, self.namespace, user_key))

    def set(self, state_id, user_key, value):
        """Writes (``None``: deletes) a state of the current key and namespace."""
        self.require_keyed()
        address = (state_id, self.key, self.namespace, user_key)
        self._loaded()[address] = value
        self.dirty.add(address)

    def scan(self, state_id):
        """``(user key, value)`` bytes of a map state of the current key and
        namespace, in no particular order."""
        self.require_keyed()
        key, namespace = self.key, self.namespace
        return [
            (u, v)
            for (i, k, n, u), v in self._loaded().items()
            if v is not None and i == state_id and k == key and n == namespace
        ]

    def load(self, state_id, key, entries):
        """Adds ``(user key, value)`` entries of ``state_id`` stored for
        ``key`` (empty namespace), read from the host during the call, as
        clean entries: an address the call already knows (sent with it,
        loaded before, or written) keeps what the call has."""
        store = self._loaded()
        for user_key, value in entries:
            store.setdefault((state_id, key, b"", user_key), value)

    def keys_holding(self, state_id):
        """The keys with an entry of ``state_id`` (empty namespace) in the
        call's view of the state, each once, in no particular order."""
        return list(
            dict.fromkeys(k for (i, k, n, _), v in self._loaded().items() if v is not None and i == state_id and not n)
        )

    def register_timer(self, domain, timestamp):
        self.require_keyed()
        self.registered.push(domain, int(timestamp), self.key, self.namespace)

    def delete_timer(self, domain, timestamp):
        self.require_keyed()
        self.deleted.push(domain, int(timestamp), self.key, self.namespace)

    def changes(self):
        """The entries written by the call: ``(id, key, namespace, user key,
        bytes)``, empty bytes for a deletion."""
        out = list(self.direct)
        store = self.store or {}
        for address in self.dirty:
            value = store.get(address)
            out.append((*address, value if value is not None else b""))
        return out


#: The call of this instance.
CALL = Call()


def check_entries(raw):
    """Refuses state entries whose offsets disagree (a host bug)."""
    n = len(raw.state_ids)
    for buf, ends in (
        (raw.keys, raw.key_ends),
        (raw.namespaces, raw.namespace_ends),
        (raw.user_keys, raw.user_key_ends),
        (raw.values, raw.value_ends),
    ):
        if len(ends) != n:
            raise JobError("malformed state entries: offsets disagree with state ids (a host bug)")
        previous = 0
        for end in ends:
            if end < previous or end > len(buf):
                raise JobError("malformed state entries: offset out of bounds (a host bug)")
            previous = end
