"""Which attributes a connector's objects hold, as far as validation can know without connecting.

Sources, most authoritative first: the server schema cached by ``connector schema`` (the hook:
``cached``), the playbook's declarations (``object_types``, ``columns``, ``anchor``, ``references``),
and, for file connectors, the file itself when it exists (CSV header, JSON keys, LDIF attribute
names). When nothing is known the answer is ``None`` and the rules are not checked against it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.connectors.base import ConnectorSchema
from reconciler.playbook.model import ConnectorConfig

#: Files larger than this are not parsed for attribute names (validation stays fast).
MAX_SCAN_BYTES = 20 * 1024 * 1024
#: Graph's reference properties, known without a cached schema.
GRAPH_REFERENCES = frozenset({"manager", "members"})
_LDIF_SKIP = frozenset({"dn", "changetype", "version", "control"})


@dataclass(frozen=True)
class AttributeSet:
    """The attributes of one connector-space object type, as far as they are known.

    ``names`` None means unknown (anything goes). ``references`` are attributes known to be
    references; when ``references_known`` every other attribute is known not to be one.
    """

    names: frozenset[str] | None
    origin: str
    references: frozenset[str] = frozenset()
    references_known: bool = False
    case_insensitive: bool = False  # LDAP attribute names ignore case
    _folded: frozenset[str] = field(default=frozenset(), repr=False)

    @classmethod
    def of(
        cls,
        names: Iterable[str] | None,
        origin: str,
        *,
        references: Iterable[str] = (),
        references_known: bool = False,
        case_insensitive: bool = False,
    ) -> AttributeSet:
        frozen = None if names is None else frozenset(names)
        folded = (
            frozenset(n.lower() for n in frozen) if frozen is not None and case_insensitive else frozenset()
        )
        return cls(frozen, origin, frozenset(references), references_known, case_insensitive, folded)

    def has(self, name: str) -> bool:
        if self.names is None:
            return True
        return name in self.names or (self.case_insensitive and name.lower() in self._folded)

    def is_reference(self, name: str) -> bool | None:
        """True / False when known, None when it cannot be told."""
        refs = {r.lower() for r in self.references} if self.case_insensitive else self.references
        if (name.lower() if self.case_insensitive else name) in refs:
            return True
        return False if self.references_known else None


def file_attributes(config: ConnectorConfig) -> list[str] | None:
    """The attribute names found in a file connector's file; None when it is missing or unreadable."""
    path = config.path_option("path")
    if path is None:
        return None
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
        encoding = str(config.option("encoding") or "utf-8-sig")
        if config.type == "csv":
            return _csv_header(path, encoding, str(config.option("delimiter") or ","))
        if path.stat().st_size > MAX_SCAN_BYTES:
            return None
        text = path.read_text(encoding=encoding)
    except (OSError, UnicodeDecodeError, LookupError):
        return None
    if config.type == "json":
        return _json_keys(text)
    if config.type == "ldif":
        return _ldif_names(text)
    return None


def _csv_header(path: Path, encoding: str, delimiter: str) -> list[str] | None:
    with path.open(encoding=encoding, newline="") as handle:
        first = handle.readline()
    row = next(csv.reader(io.StringIO(first), delimiter=delimiter), None)
    return [c.strip() for c in row if c.strip()] if row else None


def _json_keys(text: str) -> list[str] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, list):
        return None
    names: dict[str, None] = {}
    for item in data:
        if isinstance(item, dict):
            names.update(dict.fromkeys(item))
    return list(names) or None


def _ldif_names(text: str) -> list[str] | None:
    names: dict[str, None] = {}
    for line in text.splitlines():
        if not line or line[0] in " #":
            continue
        name, sep, _ = line.partition(":")
        name = name.split(";", 1)[0].strip()  # attribute options (;binary, ;lang-…)
        if sep and name and name.lower() not in _LDIF_SKIP:
            names[name] = None
    return list(names) or None


def connector_attributes(
    config: ConnectorConfig,
    cs_type: str,
    *,
    write: bool = False,
    cached: ConnectorSchema | None = None,
    written: Iterable[str] = (),
    file_names: list[str] | None = None,
) -> AttributeSet:
    """The attributes of ``cs_type`` objects of ``config`` that rules may read (or, ``write``, write).

    ``written``: attributes outbound rules flow into this connector (an inbound rule may read them
    back even before the file has them); ``file_names``: what ``file_attributes`` found, passed in so
    that a file is read once per validation; ``cached``: the schema ``connector schema`` stored.
    """
    anchors = list(config.anchor)
    if config.is_file:
        refs = list(config.references)
        if config.columns:
            names: Iterable[str] | None = [*config.columns, *anchors, *refs]
            origin = f"the columns of connector {config.name}"
        elif write:
            # an export adds the columns it needs, so without `columns` a file takes any attribute
            names, origin = None, ""
        elif file_names is not None:
            names = [*file_names, *written]
            origin = f"the attributes of {config.option('path')}"
        else:
            names, origin = None, ""
        # an LDIF attribute holding DNs is a reference without being declared, as in LDAP
        return AttributeSet.of(names, origin, references=refs, references_known=config.type != "ldif")

    declared = config.object_types.get(cs_type)
    server = cached.object_types.get(cs_type) if cached else None
    names = None if declared is None else [*declared, *anchors]
    origin = f"object_types.{cs_type} of connector {config.name}"
    if server is not None:
        refs_found: Iterable[str] = [a.name for a in server.values() if a.reference]
        known = True
    elif config.type == "graph":
        refs_found, known = GRAPH_REFERENCES, False
    else:
        refs_found, known = (), False
    return AttributeSet.of(
        names,
        origin,
        references=refs_found,
        references_known=known,
        case_insensitive=config.type == "ldap",
    )
