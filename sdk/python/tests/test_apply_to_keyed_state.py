"""``ctx.apply_to_keyed_state`` of a keyed broadcast process function,
against a stand-in for the host's ``state`` import (the keys of a state
page by page, a key's entries page by page) over a store kept the way the
host keeps it: each call gets its batch's keys' entries and hands back
what it wrote."""

import zlib
from types import SimpleNamespace

import pytest

from wflink import (
    BroadcastProcessFunction,
    KeyedBroadcastProcessFunction,
    ListState,
    MapState,
    MapStateDescriptor,
    StateError,
    UserError,
    ValueState,
)
from wflink import host_state
from wflink.chain import Chain
from wflink.msgpack import packb, unpackb
from wflink.state import state_id
from wflink.stream import record

from test_inputs import batch, entries, out_values


def group(key):
    """The stand-in's key group of a key's bytes (of 16)."""
    return zlib.crc32(key) % 16



def from_s32(state_id):
    """The u32 id whose bits the import passes as an ``s32``, as the host reads it."""
    assert -(1 << 31) <= state_id < 1 << 31, "the import takes the id's bits as an s32"
    return state_id & 0xFFFFFFFF

class StandInHost:
    """The host's side of a keyed broadcast chain: its state entries
    (``(id, key, namespace, user key) -> value``) and the ``state``
    import's ``keys`` and ``scan`` over them."""

    def __init__(self, chain):
        self.chain = chain
        self.store = {}
        #: The import's calls during the last operator call:
        #: ``("keys", from_group)`` or ``("scan", key, after)``.
        self.calls = []
        #: What the last operator call wrote: ``{(id, key, user key): value, None if deleted}``.
        self.written = {}

    # The import.

    def keys(self, state_id, from_group, limit):
        """Keys holding ``state_id`` from key group ``from_group`` on, whole
        groups until ``limit`` keys are reached."""
        state_id = from_s32(state_id)
        self.calls.append(("keys", from_group))
        held = sorted({(group(k), k) for (i, k, _, _) in self.store if i == state_id and group(k) >= from_group})
        page, last = [], None
        for g, k in held:
            if len(page) >= limit and g != last:
                return self._page(page, g)
            page.append(k)
            last = g
        return self._page(page, None)

    @staticmethod
    def _page(keys, next_group):
        buf, ends = bytearray(), []
        for k in keys:
            buf += k
            ends.append(len(buf))
        return SimpleNamespace(keys=bytes(buf), key_ends=ends, next_group=next_group)

    def scan(self, state_id, key, namespace, after, limit):
        """Up to ``limit`` entries of a key after the user key ``after``."""
        state_id = from_s32(state_id)
        self.calls.append(("scan", key, after))
        found = sorted(
            (u, v)
            for (i, k, n, u), v in self.store.items()
            if (i, k, n) == (state_id, key, namespace) and (after is None or u > after)
        )[:limit]
        return entries([(state_id, key, namespace, u, v) for u, v in found])

    # The operator's calls.

    def send(self, values, keys=None, input=0):
        """Runs one batch of ``input`` with the stored entries of its keys,
        applies what it wrote; returns the printed values."""
        wanted = {packb(k) for k in keys or []}
        sent = entries([(*a, v) for a, v in sorted(self.store.items()) if a[1] in wanted])
        self.calls = []
        out, call = self.chain.process_with_context(batch(values, keys), sent, 0, 0, input=input)
        self.written = {}
        for id, key, namespace, user_key, value in call.state:
            assert namespace == b"", "keyed state of a process function has the empty namespace"
            self.written[(id, unpackb(key), user_key)] = value or None
            if value:
                self.store[(id, key, namespace, user_key)] = value
            else:
                self.store.pop((id, key, namespace, user_key), None)
        return out_values(out)

    def value(self, id, key, user_key=b""):
        """The stored value of state ``id`` for ``key``, decoded, or None."""
        data = self.store.get((id, packb(key), b"", user_key))
        return None if data is None else unpackb(data)


COMMANDS = MapStateDescriptor("commands")
#: The ids of the states of Totals (handles are made in a build function only).
SUM, AMOUNTS, BY_AMOUNT = (state_id(name) for name in ("sum", "amounts", "by-amount"))


class Totals(KeyedBroadcastProcessFunction):
    """Per key: the sum of the amounts (``sum``), the amounts (``amounts``)
    and how often each came (``by-amount``). A broadcast command (or
    several, ``;``-separated) walks every key's state."""

    def __init__(self):
        self.sum, self.amounts, self.by_amount = ValueState("sum"), ListState("amounts"), MapState("by-amount")

    def process_element(self, r, ctx):
        self.sum.update(self.sum.value(0) + r[1])
        self.amounts.add(r[1])
        self.by_amount.put(r[1], self.by_amount.get(r[1], 0) + 1)

    def process_broadcast_element(self, commands, ctx):
        for command in commands.split(";"):
            yield from self.run(command, ctx)

    def run(self, command, ctx):
        visited = []

        def double(key, total):
            visited.append(key)
            total.update(total.value() * 2)

        def flush(key, total):
            visited.append(key)
            ctx.collect(f"FLUSH {key} {total.value()}")
            total.clear()

        def drop_ones(key, counts):
            # A generator: what it yields is emitted.
            visited.append(key)
            yield f"{key} {sorted(counts.items())}"
            counts.remove(1)

        def trim(key, amounts):
            visited.append(key)
            amounts.update(amounts.get()[:1])

        walks = {
            "double": (self.sum, double),
            "flush": (self.sum, flush),
            "drop-ones": (self.by_amount, drop_ones),
            "trim": (self.amounts, trim),
        }
        state, fn = walks[command]
        ctx.apply_to_keyed_state(state, fn)
        try:
            self.sum.value()
            after = "a key is set"
        except StateError:
            after = "no key"
        yield f"{command} n={len(visited)} keys={','.join(sorted(visited))} {after}"


def job(env, args):
    a = env.read_text_file("a").map(lambda line: (line, 1)).key_by(lambda r: r[0])
    b = env.read_text_file("b").broadcast(COMMANDS)
    a.connect(b).process(Totals()).name("totals").print()


@pytest.fixture
def host(monkeypatch):
    """The stand-in host of the ``totals`` chain, with pages of 2 keys and
    2 entries, so that every walk takes several."""
    plan = record(job, [])
    node = next(n for n in plan.nodes if n.name == "totals")
    h = StandInHost(Chain(plan, [node.id]))
    monkeypatch.setattr(host_state, "_state", h)
    monkeypatch.setattr(host_state, "KEYS_PAGE", 2)
    monkeypatch.setattr(host_state, "SCAN_PAGE", 2)
    return h


KEYS = [f"k{i}" for i in range(9)]


def amounts(i):
    """Key ``kI``'s amounts: 1, then 1 to I + 1."""
    return [1, *range(1, i + 2)]


def fill(host):
    for i, key in enumerate(KEYS):
        host.send([(key, a) for a in amounts(i)], keys=[key] * len(amounts(i)))


def test_every_key_holding_the_state_is_visited_once_and_its_updates_come_out_as_written_entries(host):
    fill(host)
    assert host.send(["double"], input=1) == [f"double n=9 keys={','.join(KEYS)} no key"]
    assert host.written == {(SUM, k, b""): packb(2 * sum(amounts(i))) for i, k in enumerate(KEYS)}
    assert [host.value(SUM, k) for k in KEYS] == [2 * sum(amounts(i)) for i in range(9)]
    # Keys page by page from key group 0, each page starting where the last ended.
    pages = [c[1] for c in host.calls if c[0] == "keys"]
    assert pages[0] == 0 and pages == sorted(set(pages)) and len(pages) > 2
    # One scan per key: a value state has one entry, fewer than a page.
    assert sorted(c[1] for c in host.calls if c[0] == "scan") == sorted(packb(k) for k in KEYS)


def test_a_cleared_state_comes_out_as_deletions_and_its_keys_are_not_visited_again(host):
    fill(host)
    lines = host.send(["flush"], input=1)
    assert sorted(lines[:-1]) == sorted(f"FLUSH {k} {sum(amounts(i))}" for i, k in enumerate(KEYS))
    assert lines[-1] == f"flush n=9 keys={','.join(KEYS)} no key"
    assert host.written == {(SUM, k, b""): None for k in KEYS}
    assert all(host.value(SUM, k) is None for k in KEYS)
    assert host.send(["flush"], input=1) == ["flush n=0 keys= no key"]
    assert host.written == {}
    # The other states of the keys are untouched.
    assert all((AMOUNTS, packb(k), b"", b"") in host.store for k in KEYS)


def test_within_one_call_a_walk_sees_what_earlier_walks_wrote(host):
    fill(host)
    lines = host.send(["double;flush;flush"], input=1)
    assert lines[0] == f"double n=9 keys={','.join(KEYS)} no key"
    assert sorted(lines[1:10]) == sorted(f"FLUSH {k} {2 * sum(amounts(i))}" for i, k in enumerate(KEYS))
    assert lines[10:] == [f"flush n=9 keys={','.join(KEYS)} no key", "flush n=0 keys= no key"]
    assert host.written == {(SUM, k, b""): None for k in KEYS}


def test_map_and_list_states_are_read_page_by_page_and_only_their_changes_go_back(host):
    fill(host)
    lines = host.send(["drop-ones"], input=1)
    counts = {k: sorted({a: amounts(i).count(a) for a in amounts(i)}.items()) for i, k in enumerate(KEYS)}
    assert sorted(lines[:-1]) == sorted(f"{k} {counts[k]}" for k in KEYS)
    assert lines[-1] == f"drop-ones n=9 keys={','.join(KEYS)} no key"
    assert host.written == {(BY_AMOUNT, k, packb(1)): None for k in KEYS}
    # k8's map has 9 entries: 5 pages of 2, each after the last user key.
    scans = [c[2] for c in host.calls if c[0] == "scan" and c[1] == packb("k8")]
    assert scans == [None, packb(2), packb(4), packb(6), packb(8)]
    assert host.value(BY_AMOUNT, "k8", packb(2)) == 1 and host.value(BY_AMOUNT, "k8", packb(1)) is None

    assert host.send(["trim"], input=1)[-1] == f"trim n=9 keys={','.join(KEYS)} no key"
    assert host.written == {(AMOUNTS, k, b""): packb(1) for k in KEYS}


def test_keys_visited_are_only_those_holding_the_state(host):
    host.send([("a", 5)], keys=["a"])
    del host.store[(SUM, packb("a"), b"", b"")]  # a holds amounts, not a sum
    host.send([("b", 2)], keys=["b"])
    assert host.send(["double"], input=1) == ["double n=1 keys=b no key"]


def test_the_walk_fails_outside_a_keyed_broadcast_function_s_broadcast_side(host):
    class Plain(BroadcastProcessFunction):
        def __init__(self):
            self.sum = ValueState("sum")

        def process_element(self, r, ctx):
            ctx.apply_to_keyed_state(self.sum, lambda key, total: None)

        def process_broadcast_element(self, r, ctx):
            ctx.apply_to_keyed_state(self.sum, lambda key, total: None)

    def plain(env, args):
        env.read_text_file("a").connect(env.read_text_file("b").broadcast(COMMANDS)).process(Plain()).print()

    chain = Chain(record(plain, []), [2])
    with pytest.raises(UserError, match="apply_to_keyed_state needs keyed state: use a KeyedBroadcastProcessFunction"):
        chain.process_with_context(batch(["x"]), entries(), 0, 0, input=1)

    class OnTheKeyedSide(Totals):
        def process_element(self, r, ctx):
            ctx.apply_to_keyed_state(self.sum, lambda key, total: None)

    def keyed(env, args):
        a = env.read_text_file("a").key_by(lambda r: r)
        a.connect(env.read_text_file("b").broadcast(COMMANDS)).process(OnTheKeyedSide()).print()

    chain = Chain(record(keyed, []), [3])
    with pytest.raises(UserError, match="in process_broadcast_element only"):
        chain.process_with_context(batch(["x"], keys=["x"]), entries(), 0, 0, input=0)
    with pytest.raises(TypeError, match="takes a keyed state handle"):
        host.chain.broadcast.fn.broadcast_ctx.apply_to_keyed_state(COMMANDS, lambda key, s: None)


class Err(Exception):
    """What componentize-py raises for an import's error (in ``value``)."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


class StateError_UnknownState:  # noqa: N801 (the binding's name)
    def __init__(self, value):
        self.value = value


def test_host_errors_and_a_missing_host_fail_clearly(host, monkeypatch):
    fill(host)

    def unknown(state_id, from_group, limit):
        raise Err(StateError_UnknownState(from_s32(state_id)))

    monkeypatch.setattr(host, "keys", unknown)
    with pytest.raises(UserError, match=f"listing the keys of a state failed: state id {SUM} is not declared"):
        host.send(["double"], input=1)
    monkeypatch.setattr(host_state, "_state", None)
    with pytest.raises(UserError, match="apply_to_keyed_state needs the wflink host"):
        host.send(["double"], input=1)
