"""Values between the engine and Graph's JSON: booleans as JSON booleans, references as Graph ids,
``passwordProfile`` as Graph's object (the engine gives the initial password as a string)."""

from __future__ import annotations

from typing import Any

from reconciler.connectors.base import AttributeSchema

#: Graph properties that are JSON booleans.
BOOLEANS = frozenset({
    "accountEnabled", "mailEnabled", "securityEnabled", "showInAddressList", "isAssignableToRole",
    "onPremisesSyncEnabled", "isResourceAccount",
})  # fmt: skip
#: Graph properties that are collections (multi-valued).
MULTIVALUED = frozenset({
    "businessPhones", "otherMails", "proxyAddresses", "imAddresses", "groupTypes", "identities",
    "members", "schools", "skills", "interests", "responsibilities", "pastProjects",
})  # fmt: skip
#: navigation properties: set through $ref requests, never by PATCH; their values are Graph ids
REFERENCES = frozenset({"manager", "members"})
#: properties Graph takes and never returns
WRITE_ONLY = frozenset({"passwordProfile"})


def to_graph(name: str, value: Any) -> Any:
    """The JSON value Graph takes for ``name``."""
    if value is None:
        return None
    if name in BOOLEANS:
        return _boolean(value)
    if name == "passwordProfile":
        if isinstance(value, dict):
            return value
        return {"password": str(value), "forceChangePasswordNextSignIn": True}
    if name in MULTIVALUED:
        return [v for v in (value if isinstance(value, list | tuple | set) else [value]) if v is not None]
    if isinstance(value, list | tuple):  # a multi-value the engine holds for a single-valued property
        return value[0] if value else None
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    return value


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return value  # Graph says what is wrong with it, on this object


def from_graph(name: str, value: Any) -> Any:
    """The engine's value of Graph's JSON ``value`` (None: the attribute is absent)."""
    if value is None:
        return None
    if name == "manager":
        return value.get("id") if isinstance(value, dict) else str(value)
    if isinstance(value, list):
        items = [v.get("id") if isinstance(v, dict) and name in REFERENCES else v for v in value]
        items = [v for v in items if v is not None]
        return items or None
    return value


def attribute_schema(name: str) -> AttributeSchema:
    if name in REFERENCES:
        return AttributeSchema(name, "reference", multivalued=name == "members", reference=True)
    if name in BOOLEANS:
        return AttributeSchema(name, "boolean")
    return AttributeSchema(name, "string", multivalued=name in MULTIVALUED, write_only=name in WRITE_ONLY)
