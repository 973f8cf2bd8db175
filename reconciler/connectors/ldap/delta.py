"""Delta import from OpenLDAP's accesslog (``cn=accesslog``, the ``accesslog`` overlay).

Every successful write to the directory leaves a record there: ``reqType`` (add, modify, modrdn,
delete), ``reqDN``, ``reqNewRDN``/``reqNewSuperior`` for a rename, ``reqEntryUUID``, and ``reqEnd``,
a timestamp that grows with every record. The watermark is the ``reqEnd`` of the last record an
import took into account, with a digest of the settings the import ran under:
``accesslog:<digest>:<reqEnd>``.

A delta import reads the records after the watermark, and reads again, by entryUUID, the entries
they touched (in batches, under the connector's containers, filtered on its object types): an entry
found is staged with its current DN and values (a rename shows as a new DN for the same anchor); an
entry that was deleted, or moved out of the containers, or no longer has a configured object class,
is a delete. A delete carries the anchor when the anchor is entryUUID; otherwise the DN it last had
(unless another entry holds that DN now).

The watermark is not usable, and the import is full (``ImportResult.full``), when there is none, when
the settings changed since it was made, when the log was empty then, or when the log no longer holds
the record it names (purged by ``logpurge``): ``AccessLog.unusable`` says which.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from reconciler.connectors.base import ImportedObject
from reconciler.connectors.ldap import dn as dnlib
from reconciler.connectors.ldap.attributes import AttributeMap
from reconciler.connectors.ldap.directory import Directory
from reconciler.connectors.ldap.settings import Settings
from reconciler.connectors.ldap.values import generalized_time, parse_generalized_time

LOG_BASE = "cn=accesslog"
PREFIX = "accesslog"
_WRITES = "(|(reqType=add)(reqType=modify)(reqType=modrdn)(reqType=delete))"
_RECORD = ["reqEnd", "reqType", "reqDN", "reqNewRDN", "reqNewSuperior", "reqEntryUUID"]
_TIME = re.compile(r"\d{14}(\.\d{1,6})?Z")  # a reqEnd: GeneralizedTime, as the watermark keeps it
REREAD_BATCH = 100  # entryUUIDs per search when touched entries are read again


class Unusable(Exception):
    """The watermark cannot give the changes since it: the import must be full (the text says why)."""


@dataclass
class Touched:
    """What the log says of one entry since the watermark."""

    uuid: str
    first: str  # the first operation: add, modify, modrdn, delete
    dn: str  # the DN it had after the last operation
    deleted: bool = False
    in_scope: bool = False  # it was under a container at some point


class AccessLog:
    def __init__(self, directory: Directory, settings: Settings) -> None:
        self.directory = directory
        self.settings = settings

    # ----------------------------------------------------------- availability and position
    def unavailable(self) -> str | None:
        """Why the log cannot be used at all (None: it can)."""
        contexts = {dnlib.norm(c) for c in self.directory.naming_contexts}
        if dnlib.norm(LOG_BASE) not in contexts:
            return (f"the server has no {LOG_BASE} (load the accesslog overlay, `logops writes`, for "
                    "delta imports)")  # fmt: skip
        if self.directory.read(LOG_BASE, ["1.1"]) is None:
            return f"the bind DN cannot read {LOG_BASE} (give it read access for delta imports)"
        return None

    def mark(self) -> str | None:
        """A watermark for the log's present end (before a full import reads the directory); None
        when the log cannot be used."""
        if self.unavailable() is not None:
            return None
        return self._format(self._newest() or "")

    def _newest(self) -> str | None:
        """The last record's reqEnd: looked for just before the directory's contextCSN (the time of its
        last write), then in the two minutes before it, else in the whole log."""
        csn = self._context_csn()
        windows: list[str] = []
        if csn:
            try:
                last = parse_generalized_time(csn[:14] + "Z")
            except ValueError:
                last = None
            if last is not None:
                windows = [generalized_time(last - timedelta(seconds=s)) for s in (1, 120)]
        for since in windows:
            newest = self._max_end(f"(reqEnd>={since})")
            if newest is not None:
                return newest
        return self._max_end("(objectClass=auditWriteObject)")

    def _context_csn(self) -> str | None:
        base = self.settings.base_dn
        contexts = [c for c in self.directory.naming_contexts if dnlib.is_under(base, c)]
        context = max(contexts, key=lambda c: len(dnlib.norm(c)), default=base)
        entry = self.directory.read(context, ["contextCSN"])
        raw = (entry or {}).get("raw_attributes") or {}
        values = raw.get("contextCSN") or []
        return max((v.decode("ascii", "replace") for v in values), default=None)

    def _max_end(self, search_filter: str) -> str | None:
        newest = None
        for e in self.directory.search(LOG_BASE, search_filter, ["reqEnd"], scope="LEVEL", missing_ok=True):
            for v in (e.get("raw_attributes") or {}).get("reqEnd") or ():
                text = v.decode("ascii", "replace")
                if newest is None or text > newest:
                    newest = text
        return newest

    def _format(self, end: str) -> str:
        return f"{PREFIX}:{self.settings.digest()}:{end}"

    def position(self, watermark: str | None) -> str:
        """The reqEnd a watermark names; raise ``Unusable`` when it cannot serve a delta."""
        if not watermark:
            raise Unusable("there is no watermark from an earlier import")
        parts = watermark.split(":", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            raise Unusable("the watermark was not made by this connector's accesslog reader")
        if parts[1] != self.settings.digest():
            raise Unusable("the connector's settings changed since the last import")
        if not parts[2]:
            raise Unusable(f"{LOG_BASE} was empty at the last import")
        if not _TIME.fullmatch(parts[2]):
            raise Unusable("the watermark does not hold a time of the accesslog")
        reason = self.unavailable()
        if reason is not None:
            raise Unusable(reason)
        end = parts[2]
        if not any(self.directory.search(LOG_BASE, f"(reqEnd<={end})", ["1.1"], scope="LEVEL", paged=False,
                                         size_limit=1, missing_ok=True)):  # fmt: skip
            raise Unusable(f"{LOG_BASE} no longer holds the changes since the last import (purged)")
        return end

    # ----------------------------------------------------------- changes
    def touched(self, end: str) -> tuple[list[Touched], str]:
        """The entries written after ``end`` (in the order first written) and the new watermark."""
        search_filter = f"(&{_WRITES}(reqResult=0)(reqEnd>={end})(!(reqEnd={end})))"
        records = []
        for e in self.directory.search(LOG_BASE, search_filter, _RECORD, scope="LEVEL", missing_ok=True):
            raw = e.get("raw_attributes") or {}
            rec = {k.lower(): v[0].decode("utf-8", "replace") for k, v in raw.items() if v}
            records.append(rec)
        records.sort(key=lambda r: r.get("reqend", ""))
        base, containers = self.settings.base_dn, self.settings.containers
        by_uuid: dict[str, Touched] = {}
        newest = end
        for rec in records:
            newest = max(newest, rec.get("reqend", ""))
            uuid = rec.get("reqentryuuid")
            dn = rec.get("reqdn", "")
            if not uuid:
                if dnlib.is_under(dn, base):
                    raise Unusable(f"{LOG_BASE} does not record entryUUIDs (OpenLDAP 2.5 or later does)")
                continue
            op = rec.get("reqtype", "")
            t = by_uuid.get(uuid)
            if t is None:
                t = by_uuid[uuid] = Touched(uuid, op, dn)
            t.in_scope = t.in_scope or dnlib.under_any(dn, containers)
            if op == "modrdn":
                superior = rec.get("reqnewsuperior") or dnlib.parent(dn)
                new_rdn = rec.get("reqnewrdn", dnlib.first_rdn(dn))
                dn = f"{new_rdn},{superior}" if superior else new_rdn
                t.in_scope = t.in_scope or dnlib.under_any(dn, containers)
            t.dn = dn
            t.deleted = op == "delete"
        return list(by_uuid.values()), self._format(newest)


def delta_objects(log: AccessLog, amap: AttributeMap, touched: list[Touched]) -> Iterator[ImportedObject]:
    """The touched entries as the directory holds them now, and deletes for those gone from view."""
    directory, settings = log.directory, log.settings
    types = "".join(f"(objectClass={t})" for t in settings.object_types)
    live = [t for t in touched if not t.deleted]
    found: dict[str, ImportedObject] = {}
    for i in range(0, len(live), REREAD_BATCH):
        chunk = live[i : i + REREAD_BATCH]
        uuids = "".join(f"(entryUUID={t.uuid})" for t in chunk)
        search_filter = f"(&(|{types})(|{uuids}))"
        first = {t.uuid: t.first for t in chunk}
        for container in settings.containers:
            for e in directory.search(container, search_filter, amap.requested, missing_ok=True):
                raw = e.get("raw_attributes") or {}
                uuid = (raw.get("entryUUID") or [b""])[0].decode("ascii", "replace")
                obj = amap.imported(e, change="add" if first.get(uuid) == "add" else "update")
                if obj is not None:
                    found[uuid] = obj
    held = {dnlib.norm(o.dn) for o in found.values()}
    system = settings.system_anchor and settings.anchor[0].lower() == "entryuuid"
    single = settings.anchor[0] if len(settings.anchor) == 1 else None
    for t in touched:
        obj = found.get(t.uuid)
        if obj is not None:
            yield obj
            continue
        if not t.in_scope:
            continue  # never under the containers: nothing of it is in the connector space
        if system:
            yield ImportedObject(dn="", object_type="", anchor=t.uuid, change="delete")
        elif dnlib.norm(t.dn) not in held:
            anchor = dnlib.rdn_value(t.dn, single) if single else None
            yield ImportedObject(dn=t.dn, object_type="", anchor=anchor, change="delete")
