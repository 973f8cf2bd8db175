"""Digests: a canonical form of each planned change, hashed, so apply can tell "the same plan" apart.

A change's digest covers what would be exported and what the system holds now (every ``before``,
``after``, ``added``, ``removed``), sensitive values included: they enter the hash, never the file.
Rule names, causes and engine-internal ids (cs/mv guids) stay out, so the digest of a provisioned
add is the same in the rolled-back plan and in the committed apply that follows it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any

import orjson

from reconciler.plan.model import PlannedChange

PLAIN = (str, int, bool, float, type(None))


def jsonable(value: Any) -> Any:
    """A value as plain JSON: bytes become {"base64": …}, datetimes ISO-8601 UTC, sets sorted lists."""
    if type(value) in PLAIN or isinstance(value, bool | int | float | str):
        return value
    if type(value) is list or isinstance(value, list | tuple):  # a multi-valued attribute's text, mostly
        return [v if type(v) is str else jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=_order)
    return str(value)


def _order(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _values(value: Any, multivalued: bool) -> Any:
    # multi-values are sets: their order never makes two plans differ
    if multivalued and isinstance(value, list | tuple | set | frozenset):
        if not value:
            return []
        items = [v if type(v) is str else jsonable(v) for v in value]
        if all(type(v) is str for v in items):
            return sorted(items)  # the common case, without a JSON encoding per value
        return sorted(items, key=_order)
    return value if type(value) in PLAIN else jsonable(value)


def change_identity(change: PlannedChange) -> str:
    """Which object a change is about, stable between a plan and the apply that recomputes it."""
    return f"{change.connector}\x00{change.dn.lower()}"


def canonical(change: PlannedChange) -> dict[str, Any]:
    """The content a change's digest covers."""
    return _form(change)[0]


# values orjson encodes as ``json.dumps`` does without a look inside (an integer past 64 bits it refuses,
# and ``_orjson`` then falls back)
_SCALAR = frozenset({str, bool, int, type(None)})


def _form(change: PlannedChange) -> tuple[dict[str, Any], bool]:
    """``canonical``'s form, and whether every value in it is ``_native`` (worked out on the way: this
    runs for every change of a plan, twice in an apply of a saved one)."""
    plain = True
    forms = []
    for d in change.attributes:
        before, after = d.before, d.after
        if d.multivalued:  # multi-values are sets: their order never makes two plans differ
            before, after = _values(before, True), _values(after, True)
        else:
            if type(before) not in PLAIN:
                before = jsonable(before)
            if type(after) not in PLAIN:
                after = jsonable(after)
        added = _values(d.added, True) if d.added else []
        removed = _values(d.removed, True) if d.removed else []
        if plain and not (type(before) in _SCALAR and type(after) in _SCALAR and not added and not removed):
            plain = _native(before) and _native(after) and _native(added) and _native(removed)
        forms.append({"name": d.name, "before": before, "after": after, "added": added, "removed": removed})
    if len(forms) > 1:
        forms.sort(key=_by_name)
    form = {
        "connector": change.connector,
        "op": change.op,
        "object_type": change.object_type,
        "dn": change.dn,
        "new_dn": change.new_dn,
        "anchor": change.anchor,
        "attributes": forms,
    }
    if plain:
        for key in ("connector", "op", "object_type", "dn", "new_dn", "anchor"):
            if type(form[key]) is not str and form[key] is not None:
                return form, False
    return form, plain


def _by_name(form: dict[str, Any]) -> str:
    return form["name"].lower()  # type: ignore[no-any-return]


def sha256_json(value: Any) -> str:
    data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _native(value: Any) -> bool:
    """Does orjson encode the value byte for byte as ``sha256_json``'s ``json.dumps`` does? Strings,
    integers, booleans, None, lists and string-keyed dicts of those: yes (tests/plan/test_digest.py checks
    it on generated values); floats (``1e16`` against ``1e+16``) and anything else: not assumed."""
    t = type(value)
    if t is str or t is bool or t is int or value is None:
        return True
    # loops, not all() over generators: this walks every change of a plan, and took half the time
    if t is list:
        for v in value:  # noqa: SIM110
            if type(v) is not str and v is not None and not _native(v):  # text and null without a call
                return False
        return True
    if t is dict:
        for k, v in value.items():
            if type(k) is not str or (type(v) is not str and v is not None and not _native(v)):
                return False
        return True
    return False


def _orjson(value: Any, option: int = 0) -> bytes | None:
    """orjson's encoding of a value ``_native`` has vouched for; None where orjson refuses it (an integer
    past 64 bits, text that is not UTF-8), which the standard library then encodes as it always did."""
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError:
        return None


def change_digest(change: PlannedChange) -> str:
    """The digest of one change's full content (sensitive values hashed, never stored).

    Encoded by orjson when that gives the very bytes ``sha256_json`` hashes: the digests of a plan of
    100,000 changes took 2 s through the standard library, and stay what earlier versions computed."""
    form, plain = _form(change)
    data = _orjson(form, orjson.OPT_SORT_KEYS) if plain else None
    return sha256_json(form) if data is None else hashlib.sha256(data).hexdigest()


def compact(value: Any) -> str:
    """The one serialization checksums are taken over: compact, in the document's own key order (the
    standard library's bytes; orjson writes them where ``_native`` says it writes the same)."""
    return compact_bytes(value).decode()


def compact_bytes(value: Any) -> bytes:
    """``compact`` as UTF-8, which is what files and checksums take: a plan's changes are not decoded
    from orjson's bytes only to be encoded again."""
    data = _orjson(value) if _native(value) else None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() if data is None else data


def compact_change(doc: dict[str, Any]) -> bytes:
    """``compact_bytes`` of a plan's change document, whose layout is known: header fields, then deltas
    whose values are the ones to look into (``_native`` of the whole document walks every delta, and
    took a fifth of writing a plan)."""
    for key, value in doc.items():
        if type(value) not in _SCALAR and key != "attributes":
            return compact_bytes(doc)
    for delta in doc["attributes"]:
        for value in delta.values():
            if type(value) not in _SCALAR and not _native(value):
                return compact_bytes(doc)
    data = _orjson(doc)
    return compact_bytes(doc) if data is None else data


def plan_checksum(document: dict[str, Any]) -> str:
    """The checksum of a plan document: everything but the checksum itself."""
    body = compact({k: v for k, v in document.items() if k != "checksum"})
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def digests(changes: Iterable[PlannedChange]) -> dict[str, str]:
    """identity → digest for a list of changes."""
    return {change_identity(c): change_digest(c) for c in changes}
