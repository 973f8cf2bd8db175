"""The directory's subschema (RFC 4512) as the connector uses it.

Read once per connector (one search of the subschema entry, parsed by ldap3's own parser), it
answers: an attribute's canonical name and aliases, its syntax (inherited through ``SUP`` when the
type names none), whether it is single-valued or operational; an object class's superiors and the
attributes it allows. From it come the connector's ``ConnectorSchema`` (DN syntax → reference) and
the typing of values on import and export (``values``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.connectors.base import AttributeSchema, ConnectorSchema
from reconciler.connectors.ldap.settings import PASSWORD_ATTRIBUTES

if TYPE_CHECKING:
    from reconciler.connectors.ldap.directory import Directory

# syntaxes (RFC 4517) the engine types; every other syntax is text
DN_SYNTAX = "1.3.6.1.4.1.1466.115.121.1.12"
INTEGER = "1.3.6.1.4.1.1466.115.121.1.27"
BOOLEAN = "1.3.6.1.4.1.1466.115.121.1.7"
GENERALIZED_TIME = "1.3.6.1.4.1.1466.115.121.1.24"
BINARY = frozenset({
    "1.3.6.1.4.1.1466.115.121.1.4",   # audio
    "1.3.6.1.4.1.1466.115.121.1.5",   # binary
    "1.3.6.1.4.1.1466.115.121.1.8",   # certificate
    "1.3.6.1.4.1.1466.115.121.1.9",   # certificate list
    "1.3.6.1.4.1.1466.115.121.1.10",  # certificate pair
    "1.3.6.1.4.1.1466.115.121.1.23",  # fax
    "1.3.6.1.4.1.1466.115.121.1.28",  # JPEG
    "1.3.6.1.4.1.1466.115.121.1.40",  # octet string
    "1.3.6.1.4.1.1466.115.121.1.49",  # supported algorithm
    "1.2.840.113556.1.4.907",         # AD security descriptor
})  # fmt: skip


def engine_type(syntax: str | None) -> str:
    """The metaverse type of an LDAP syntax."""
    if syntax == DN_SYNTAX:
        return "reference"
    if syntax == INTEGER:
        return "integer"
    if syntax == BOOLEAN:
        return "boolean"
    if syntax == GENERALIZED_TIME:
        return "datetime"
    if syntax in BINARY:
        return "binary"
    return "string"


@dataclass(frozen=True)
class AttributeType:
    name: str  # the first NAME
    names: tuple[str, ...]
    syntax: str | None
    single_value: bool
    operational: bool  # NO-USER-MODIFICATION or a usage other than userApplications

    @property
    def type(self) -> str:
        return engine_type(self.syntax)


@dataclass(frozen=True)
class ObjectClass:
    name: str
    superiors: tuple[str, ...]
    must: tuple[str, ...]
    may: tuple[str, ...]
    kind: str  # STRUCTURAL | AUXILIARY | ABSTRACT


@dataclass
class DirectorySchema:
    attributes: dict[str, AttributeType] = field(default_factory=dict)  # by every lower-case name
    classes: dict[str, ObjectClass] = field(default_factory=dict)  # by every lower-case name

    def attribute(self, name: str) -> AttributeType | None:
        return self.attributes.get(name.lower())

    def object_class(self, name: str) -> ObjectClass | None:
        return self.classes.get(name.lower())

    def lineage(self, name: str) -> list[ObjectClass]:
        """The class and its superiors, nearest first (``top`` last)."""
        out: list[ObjectClass] = []
        todo = [name]
        seen: set[str] = set()
        while todo:
            oc = self.object_class(todo.pop(0))
            if oc is None or oc.name.lower() in seen:
                continue
            seen.add(oc.name.lower())
            out.append(oc)
            todo.extend(oc.superiors)
        return out

    def ancestors(self, name: str) -> set[str]:
        """Lower-case names of the class and every superior."""
        return {oc.name.lower() for oc in self.lineage(name)}

    def allowed(self, name: str) -> list[str]:
        """The attributes (canonical names) an entry of this class may hold: MUST and MAY, inherited."""
        out: dict[str, str] = {}
        for oc in self.lineage(name):
            for a in (*oc.must, *oc.may):
                at = self.attribute(a)
                out.setdefault(a.lower(), at.name if at else a)
        return list(out.values())

    def connector_schema(self, object_types: dict[str, list[str]]) -> ConnectorSchema:
        """Each configured object type the server knows, with what its class allows and the configured
        attributes the server knows (an auxiliary class's, say); DN syntax makes a reference."""
        out: dict[str, dict[str, AttributeSchema]] = {}
        for otype, configured in object_types.items():
            if self.object_class(otype) is None:
                continue
            spelled = {a.lower(): a for a in configured}
            attrs: dict[str, AttributeSchema] = {}
            for name in [*self.allowed(otype), *configured]:
                at = self.attribute(name)
                if at is None:
                    continue
                shown = next((spelled[n.lower()] for n in at.names if n.lower() in spelled), at.name)
                if shown in attrs:
                    continue
                attrs[shown] = AttributeSchema(
                    shown, at.type, multivalued=not at.single_value, reference=at.syntax == DN_SYNTAX,
                    write_only=at.name.lower() in PASSWORD_ATTRIBUTES,
                )  # fmt: skip
            out[otype] = attrs
        return ConnectorSchema(out)


def read_schema(directory: Directory) -> DirectorySchema:
    """The subschema the root DSE names (``cn=Subschema`` on OpenLDAP)."""
    from ldap3.protocol.rfc4512 import SchemaInfo

    directory.connection()
    entry = (directory.root.get("subschemasubentry") or ["cn=Subschema"])[0]
    found = directory.read(entry, ["attributeTypes", "objectClasses"])
    if found is None:
        return DirectorySchema()
    raw = found.get("raw_attributes") or {}
    texts = {k: [v.decode("utf-8", "replace") for v in vals] for k, vals in raw.items()}
    attributes = {"attributeTypes": _get(texts, "attributeTypes"), "objectClasses": _get(texts, "objectClasses")}
    info = SchemaInfo(entry, attributes, raw)
    return _build(info)


def _get(texts: dict[str, list[str]], name: str) -> list[str]:
    low = name.lower()
    return next((v for k, v in texts.items() if k.lower() == low), [])


def _build(info: Any) -> DirectorySchema:
    schema = DirectorySchema()
    raw_types: dict[str, Any] = {}
    for key in info.attribute_types:
        at = info.attribute_types[key]
        for n in at.name or ():
            raw_types[n.lower()] = at
    resolved: dict[int, AttributeType] = {}

    def syntax_of(at: Any, depth: int = 0) -> str | None:
        if at.syntax or depth > 16 or not at.superior:
            return str(at.syntax).split("{")[0] if at.syntax else None
        sup = raw_types.get(at.superior[0].lower())
        return syntax_of(sup, depth + 1) if sup is not None else None

    for at in raw_types.values():
        if id(at) in resolved:
            continue
        names = tuple(at.name or ())
        usage = str(at.usage or "")
        resolved[id(at)] = AttributeType(
            name=names[0], names=names, syntax=syntax_of(at), single_value=bool(at.single_value),
            operational=bool(at.no_user_modification) or usage not in ("", "None", "USER_APPLICATIONS",
                                                                      "userApplications"),
        )  # fmt: skip
        for n in names:
            schema.attributes[n.lower()] = resolved[id(at)]
    for key in info.object_classes:
        oc = info.object_classes[key]
        names = tuple(oc.name or ())
        if not names:
            continue
        cls = ObjectClass(
            name=names[0], superiors=tuple(oc.superior or ()), must=tuple(oc.must_contain or ()),
            may=tuple(oc.may_contain or ()), kind=str(oc.kind or "STRUCTURAL"),
        )  # fmt: skip
        for n in names:
            schema.classes[n.lower()] = cls
    return schema
