"""Checking a playbook against ``playbook.schema.json`` and saying what is wrong in a user's words.

jsonschema finds the errors; this module turns each into one diagnostic at the YAML position of the
offending key or value, with "did you mean" for near-miss keys and enum values. A message never
quotes the value of a secret key.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from reconciler.playbook.diagnostics import Diagnostic, did_you_mean
from reconciler.playbook.loader import PathKey, SourceMap

SCHEMA_RESOURCE = ("reconciler", "schemas/playbook.schema.json")
SECRET_KEYS = frozenset({"password", "client_secret", "certificate"})
_JSON_TYPES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}
# keywords whose failure an ``errorMessage`` in the schema explains better than jsonschema does
_EXPLAINED = frozenset({"oneOf", "anyOf", "type", "pattern", "minProperties", "maxProperties"})


@functools.cache
def playbook_schema() -> dict[str, Any]:
    """The playbook JSON Schema shipped inside the package (read once)."""
    package, name = SCHEMA_RESOURCE
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator() -> Draft202012Validator:
    # the schema has no recursion, so its $refs are inlined: validation runs twice as fast
    return Draft202012Validator(_inline(playbook_schema(), playbook_schema()["$defs"]))


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        out = {k: _inline(v, defs) for k, v in node.items() if k not in ("$ref", "$defs")}
        if "$ref" in node:
            return {**_inline(defs[node["$ref"].rsplit("/", 1)[1]], defs), **out}
        return out
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def schema_diagnostics(data: Mapping[str, Any], marks: SourceMap) -> list[Diagnostic]:
    """Every schema violation of ``data`` as a diagnostic at its YAML position."""
    out: list[Diagnostic] = []
    seen: set[tuple[str, str | None, int | None, int | None]] = set()
    for error in _validator().iter_errors(data):
        for diag in _explain(error, marks):
            key = (diag.message, diag.file, diag.line, diag.column)
            if key not in seen:
                seen.add(key)
                out.append(diag)
    return out


def _explain(error: ValidationError, marks: SourceMap) -> Iterator[Diagnostic]:
    path: PathKey = tuple(error.absolute_path)
    where = describe_path(path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    validator = str(error.validator)
    expected: Any = error.validator_value

    if "propertyNames" in error.absolute_schema_path:
        # a bad key: jsonschema reports it at the mapping, with the key as the instance
        name = str(error.instance)
        message = schema.get("errorMessage") or error.message
        yield Diagnostic.at(marks.key((*path, name)), f"{where}: bad name '{name}': {message}")
        return
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(schema.get("properties", {}))
        for key in error.instance:
            if key not in allowed:
                hint = did_you_mean(key, allowed) or f" (allowed: {', '.join(allowed)})"
                yield Diagnostic.at(marks.key((*path, key)), f"unknown key '{key}' in {where}{hint}")
        return
    if validator == "required":
        for name in expected:
            if isinstance(error.instance, dict) and name not in error.instance:
                yield Diagnostic.at(marks.key(path), f"{where}: missing required key '{name}'")
        return
    secret = any(isinstance(p, str) and p in SECRET_KEYS for p in path)
    message = schema.get("errorMessage")
    if isinstance(message, str) and (validator in _EXPLAINED or secret):
        yield Diagnostic.at(marks.value(path), f"{where}: {message}")
        return
    if secret:  # never echo what was written where a secret belongs
        yield Diagnostic.at(marks.value(path), f"{where}: secrets only by {{env: NAME}} or {{file: PATH}}")
        return
    yield Diagnostic.at(marks.value(path), f"{where}: {_message(error, validator)}")


def _message(error: ValidationError, validator: str) -> str:
    instance = error.instance
    expected: Any = error.validator_value
    if validator == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_JSON_TYPES.get(n, n) for n in names)
        return f"must be {wanted}, not {_json_type(instance)}"
    if validator in ("enum", "const"):
        options = expected if validator == "enum" else [expected]
        # lower-case spellings of the scope operators are accepted but not worth listing
        shown = [o for o in options if not (isinstance(o, str) and o.islower() and o.upper() in options)]
        hint = did_you_mean(str(instance), [str(o) for o in shown]) if isinstance(instance, str) else ""
        listed = ", ".join(json.dumps(o) if not isinstance(o, str) else o for o in shown)
        return f"{_short(instance)} is not one of: {listed}{hint}"
    if validator in ("oneOf", "anyOf") and error.context:
        return best_match(error.context).message
    if validator == "minItems":
        return "must not be empty"
    if validator == "uniqueItems":
        return "holds the same value twice"
    if validator == "minLength":
        return "must not be empty"
    return error.message


def _json_type(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    for kind, name in ((dict, "a mapping"), (list, "a list"), (str, "a string"), (int, "a number")):
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, float) else type(value).__name__


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_path(path: PathKey) -> str:
    """``connectors.hr.path`` / ``sync_rules[2].flows[0]``; the top level is ``the playbook``."""
    if not path:
        return "the playbook"
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
