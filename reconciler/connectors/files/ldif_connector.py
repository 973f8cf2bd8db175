"""The LDIF connector: an RFC 2849 content file, one record per entry, DNs as the file holds them.

- The DN is the record's ``dn:``; a provisioned record takes the DN its outbound rule gives, and a
  rename (the rule's DN changed) rewrites the record's ``dn:`` in place. The anchor is ``anchor``
  (e.g. ``employeeNumber`` or ``entryUUID``) when set, else the DN itself.
- The object type is the connector's ``object_type`` when the record's ``objectClass`` lists it,
  else the record's most specific structural class (from a table of the common schemas, since a
  file has no server schema: ``inetOrgPerson`` beats ``organizationalPerson`` beats ``person``;
  auxiliary classes such as ``posixAccount`` never win; an unknown class counts as structural).
- References name their targets by DN (``reference_style="dn"``).
- Values are text on import, or ``bytes`` for a base64 value that is not UTF-8. On export booleans are
  written ``TRUE``/``FALSE`` and datetimes in GeneralizedTime (``20240131120000Z``), as LDAP holds
  them, so the file loads into a directory with ``ldapadd``; bytes are written base64 (``::``).
- ``changetype: add`` records are read as content; other change types are per-object errors (see
  ``ldif``). Comments are kept: a comment block stays where it is, and a record's leading comments
  stay with it when it is rewritten.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import IO, Any, ClassVar

from reconciler.connectors.base import AttributeSchema, Capabilities, ConnectorSchema
from reconciler.connectors.files.common import decode_text, generalized_time, record_hash, to_text
from reconciler.connectors.files.document import Entry
from reconciler.connectors.files.file_connector import FileConnector, Parsed, Record
from reconciler.connectors.files.ldif import LdifBlock, format_record, leading_comments, parse_ldif
from reconciler.errors import ObjectError

# depth in the class hierarchy of common structural classes (core, cosine, inetorgperson, AD)
_DEPTH = {
    "top": 0, "person": 1, "organizationalperson": 2, "inetorgperson": 3, "residentialperson": 3,
    "user": 3, "computer": 4, "group": 1, "groupofnames": 1, "groupofuniquenames": 1,
    "organizationalunit": 1, "organization": 1, "container": 1, "domain": 1, "country": 1,
    "locality": 1, "organizationalrole": 1, "device": 1, "account": 1, "applicationprocess": 1,
}  # fmt: skip
_AUXILIARY = frozenset({
    "posixaccount", "shadowaccount", "dcobject", "extensibleobject", "simplesecurityobject",
    "uidobject", "mailrecipient", "inetlocalmailrecipient", "labeleduriobject", "pkiuser",
    "strongauthenticationuser", "sambasamaccount", "sambagroupmapping", "krbprincipalaux",
    "ldappublickey", "inetuser", "ntuser",
})  # fmt: skip


def structural_class(classes: list[str]) -> str | None:
    """The most specific structural class of a list of object classes (the last one on a tie)."""
    best, depth = None, -1
    for name in classes:
        low = name.lower()
        if low in _AUXILIARY or low == "top":
            continue
        d = _DEPTH.get(low, 1)
        if d >= depth:
            best, depth = name, d
    return best or (classes[-1] if classes else None)


class LdifConnector(FileConnector):
    """An LDIF content file as a connected system."""

    capabilities: ClassVar[Capabilities] = Capabilities(
        delta_import=True, rename=True, reference_style="dn", whole_file=True, hierarchical=True
    )
    typed_records = True

    def file_value(self, value: Any) -> Any:
        if isinstance(value, bytes | bytearray):
            return bytes(value)
        if isinstance(value, datetime):
            return generalized_time(value)
        return to_text(value, true="TRUE", false="FALSE")

    def attribute_name(self, attributes: Mapping[str, Any], name: str) -> str:
        if name in attributes:
            return name
        low = name.lower()
        return next((k for k in attributes if k.lower() == low), name)

    def _with_anchor_names(self, attributes: Mapping[str, Any]) -> Mapping[str, Any]:
        """``attributes`` with the anchor attributes also under the spelling ``anchor`` gives them."""
        if all(a in attributes for a in self.anchor_attributes):
            return attributes
        return {
            **attributes,
            **{a: attributes.get(self.attribute_name(attributes, a)) for a in self.anchor_attributes},
        }

    def anchor_of(self, attributes: Mapping[str, Any]) -> str | None:
        return super().anchor_of(self._with_anchor_names(attributes))

    def anchor_problem(self, attributes: Mapping[str, Any]) -> str:
        return super().anchor_problem(self._with_anchor_names(attributes))

    def dn_for(self, attributes: Mapping[str, Any]) -> str:
        if not self.config.dn and not self.anchor_attributes:
            raise ObjectError(
                "an LDIF record needs a DN",
                connector=self.name,
                hint="give the outbound rule a `dn` expression, or the connector an `anchor`",
            )
        return super().dn_for(self._with_anchor_names(attributes))

    def type_of(self, attributes: Mapping[str, Any]) -> str:
        """The object type a record's objectClass values give (see the module's doc)."""
        value = attributes.get(self.attribute_name(attributes, "objectClass"))
        classes = [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]
        wanted = self.config.object_type
        if wanted and any(c.lower() == wanted.lower() for c in classes):
            return wanted
        return structural_class(classes) or wanted or "top"

    def parse(self, text: str) -> Parsed:
        parsed = parse_ldif(text)
        return Parsed(self._records(parsed.blocks), {"version": parsed.version})

    def _records(self, blocks: Iterator[LdifBlock]) -> Iterator[Record]:
        for block in blocks:
            digest = record_hash(block.text.encode())
            if block.error is not None:
                line = block.error_line or block.line
                yield Record(line, None, digest, raw=block.text, dn=block.dn, error=block.error)
                continue
            if block.dn is None:  # comments only
                yield Record(block.line, None, digest, raw=block.text)
                continue
            attrs = block.attributes
            yield Record(
                block.dn_line, attrs, digest, raw=block.text, dn=block.dn, object_type=self.type_of(attrs)
            )

    def write(self, out: IO[str], meta: dict[str, Any], entries: list[Entry]) -> None:
        parts = ["version: 1"]
        for e in entries:
            if e.attributes is None or not e.changed:
                parts.append(e.raw)
                continue
            attrs = e.attributes
            if e.raw is None:  # a new record: objectClass, the anchor, then the rest sorted
                attrs = self._new_record(attrs, e.object_type)
            parts.append(format_record(e.dn or "", attrs, leading_comments(e.raw or "")))
        out.write("\n\n".join(parts))
        out.write("\n")

    def _new_record(self, attrs: dict[str, Any], object_type: str | None) -> dict[str, Any]:
        oc = self.attribute_name(attrs, "objectClass")
        first: dict[str, Any] = {oc: attrs[oc]} if oc in attrs else {"objectClass": object_type or "top"}
        for a in self.anchor_attributes:
            name = self.attribute_name(attrs, a)
            if name in attrs:
                first[name] = attrs[name]
        return first | {k: attrs[k] for k in sorted(attrs, key=str.lower) if k not in first}

    def schema(self) -> ConnectorSchema:
        types: dict[str, dict[str, AttributeSchema]] = {}
        data = self._load()
        if data is not None:
            for rec in self.parse(decode_text(data, self.path, self.name, self.encoding)).records:
                if rec.attributes is None:
                    continue
                attrs = types.setdefault(rec.object_type or "top", {})
                for name, value in rec.attributes.items():
                    spec = attrs.setdefault(name, AttributeSchema(name))
                    if isinstance(value, list):
                        spec.multivalued = True
                    if isinstance(value, bytes) or (
                        isinstance(value, list) and any(isinstance(v, bytes) for v in value)
                    ):
                        spec.type = "binary"
        if self.config.object_type:
            types.setdefault(self.config.object_type, {})
        for attrs in types.values():
            for name in self.config.references:
                spec = attrs.setdefault(name, AttributeSchema(name))
                spec.type, spec.reference = "reference", True
        return ConnectorSchema(types)
