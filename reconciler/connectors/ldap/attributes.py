"""What the connector reads and writes of an entry: configured attributes by the playbook's spelling.

LDAP names are case-insensitive and have aliases (``cn`` / ``commonName``); the engine compares names
exactly, so every value the connector imports is filed under the spelling ``object_types`` gives, and
every name it exports is sent as given. An entry's object type is the configured objectClass it
belongs to (its structural class first, then the configured order, superclasses included).
"""

from __future__ import annotations

from typing import Any

from reconciler.connectors.base import ImportedObject
from reconciler.connectors.files.common import ANCHOR_SEPARATOR
from reconciler.connectors.ldap import values
from reconciler.connectors.ldap.schema import DirectorySchema
from reconciler.connectors.ldap.settings import PASSWORD_ATTRIBUTES, Settings


class AttributeMap:
    def __init__(self, settings: Settings, schema: DirectorySchema) -> None:
        self.settings = settings
        self.schema = schema
        configured = settings.attributes()
        self.write_only = frozenset(a for a in configured if self._canonical(a).lower() in PASSWORD_ATTRIBUTES)
        # every name and alias the server may answer with (lower case) → the playbook's spelling
        self._spelling: dict[str, str] = {}
        self._decode: dict[str, Any] = {}
        for a in configured:
            if a in self.write_only:
                continue
            at = schema.attribute(a)
            for n in (at.names if at else (a,)):
                self._spelling.setdefault(n.lower(), a)
            self._decode[a] = values.decoder(at.syntax if at else None)
        self.anchor = settings.anchor
        self._anchor_low = [a.lower() for a in self.anchor]
        self._anchor_decode = [values.decoder(at.syntax if (at := schema.attribute(a)) else None)
                               for a in self.anchor]  # fmt: skip
        self.requested = sorted(
            {*(a for a in configured if a not in self.write_only), *self.anchor,
             "objectClass", "structuralObjectClass", "entryUUID"}, key=str.lower,
        )  # fmt: skip
        self._types = list(settings.object_types)
        self._types_low = {t.lower(): t for t in self._types}
        self._type_cache: dict[tuple[bytes, ...], str | None] = {}
        self._encode: dict[str, Any] = {}
        self._operational: dict[str, bool] = {}

    def _canonical(self, name: str) -> str:
        at = self.schema.attribute(name)
        return at.name if at else name

    # ---------------------------------------------------------------- import
    def object_type(self, raw: Any) -> str | None:
        """The configured object type an entry is (None: none of them)."""
        classes = tuple(raw.get("objectClass") or ())
        structural = tuple(raw.get("structuralObjectClass") or ())
        key = (*classes, b"|", *structural)
        cached = self._type_cache.get(key, self)
        if cached is not self:
            return cached  # type: ignore[return-value]
        found: str | None = None
        for s in structural:
            found = self._types_low.get(s.decode("utf-8", "replace").lower())
        if found is None:
            expanded: set[str] = set()
            for c in classes + structural:
                name = c.decode("utf-8", "replace")
                expanded.add(name.lower())
                expanded |= self.schema.ancestors(name)
            found = next((t for t in self._types if t.lower() in expanded), None)
        self._type_cache[key] = found
        return found

    def imported(self, entry: dict[str, Any], change: Any = None) -> ImportedObject | None:
        """An entry as an ``ImportedObject`` (None when it is of no configured type)."""
        raw = entry["raw_attributes"]
        dn = entry["dn"]
        otype = self.object_type(raw)
        if otype is None:
            return None
        attrs: dict[str, Any] = {}
        spelling, decode = self._spelling, self._decode
        anchor_parts: list[Any] = [None] * len(self.anchor)
        for name, raws in raw.items():
            low = name.lower()
            if low in self._anchor_low:
                i = self._anchor_low.index(low)
                anchor_parts[i] = values.collect(self._anchor_decode[i], raws)
            target = spelling.get(low)
            if target is None or not raws:
                continue
            attrs[target] = values.collect(decode[target], raws)
        anchor, problem = self._anchor(anchor_parts)
        if problem:
            return ImportedObject(dn=dn, object_type=otype, anchor=None, error=f"{dn}: {problem}", change=change)
        return ImportedObject(dn=dn, object_type=otype, anchor=anchor, attributes=attrs, change=change)

    def _anchor(self, parts: list[Any]) -> tuple[str | None, str | None]:
        texts = []
        for name, v in zip(self.anchor, parts):
            if v is None or v == "":
                return None, f"the entry has no {name} (the anchor)"
            if isinstance(v, list):
                return None, f"the anchor {name} has several values"
            texts.append(v.hex() if isinstance(v, bytes) else str(v))
        return ANCHOR_SEPARATOR.join(texts), None

    def anchor_of(self, attributes: dict[str, Any]) -> str | None:
        """The anchor of an entry about to be added, from its attributes (a configured anchor such as
        uid; None for one the directory assigns)."""
        if self.settings.system_anchor:
            return None
        parts = []
        for name in self.anchor:
            v = _get(attributes, name)
            if isinstance(v, list):
                v = v[0] if len(v) == 1 else None
            if v is None or v == "":
                return None
            parts.append(str(v))
        return ANCHOR_SEPARATOR.join(parts)

    # ---------------------------------------------------------------- export
    def encode(self, name: str, value: Any) -> list[Any]:
        """The values of ``name`` as an LDAP request sends them ([] for none)."""
        enc = self._encode.get(name)
        if enc is None:
            at = self.schema.attribute(name)
            enc = values.encoder(at.syntax if at else None, password=self._canonical(name).lower() in PASSWORD_ATTRIBUTES)
            self._encode[name] = enc
        return values.outgoing(enc, value)

    def is_operational(self, name: str) -> bool:
        known = self._operational.get(name)
        if known is None:
            at = self.schema.attribute(name)
            known = self._operational[name] = bool(at and at.operational)
        return known


def _get(attributes: dict[str, Any], name: str) -> Any:
    if name in attributes:
        return attributes[name]
    low = name.lower()
    return next((v for k, v in attributes.items() if k.lower() == low), None)
