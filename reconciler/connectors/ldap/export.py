"""A batch of pending exports applied to the directory, one LDAP operation (or two) per change.

- add: the entry with ``objectClass`` = its object type (or the classes the rule flows), its
  attributes (absent ones left out). The anchor the directory assigns (entryUUID) is read back for
  a few hundred adds at a time, by one search on their ``entryDN``s (OpenLDAP finds each by its DN
  index), and entry by entry for any that search did not return. (The Post-Read control of
  RFC 4527 would return it with the add, but costs slapd a fifth of its add rate.)
- update: one modify; a replace with no value removes the attribute, ``add``/``remove`` edit values.
- rename: a modify DN (``new_dn``'s parent is the new superior when it changed), then the changes
  the rename carries, on the new DN.
- delete: a delete; an entry already gone is deleted.

A DN outside the connector's containers, a missing parent, a schema violation: each is that
change's ``ExportResult`` error (one line), and the batch goes on. When the connection breaks,
the changes not yet applied fail as retryable; if the first one broke, the whole batch fails
(``ConnectionFailed``): nothing of it was applied.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from reconciler.connectors.base import AttributeChange, ExportChange, ExportResult
from reconciler.connectors.ldap import dn as dnlib
from reconciler.connectors.ldap import translate
from reconciler.connectors.ldap.attributes import AttributeMap
from reconciler.connectors.ldap.directory import Directory, Lost
from reconciler.connectors.ldap.settings import Settings
from reconciler.errors import ConnectorError

READ_BACK = 250  # adds whose anchors are read back by one search


class Exporter:
    def __init__(self, directory: Directory, settings: Settings, amap: AttributeMap) -> None:
        self.directory = directory
        self.settings = settings
        self.amap = amap
        self.system_anchor = settings.system_anchor
        self._unread: list[ExportResult] = []  # adds done whose anchor is still to be read back
        self._inside: tuple[str, ...] = tuple("," + ",".join(dnlib.norm(c)) for c in settings.containers)

    def apply(self, changes: Sequence[ExportChange]) -> list[ExportResult]:
        results: list[ExportResult] = []
        self._unread = []
        for i, change in enumerate(changes):
            try:
                results.append(self._one(change))
                if len(self._unread) >= READ_BACK:
                    self._read_anchors()
            except Lost as lost:
                if i == 0:
                    raise lost.error from lost.__cause__
                message = f"not applied: {lost.error.one_line()}"
                results.extend(ExportResult(c.key, ok=False, error=message, retryable=True) for c in changes[i:])
                break
        self._read_anchors()
        return results

    def _read_anchors(self) -> None:
        """The anchors of the adds done since the last read, by one search on their entryDNs (OpenLDAP
        finds each by its DN index); entry by entry for those it did not return (a server without
        entryDN). When the reads fail, those adds stay without an anchor: the next import finds them by
        their DN."""
        todo, self._unread = self._unread, []
        if todo:
            with contextlib.suppress(ConnectorError):
                self._read_with(self.directory, todo)

    def _read_with(self, directory: Directory, todo: list[ExportResult]) -> None:
        from ldap3.utils.conv import escape_filter_chars

        name = self.settings.anchor[0]
        exact = {r.dn: r for r in todo}
        by_dn: dict[tuple[str, ...], ExportResult] | None = None
        terms = "".join(f"(entryDN={escape_filter_chars(r.dn or '')})" for r in todo)
        search_filter = f"(|{terms})" if len(todo) > 1 else terms
        for entry in directory.search(self.settings.base_dn, search_filter, [name], paged=False, missing_ok=True):
            found = exact.get(entry.get("dn"))
            if found is None:  # the server spelled the DN another way
                if by_dn is None:
                    by_dn = {dnlib.norm(r.dn or ""): r for r in todo}
                found = by_dn.get(dnlib.norm(entry.get("dn") or ""))
            if found is not None:
                found.anchor = _first(entry, name)
        for r in todo:
            if r.anchor is None:
                r.anchor = _first(directory.read(r.dn or "", [name]) or {}, name)

    # ----------------------------------------------------------- one change
    def _one(self, ch: ExportChange) -> ExportResult:
        outside = self._outside(ch.dn) or (self._outside(ch.new_dn) if ch.op == "rename" and ch.new_dn else None)
        if outside:
            return ExportResult(ch.key, ok=False, error=outside)
        if ch.op == "add":
            return self._add(ch)
        if ch.op == "update":
            return self._modify(ch, ch.dn)
        if ch.op == "rename":
            return self._rename(ch)
        if ch.op == "delete":
            return self._delete(ch)
        return ExportResult(ch.key, ok=False, error=f"unknown export operation {ch.op!r}")

    def _outside(self, dn: str | None) -> str | None:
        if dn is None or ("\\" not in dn and dn.casefold().endswith(self._inside)):
            return None  # the common case, without parsing the DN
        if dnlib.under_any(dn, self.settings.containers):
            return None
        where = ", ".join(self.settings.containers)
        return (f"{dn} is outside the connector's containers ({where}); change the rule's `dn`, or add "
                "the container to `containers`")  # fmt: skip

    def _failed(self, ch: ExportChange, result: dict[str, Any], op: str, dn: str) -> ExportResult:
        return ExportResult(ch.key, ok=False, error=translate.object_error(result, op, dn),
                            retryable=result.get("result") in translate.RETRYABLE)  # fmt: skip

    def _add(self, ch: ExportChange) -> ExportResult:
        amap = self.amap
        attributes: dict[str, Any] = {}
        classes: list[Any] = []
        for name, value in ch.attributes.items():
            if name.lower() == "objectclass":
                classes = amap.encode(name, value)
                continue
            if amap.is_operational(name):
                continue  # entryUUID and the like: the directory sets them
            sent = amap.encode(name, value)
            if sent:
                # one value as itself: ldap3 deep-copies the request, and a list per attribute costs a tenth
                # of the add rate
                attributes[name] = sent[0] if len(sent) == 1 else sent
        if not any(str(c).lower() == ch.object_type.lower() for c in classes):
            classes = [ch.object_type, *classes]
        result = self.directory.write("add", ch.dn, classes, attributes)
        if result.get("result") != translate.SUCCESS:
            return self._failed(ch, result, "add", ch.dn)
        if not self.system_anchor:
            return ExportResult(ch.key, ok=True, anchor=ch.anchor or self.amap.anchor_of(ch.attributes), dn=ch.dn)
        done = ExportResult(ch.key, ok=True, dn=ch.dn)
        self._unread.append(done)
        return done

    def _modifications(self, changes: list[AttributeChange]) -> dict[str, list[tuple[str, list[Any]]]]:
        amap = self.amap
        mods: dict[str, list[tuple[str, list[Any]]]] = {}
        for c in changes:
            if amap.is_operational(c.name):
                continue
            ops = mods.setdefault(c.name, [])
            if c.add or c.remove or not c.is_replace:
                if c.remove:
                    ops.append(("MODIFY_DELETE", amap.encode(c.name, c.remove)))
                if c.add:
                    ops.append(("MODIFY_ADD", amap.encode(c.name, c.add)))
            else:
                ops.append(("MODIFY_REPLACE", amap.encode(c.name, c.replace)))
        return {k: v for k, v in mods.items() if v}

    def _modify(self, ch: ExportChange, dn: str) -> ExportResult:
        mods = self._modifications(ch.changes)
        if mods:
            result = self.directory.write("modify", dn, mods)
            if result.get("result") != translate.SUCCESS:
                return self._failed(ch, result, "modify", dn)
        return ExportResult(ch.key, ok=True, dn=dn)

    def _rename(self, ch: ExportChange) -> ExportResult:
        new_dn = ch.new_dn or ch.dn
        if new_dn != ch.dn:
            new_parent = dnlib.parent(new_dn)
            moved = dnlib.norm(new_parent) != dnlib.norm(dnlib.parent(ch.dn))
            result = self.directory.write(
                "modify_dn", ch.dn, dnlib.first_rdn(new_dn), delete_old_dn=True,
                new_superior=new_parent if moved else None,
            )  # fmt: skip
            if result.get("result") != translate.SUCCESS:
                failed = self._failed(ch, result, "rename", ch.dn)
                if result.get("result") == translate.NO_SUCH_OBJECT and moved and self.directory.read(ch.dn, ["1.1"]):
                    failed.error = (f"cannot move {ch.dn} under {new_parent}: the parent {new_parent} does not "
                                    f"exist ({translate.describe(result)}); create it first")  # fmt: skip
                return failed
        done = self._modify(ch, new_dn)
        if not done.ok:
            done.error = f"renamed to {new_dn}, but then {done.error}"
        return done

    def _delete(self, ch: ExportChange) -> ExportResult:
        result = self.directory.write("delete", ch.dn)
        code = result.get("result")
        if code not in (translate.SUCCESS, translate.NO_SUCH_OBJECT):
            return self._failed(ch, result, "delete", ch.dn)
        return ExportResult(ch.key, ok=True, dn=ch.dn)


def _first(entry: dict[str, Any], name: str) -> str | None:
    raw = (entry.get("raw_attributes") or {}).get(name) or ()
    return raw[0].decode("utf-8", "replace") if raw else None
