"""The ldap connector: an OpenLDAP directory (``type: ldap``) as a connected system.

- The connector space holds the entries below ``containers`` (default: ``base_dn``) whose
  objectClass is one of ``object_types``; the object type is that class; the anchor is
  ``entryUUID`` by default (the directory assigns it on add; the connector reads it back), or a
  configured attribute such as ``uid``.
- Attributes of DN syntax are references (``reference_attributes``, from the server's schema);
  password attributes (``userPassword``) are write-only: exported, never read back or compared.
- Full import: a paged search of each container. Delta import: the accesslog (see ``delta``); a
  delta the watermark cannot serve is a full import, and its ``note`` says why.
- Export: add (with the anchor read back), modify, modify DN (rename and move), delete (see
  ``export``).

Active Directory (objectGUID, DirSync, unicodePwd) is not handled yet: the settings, the anchor
handling and the delta reader are where it will fit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from reconciler.connectors.base import (
    Capabilities,
    Connector,
    ConnectorSchema,
    ExportChange,
    ExportResult,
    ImportedObject,
    ImportResult,
)
from reconciler.connectors.ldap.attributes import AttributeMap
from reconciler.connectors.ldap.delta import AccessLog, Touched, Unusable, delta_objects
from reconciler.connectors.ldap.directory import Directory
from reconciler.connectors.ldap.export import Exporter
from reconciler.connectors.ldap.schema import DN_SYNTAX, DirectorySchema, read_schema
from reconciler.connectors.ldap.settings import PASSWORD_ATTRIBUTES, read_settings
from reconciler.errors import ConnectorError, ReconcilerError
from reconciler.playbook.model import ConnectorConfig

#: DN-syntax attributes of the common schemas: the references assumed while the server cannot be read.
KNOWN_REFERENCES = frozenset({
    "manager", "member", "owner", "seealso", "secretary", "roleoccupant", "memberof", "distinguishedname",
    "aliasedobjectname", "documentauthor", "associatedname", "directreports", "managedby",
})  # fmt: skip


class LdapConnector(Connector):
    """An LDAP directory (OpenLDAP) as a connected system."""

    capabilities = Capabilities(delta_import=True, rename=True, hierarchical=True, reference_style="dn")

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        self.settings = read_settings(config)
        configured = self.settings.attributes()
        caps = Capabilities(
            delta_import=True, rename=True, hierarchical=True, reference_style="dn",
            assigns_anchor=self.settings.system_anchor,
            write_only=frozenset(a for a in configured if a.lower() in PASSWORD_ATTRIBUTES),
        )  # fmt: skip
        vars(self)["capabilities"] = caps  # per instance: the anchor and write-only set depend on the playbook
        self.directory = Directory(self.settings)
        self._schema: DirectorySchema | None = None
        self._map: AttributeMap | None = None
        self._exporter: Exporter | None = None

    # ----------------------------------------------------------- what it reads once
    def _server_schema(self) -> DirectorySchema:
        if self._schema is None:
            self._schema = read_schema(self.directory)
        return self._schema

    def _attributes(self) -> AttributeMap:
        if self._map is None:
            self._map = AttributeMap(self.settings, self._server_schema())
        return self._map

    @property
    def reference_attributes(self) -> list[str]:
        """The configured attributes of DN syntax (what the engine resolves as references), from the
        server's schema; while the server cannot be read, the usual ones (manager, member, …)."""
        configured = self.settings.attributes()
        try:
            schema = self._server_schema()
        except ReconcilerError:
            return [a for a in configured if a.lower() in KNOWN_REFERENCES]
        return [a for a in configured if (at := schema.attribute(a)) is not None and at.syntax == DN_SYNTAX]

    def anchor_of(self, attributes: dict[str, Any]) -> str | None:
        """The anchor of an entry about to be added when it is a configured attribute (uid); None when
        the directory assigns it (entryUUID): the export reads it back after the add."""
        return self._attributes().anchor_of(attributes)

    # ----------------------------------------------------------- test and schema
    def test(self) -> str:
        directory = self.directory
        directory.connection()
        who = self.settings.bind_dn or "anonymous"
        base = self.settings.base_dn
        if directory.read(base, ["1.1"]) is None:
            raise ConnectorError(
                f"{self.settings.uri}: base_dn {base} does not exist", connector=self.name,
                hint=f"naming contexts of the server: {', '.join(directory.naming_contexts) or 'none'}",
            )  # fmt: skip
        missing = [c for c in self.settings.containers if directory.read(c, ["1.1"]) is None]
        vendor = " ".join(directory.root.get("vendorname", []) + directory.root.get("vendorversion", []))
        delta = AccessLog(directory, self.settings).unavailable()
        parts = [f"{self.settings.uri}: bound as {who}", f"base {base}"]
        if vendor:
            parts.append(vendor)
        if missing:
            parts.append(f"missing containers: {', '.join(missing)}")
        parts.append("delta import: accesslog" if delta is None else f"delta import: none, every import is full: {delta}")
        return "; ".join(parts)

    def schema(self) -> ConnectorSchema:
        return self._server_schema().connector_schema(self.settings.object_types)

    # ----------------------------------------------------------- import
    def full_import(self) -> ImportResult:
        result = ImportResult(objects=iter(()), full=True)
        result.objects = self._full(result)
        return result

    def _full(self, result: ImportResult) -> Iterator[ImportedObject]:
        amap = self._attributes()
        # the log's end before the directory is read: what changes during the read is in the next delta
        mark = AccessLog(self.directory, self.settings).mark()
        search_filter = _type_filter(self.settings.object_types)
        imported = amap.imported
        for container in self.settings.containers:
            for entry in self.directory.search(container, search_filter, amap.requested):
                obj = imported(entry)
                if obj is not None:
                    yield obj
        result.watermark = mark

    def delta_import(self, watermark: str | None) -> ImportResult:
        log = AccessLog(self.directory, self.settings)
        try:
            # the log is read here, before the result says whether it is full (the engine reads that first)
            touched, mark = log.touched(log.position(watermark))
        except Unusable as why:
            full = self.full_import()
            full.note = f"a full import: {why}"
            return full
        result = ImportResult(objects=iter(()), full=False)
        result.objects = self._delta(touched, mark, result)
        return result

    def _delta(self, touched: list[Touched], mark: str, result: ImportResult) -> Iterator[ImportedObject]:
        log = AccessLog(self.directory, self.settings)
        yield from delta_objects(log, self._attributes(), touched)
        result.watermark = mark

    # ----------------------------------------------------------- export
    def export(self, changes: Sequence[ExportChange]) -> list[ExportResult]:
        if not changes:
            return []
        if self._exporter is None:
            self._exporter = Exporter(self.directory, self.settings, self._attributes())
        return self._exporter.apply(changes)

    def close(self) -> None:
        self.directory.close()

    def __repr__(self) -> str:
        return f"LdapConnector({self.name!r}, uri={self.settings.uri!r})"


def _type_filter(object_types: dict[str, list[str]]) -> str:
    classes = [f"(objectClass={t})" for t in object_types]
    return classes[0] if len(classes) == 1 else f"(|{''.join(classes)})"
