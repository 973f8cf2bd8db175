"""The graph connector: Microsoft Entra ID (``type: graph``) through msgraph-sdk.

- Object types ``user`` and ``group``; the anchor is the Graph ``id`` (Graph assigns it: the add
  returns it). The DN is the userPrincipalName (users) or the mailNickname (groups): what a reviewer
  recognises in a plan, and what an outbound rule's ``dn`` expression gives at provisioning. Graph
  objects have no hierarchy and are never renamed by DN (a changed userPrincipalName is an update).
- ``manager`` and ``members`` are references by Graph id, set through ``$ref`` requests;
  ``passwordProfile`` is write-only (exported as Graph's object, never read back).
- Full import: the list of each type, paged (see ``reader``); delta import: ``/delta()`` from the
  deltaLinks kept as watermark; a watermark that cannot serve means a full import (its ``note`` says why).
- Export: see ``export``. Errors are translated at the boundary (see ``translate``); the secret is
  revealed only when the credential is built, never printed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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
from reconciler.connectors.graph import builders as b
from reconciler.connectors.graph.client import GraphSession
from reconciler.connectors.graph.export import Exporter
from reconciler.connectors.graph.reader import Reader, Unusable, decode_watermark, encode_watermark
from reconciler.connectors.graph.settings import read_settings
from reconciler.connectors.graph.values import REFERENCES, WRITE_ONLY, attribute_schema
from reconciler.playbook.model import ConnectorConfig


class GraphConnector(Connector):
    """Microsoft Entra ID through Microsoft Graph."""

    capabilities = Capabilities(
        delta_import=True, rename=False, hierarchical=False, reference_style="id", assigns_anchor=True,
        write_only=frozenset(WRITE_ONLY),
    )  # fmt: skip

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        self.settings = read_settings(config)
        self.session = GraphSession(self.settings)
        self.reader = Reader(self.session, self.settings)

    @property
    def types(self) -> list[str]:
        return list(self.settings.object_types)

    @property
    def reference_attributes(self) -> list[str]:
        """The configured navigation properties (manager, members): their values are Graph ids."""
        return sorted({a for attrs in self.settings.object_types.values() for a in attrs if a in REFERENCES})

    # ----------------------------------------------------------- test and schema
    def test(self) -> str:
        s = self.settings
        for t in self.types:
            self.session.call_or_fail(_probe(t), f"read {t}s")
        return (f"{s.base_url}: signed in as client {s.client_id} at tenant {s.tenant} ({s.cloud}); "
                f"readable: {', '.join(t + 's' for t in self.types)}; delta import: /delta()")  # fmt: skip

    def schema(self) -> ConnectorSchema:
        """The configured object types and attributes, typed as Graph types them (Graph's own $metadata
        is some megabytes: the types the connector knows are the ones it converts)."""
        return ConnectorSchema({
            t: {a: attribute_schema(a) for a in ["id", *attrs] if a} for t, attrs in self.settings.object_types.items()
        })  # fmt: skip

    # ----------------------------------------------------------- import
    def full_import(self) -> ImportResult:
        result = ImportResult(objects=iter(()), full=True)
        result.objects = self._full(result)
        return result

    def _full(self, result: ImportResult) -> Iterator[ImportedObject]:
        links = {t: self.reader.latest(t) for t in self.types}
        for t in self.types:
            yield from self.reader.full(t)
        result.watermark = encode_watermark(self.settings.digest(), links)

    def delta_import(self, watermark: str | None) -> ImportResult:
        try:
            links = decode_watermark(watermark, self.settings.digest(), self.types)
            # the changes are read here, before the result says whether it is full (the engine reads that first)
            found = {t: self.reader.changes(t, links[t]) for t in self.types}
        except Unusable as why:
            full = self.full_import()
            full.note = f"a full import: {why}"
            return full
        result = ImportResult(objects=iter(()), full=False)
        result.objects = self._delta(found, result)
        return result

    def _delta(self, found: dict[str, tuple[list[str], list[str], str]], result: ImportResult
               ) -> Iterator[ImportedObject]:  # fmt: skip
        for t, (changed, removed, _) in found.items():
            for oid in removed:
                yield ImportedObject(dn="", object_type=t, anchor=oid, change="delete")
            for oid in changed:
                yield self.reader.read_again(t, oid)
        result.watermark = encode_watermark(self.settings.digest(), {t: f[2] for t, f in found.items()})

    # ----------------------------------------------------------- export
    def export(self, changes: Sequence[ExportChange]) -> list[ExportResult]:
        if not changes:
            return []
        return Exporter(self.session, self.settings, self.reader).apply(changes)

    def close(self) -> None:
        self.session.close()

    def __repr__(self) -> str:
        return f"GraphConnector({self.name!r}, endpoint={self.settings.endpoint!r})"


def _probe(object_type: str) -> Callable[[Any], Any]:
    return lambda c: b.get(b.collection(c, object_type), select=["id"], top=1)
