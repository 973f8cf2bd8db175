"""The links a synchronization wrote, kept beside the store while the run lasts.

Flows translate references both ways. Inbound, each reference a CS object holds (a manager, a
group's members) becomes the MV id of the object it names; outbound, each MV reference becomes the
target's CS id. At a million people each is millions of lookups of random rows, which the run itself
has just written: the link pass writes every link before the flows read them, and phase A of
outbound stores what it provisions before phase B names it. The memo keeps what the store was told,
so those lookups cost an array read:

- CS id -> MV id, for every CS object written while it is on;
- MV id -> CS id per connector, only for MV objects created in this run: every link to one of those
  was written in this run, so the memo knows all of them. An older MV object may have links the run
  never wrote, so it is asked of the store, as is any CS id the memo was not told about.

It mirrors writes only, never guesses: every write of a CS object's row or link passes through it, a
deleted id becomes unknown again, and it starts afresh when a transaction is rolled back.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable

from reconciler.engine.objects import CSObject

_UNKNOWN = 0  # never written in this run: ask the store
_UNLINKED = -1  # written with no MV object (MV ids start at 1)
_SEVERAL = -1  # in the reverse map: more than one object of the connector: ask the store


def _grown(a: array, top: int) -> None:  # type: ignore[type-arg]
    """Zeros appended in place until ``a[top]`` exists (doubling, so a run grows each array a few times)."""
    if top >= len(a):
        a.frombytes(bytes(a.itemsize * (max(top + 1, len(a) * 2, 1024) - len(a))))


class LinkMemo:
    """What the store was told about links since ``first_mv`` was the next MV id (8 bytes a CS id, and
    9 bytes a new MV object per connector linked to it: about 55 MB at a million people)."""

    __slots__ = ("_conn", "_conns", "_first_mv", "_mv", "_rev")

    def __init__(self, first_mv: int) -> None:
        self._first_mv = first_mv
        self._mv = array("q")  # CS id -> MV id
        self._conn = array("h")  # CS id -> connector number + 1 (0: unknown)
        self._conns: dict[str, int] = {}
        self._rev: list[tuple[array, array]] = []  # type: ignore[type-arg]  # per connector: (new MV -> CS id, kind)

    def _drop_reverse(self, cs_id: int, mv_id: int, conn: int) -> None:
        if mv_id >= self._first_mv and conn > 0:
            ids, _ = self._rev[conn - 1]
            j = mv_id - self._first_mv
            if j < len(ids) and ids[j] == cs_id:
                ids[j] = _UNKNOWN

    def wrote(self, objs: Iterable[CSObject]) -> None:
        first = self._first_mv
        mv, conn = self._mv, self._conn
        for o in objs:
            i = o.id
            assert i is not None
            if i >= len(mv):  # the two arrays indexed by CS id grow together
                _grown(mv, i)
                _grown(conn, i)
            old = mv[i]
            new = o.mv_id or _UNLINKED
            mv[i] = new
            c = self._conns.get(o.connector)
            if c is None:
                c = self._conns[o.connector] = len(self._conns) + 1
                self._rev.append((array("q"), array("b")))
            conn[i] = c
            if old > 0 and old != new:
                self._drop_reverse(i, old, c)
            if new >= first:
                ids, kinds = self._rev[c - 1]
                j = new - first
                if j >= len(ids):
                    _grown(ids, j)
                    _grown(kinds, j)
                ids[j] = i if ids[j] in (_UNKNOWN, i) else _SEVERAL
                kinds[j] = o.kind

    def deleted(self, ids: Iterable[int]) -> None:
        mv, conn = self._mv, self._conn
        for i in ids:
            if i < len(mv):
                if mv[i] > 0:
                    self._drop_reverse(i, mv[i], conn[i])
                mv[i] = _UNKNOWN

    def mv_ids(self, cs_ids: Iterable[int]) -> tuple[dict[int, int | None], list[int]]:
        """What the memo knows (CS id -> MV id or None), and the ids it does not know."""
        mv = self._mv
        size = len(mv)
        known: dict[int, int | None] = {}
        unknown: list[int] = []
        for i in cs_ids:
            v = mv[i] if i < size else _UNKNOWN
            if v > 0:
                known[i] = v
            elif v == _UNLINKED:
                known[i] = None
            else:
                unknown.append(i)
        return known, unknown

    def cs_ids(self, mv_ids: Iterable[int], connectors: Collection[str] | None
               ) -> tuple[list[tuple[int, int, str, int]], list[int]]:  # fmt: skip
        """(mv_id, CS id, connector, kind) of the links the memo knows whole (of ``connectors``, or all),
        and the MV ids it does not."""
        first = self._first_mv
        conns = [(name, self._rev[c - 1]) for name, c in self._conns.items()
                 if connectors is None or name in connectors]  # fmt: skip
        rows: list[tuple[int, int, str, int]] = []
        unknown: list[int] = []
        for m in mv_ids:
            j = m - first
            if j < 0:
                unknown.append(m)
                continue
            mine = []
            for name, (ids, kinds) in conns:
                cs = ids[j] if j < len(ids) else _UNKNOWN
                if cs == _SEVERAL:
                    break
                if cs != _UNKNOWN:
                    mine.append((m, cs, name, kinds[j]))
            else:
                rows.extend(mine)
                continue
            unknown.append(m)
        return rows, unknown
