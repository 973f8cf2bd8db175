"""Reading Graph: full import (list with $select, paged by @odata.nextLink) and delta import (the
/delta() of each object type, from the deltaLink kept as watermark).

A delta page says which objects changed, not always all of their properties (Graph returns "at least
the changed ones"), so each changed object is read again whole; a removed one (``@removed``) is a
delete. The watermark holds one deltaLink per object type and a digest of the settings it was made
under: a watermark of other settings, or a link Graph no longer knows (410, 400), means a full import.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from reconciler.connectors.base import ImportedObject
from reconciler.connectors.graph import builders as b
from reconciler.connectors.graph.client import GraphSession
from reconciler.connectors.graph.settings import DN_ATTRIBUTE, Settings
from reconciler.connectors.graph.translate import GraphFailure
from reconciler.connectors.graph.values import REFERENCES, WRITE_ONLY, from_graph

#: statuses of a delta link Graph no longer serves: start again with a full import
RESYNC = frozenset({400, 404, 410})


class Unusable(Exception):
    """A watermark the delta cannot start from; its message says why."""


class Reader:
    def __init__(self, session: GraphSession, settings: Settings) -> None:
        self.session = session
        self.s = settings

    # ----------------------------------------------------------- what each type asks for
    def select(self, object_type: str) -> list[str]:
        attrs = self.s.object_types[object_type]
        keep = [a for a in attrs if a not in REFERENCES and a not in WRITE_ONLY and a != "id"]
        dn_attr = DN_ATTRIBUTE[object_type]
        return ["id", *keep, *([dn_attr] if dn_attr not in keep else [])]

    def expand(self, object_type: str) -> list[str]:
        return ["manager($select=id)"] if object_type == "user" and "manager" in self.s.object_types["user"] else []

    def wants_members(self, object_type: str) -> bool:
        return object_type == "group" and "members" in self.s.object_types["group"]

    # ----------------------------------------------------------- objects
    def imported(self, object_type: str, data: dict[str, Any], change: str | None = None) -> ImportedObject:
        oid = str(data["id"])
        attrs: dict[str, Any] = {}
        for name in self.s.object_types[object_type]:
            if name in WRITE_ONLY:
                continue
            value = from_graph(name, data.get(name))
            if value is not None:
                attrs[name] = value
        dn = str(data.get(DN_ATTRIBUTE[object_type]) or f"CN={oid}")
        return ImportedObject(dn=dn, object_type=object_type, anchor=oid, attributes=attrs,
                              change=change)  # type: ignore[arg-type]  # fmt: skip

    def members(self, gid: str) -> list[str]:
        out: list[str] = []
        what = f"read the members of group {gid}"
        page = self.session.call_or_fail(lambda c: b.get(c.groups.by_group_id(gid).members, select=["id"]), what)
        while True:
            out += [str(m["id"]) for m in page.get("value", []) if "id" in m]
            link = page.get("@odata.nextLink")
            if not link:
                return out
            page = self.session.call_or_fail(b.follow(link), what)

    def _with_members(self, object_type: str, data: dict[str, Any]) -> dict[str, Any]:
        if self.wants_members(object_type):
            data = {**data, "members": [{"id": m} for m in self.members(str(data["id"]))]}
        return data

    # ----------------------------------------------------------- full
    def latest(self, object_type: str) -> str:
        """A deltaLink for the tenant as it is now (asked before a full read: what changes during the read
        is in the next delta)."""
        sel, exp = self.select(object_type), self.expand(object_type)
        if self.wants_members(object_type):
            sel = [*sel, "members"]  # a group's delta shows membership changes only when members is selected
        page = self.session.call_or_fail(lambda c: b.latest_delta(c, object_type, sel, exp),
                                         f"start tracking {object_type} changes")  # fmt: skip
        while page.get("@odata.nextLink"):
            page = self.session.call_or_fail(b.follow(page["@odata.nextLink"]), "read delta")
        return str(page["@odata.deltaLink"])

    def full(self, object_type: str) -> Iterator[ImportedObject]:
        sel, exp = self.select(object_type), self.expand(object_type)
        what = f"list {object_type}s"
        page = self.session.call_or_fail(
            lambda c: b.get(b.collection(c, object_type), select=sel, expand=exp or None, top=self.s.page_size), what
        )
        while True:
            for data in page.get("value", []):
                yield self.imported(object_type, self._with_members(object_type, data))
            link = page.get("@odata.nextLink")
            if not link:
                return
            page = self.session.call_or_fail(b.follow(link), what)

    # ----------------------------------------------------------- delta
    def changes(self, object_type: str, link: str) -> tuple[list[str], list[str], str]:
        """(changed ids, removed ids, the next deltaLink) since ``link``; ``Unusable`` when Graph no longer
        knows it."""
        changed: dict[str, None] = {}
        removed: dict[str, None] = {}
        what = f"read {object_type} changes"
        while True:
            try:
                page = self.session.call(b.follow(link), what)
            except GraphFailure as failure:
                if failure.status in RESYNC:
                    raise Unusable(f"Graph no longer serves the {object_type} delta link "
                                   f"({failure.status} {failure.code or ''}".rstrip() + ")") from failure
                raise failure.error from failure.__cause__
            for data in page.get("value", []):
                oid = str(data.get("id"))
                if "@removed" in data:
                    changed.pop(oid, None)
                    removed[oid] = None
                else:
                    removed.pop(oid, None)
                    changed[oid] = None
            nxt = page.get("@odata.nextLink")
            if nxt:
                link = nxt
                continue
            return list(changed), list(removed), str(page["@odata.deltaLink"])

    def read_again(self, object_type: str, oid: str) -> ImportedObject:
        """One changed object, read whole; gone since the delta: a delete."""
        sel, exp = self.select(object_type), self.expand(object_type)
        try:
            data = self.session.call(lambda c: b.get(b.item(c, object_type, oid), select=sel, expand=exp or None),
                                     f"read {object_type} {oid}")  # fmt: skip
        except GraphFailure as failure:
            if failure.status == 404:
                return ImportedObject(dn="", object_type=object_type, anchor=oid, change="delete")
            if failure.batch:
                raise failure.error from failure.__cause__
            return ImportedObject(dn=f"CN={oid}", object_type=object_type, anchor=oid, change="update",
                                  error=failure.error.message)  # fmt: skip
        return self.imported(object_type, self._with_members(object_type, data), change="update")


def encode_watermark(digest: str, links: dict[str, str]) -> str:
    return json.dumps({"graph": 1, "digest": digest, "links": links}, sort_keys=True)


def decode_watermark(watermark: str | None, digest: str, types: list[str]) -> dict[str, str]:
    if not watermark:
        raise Unusable("no watermark: the first import is full")
    try:
        data = json.loads(watermark)
        links = data["links"]
        ok = data.get("digest") == digest
    except (ValueError, KeyError, TypeError):
        raise Unusable("the watermark is not a graph connector's") from None
    if not ok:
        raise Unusable("the connector's settings changed since the last import")
    missing = [t for t in types if not isinstance(links.get(t), str)]
    if missing:
        raise Unusable(f"no delta link for {', '.join(missing)}")
    return {t: links[t] for t in types}
