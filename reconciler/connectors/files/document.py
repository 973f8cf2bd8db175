"""A file's records while an export batch is applied to them.

The entries keep the file's order; an index by anchor (and, only when a change names an object by
DN alone, by DN) finds the record a change is about. Changes edit entries in memory; the connector
writes the file once the whole batch is applied. Each change succeeds or fails on its own
(``ExportResult``), as the connector interface asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.connectors.base import AttributeChange, ExportChange, ExportResult
from reconciler.errors import ObjectError

if TYPE_CHECKING:
    from reconciler.connectors.files.file_connector import FileConnector


@dataclass(slots=True)
class Entry:
    """A record during an export; ``attributes`` None means "write ``raw`` back as it was"."""

    anchor: str | None
    attributes: dict[str, Any] | None
    dn: str | None = None
    object_type: str | None = None
    raw: Any = None
    changed: bool = False


class Document:
    """The file's records while a batch is applied: ordered entries, indexed by anchor."""

    def __init__(self, connector: FileConnector, entries: list[Entry | None]) -> None:
        self.c = connector
        self.entries = entries
        self.by_anchor = {
            e.anchor: i for i, e in enumerate(entries) if e is not None and e.anchor is not None
        }
        self._by_dn: dict[str, int] | None = None
        self._added: set[int] = set()  # positions of records this export added
        self.modified = False

    def apply(self, change: ExportChange) -> ExportResult:
        try:
            if change.op == "add":
                return self._add(change)
            if change.op == "update":
                return self._update(change)
            if change.op == "delete":
                return self._delete(change)
            if change.op == "rename" and self.c.capabilities.rename:
                return self._update(change, new_dn=change.new_dn or change.dn)
            raise ObjectError(
                f"{change.dn}: file objects are never renamed (a {self.c.config.type} record's DN comes "
                "from its attributes)",
                connector=self.c.name,
            )
        except ObjectError as exc:
            return ExportResult(
                change.key, ok=False, anchor=change.anchor, dn=change.dn, error=exc.one_line()
            )

    def _identity(self, attrs: dict[str, Any], change: ExportChange, held_dn: str | None) -> tuple[str, str]:
        """(anchor, DN) of a record about to be written; a file that holds DNs (LDIF) keeps its own."""
        c = self.c
        anchor: str | None = None
        if c.anchor_attributes:
            anchor = c.anchor_of(attrs)
            if anchor is None:
                names = ", ".join(c.anchor_attributes)
                raise ObjectError(
                    f"{change.dn or '(new object)'}: {c.anchor_problem(attrs)}",
                    connector=c.name,
                    hint=f"flow a value into {names} in the outbound rule",
                )
        if c.typed_records and (held_dn or change.dn):
            dn = held_dn or change.dn
        else:
            dn = c.dn_for(attrs)
        return (anchor if anchor is not None else dn), dn

    def _add(self, change: ExportChange) -> ExportResult:
        attrs = self.c.file_attributes(change.attributes)
        self.c.check_attributes(attrs)
        anchor, dn = self._identity(attrs, change, None)
        entry = Entry(anchor, attrs, dn, change.object_type, None, changed=True)
        pos = self.by_anchor.get(anchor)
        if pos is None:  # append
            self.by_anchor[anchor] = len(self.entries)
            self.entries.append(entry)
            self._added.add(len(self.entries) - 1)
        else:
            held = self.entries[pos]
            if pos in self._added or held is None or held.attributes != attrs:
                # another object's record: replacing it would lose that object
                raise ObjectError(
                    f"{dn}: another record already has the anchor {anchor}",
                    connector=self.c.name,
                    hint=f"make the values flowing into {', '.join(self.c.anchor_attributes) or 'the DN'} unique",
                )
            # the very record is there already (a rerun after a crash wrote it): nothing to change
            return ExportResult(change.key, ok=True, anchor=anchor, dn=held.dn or dn)
        self._index_dn(dn, self.by_anchor[anchor])
        self.modified = True
        return ExportResult(change.key, ok=True, anchor=anchor, dn=dn)

    def _update(self, change: ExportChange, new_dn: str | None = None) -> ExportResult:
        """Edit a record in place; ``new_dn`` (a rename, in files that hold DNs) moves it to that DN."""
        pos = self._find(change)
        if pos is None:
            raise ObjectError(
                f"{change.dn}: no record with anchor {change.anchor} in {self.c.path.name}",
                connector=self.c.name,
                hint="it was removed outside the reconciler; the next import sees that",
            )
        entry = self.entries[pos]
        assert entry is not None and entry.attributes is not None
        attrs = dict(entry.attributes)
        if change.changes:
            for ch in change.changes:
                self._apply_change(attrs, ch)
        else:  # the full desired attributes; attributes the rules do not own stay as they are
            for name, value in change.attributes.items():
                self._apply_change(attrs, AttributeChange(name, replace=value))
        # only what this change writes must fit the file (columns the file already had are its business)
        self.c.check_attributes({n: v for n, v in attrs.items() if entry.attributes.get(n) != v})
        anchor, dn = self._identity(attrs, change, new_dn or (entry.dn if self.c.typed_records else None))
        if anchor != entry.anchor:
            other = self.by_anchor.get(anchor)
            if other is not None and other != pos:
                raise ObjectError(
                    f"{change.dn}: another record already has the anchor {anchor}", connector=self.c.name
                )
            del self.by_anchor[entry.anchor]  # type: ignore[arg-type]
            self.by_anchor[anchor] = pos
        self._forget_dn(pos)
        self.entries[pos] = Entry(anchor, attrs, dn, entry.object_type, entry.raw, changed=True)
        self._index_dn(dn, pos)
        self.modified = True
        return ExportResult(change.key, ok=True, anchor=anchor, dn=dn)

    def _delete(self, change: ExportChange) -> ExportResult:
        pos = self._find(change)
        if pos is not None:  # already gone is what a delete wants
            entry = self.entries[pos]
            assert entry is not None
            self._forget_dn(pos)
            del self.by_anchor[entry.anchor]  # type: ignore[arg-type]
            self.entries[pos] = None
            self.modified = True
        return ExportResult(change.key, ok=True, anchor=change.anchor, dn=change.dn)

    def _apply_change(self, attrs: dict[str, Any], ch: AttributeChange) -> None:
        name = self.c.attribute_name(attrs, ch.name)
        if ch.is_replace:
            value = self.c.values(ch.replace)
            if value is None:
                attrs.pop(name, None)
            else:
                attrs[name] = value
            return
        current = attrs.get(name)
        values = [] if current is None else list(current) if isinstance(current, list) else [current]
        for v in self.c.values(list(ch.remove or ())) or ():
            values = [x for x in values if x != v]
        for v in self.c.values(list(ch.add or ())) or ():
            if v not in values:
                values.append(v)
        if values:
            attrs[name] = values
        else:
            attrs.pop(name, None)

    def _find(self, change: ExportChange) -> int | None:
        if change.anchor is not None:
            pos = self.by_anchor.get(change.anchor)
            if pos is not None:
                return pos
        if change.dn:
            return self._dn_index().get(change.dn.lower())
        return None

    def _dn_index(self) -> dict[str, int]:
        """DN → position, built only when an export names an object by DN alone."""
        if self._by_dn is None:
            self._by_dn = {}
            for i, e in enumerate(self.entries):
                if e is None or e.attributes is None:
                    continue
                if e.dn is None:
                    try:
                        e.dn = self.c.dn_for(e.attributes)
                    except ObjectError:
                        continue
                self._by_dn.setdefault(e.dn.lower(), i)
        return self._by_dn

    def _index_dn(self, dn: str, pos: int) -> None:
        if self._by_dn is not None:
            self._by_dn[dn.lower()] = pos

    def _forget_dn(self, pos: int) -> None:
        if self._by_dn is not None:
            entry = self.entries[pos]
            if entry is not None and entry.dn is not None and self._by_dn.get(entry.dn.lower()) == pos:
                del self._by_dn[entry.dn.lower()]
