"""The JSON Schema: well-formed, described, shipped twice identically, closed at every level,
and its errors reported at the YAML position of the offending key or value."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.playbook import playbook_schema, validate_playbook
from reconciler.playbook.loader import read_source
from reconciler.playbook.schema import schema_diagnostics

from .conftest import BASE, DATA, REPO, Writer, line_of, only_error

FULL = DATA / "full"


def _subschemas(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _subschemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _subschemas(value, f"{where}/{i}")


def _closed_objects() -> list[tuple[str, dict[str, Any]]]:
    return [(w, s) for w, s in _subschemas(playbook_schema()) if s.get("additionalProperties") is False]


def _dicts(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from _dicts(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _dicts(item, (*path, i))


def test_schema_is_valid_2020_12_and_both_copies_are_identical() -> None:
    Draft202012Validator.check_schema(playbook_schema())
    packaged = REPO / "reconciler" / "schemas" / "playbook.schema.json"
    top = REPO / "schemas" / "playbook.schema.json"
    assert packaged.read_bytes() == top.read_bytes(), (
        f"copy {packaged} to {top} (editors use the top-level one)"
    )
    assert json.loads(top.read_text()) == playbook_schema()


def test_every_property_has_a_description() -> None:
    defs = playbook_schema()["$defs"]
    missing = []
    for where, node in _subschemas(playbook_schema()):
        for name, prop in (node.get("properties") or {}).items():
            if "/if/" in f"{where}/":
                continue  # the if-branches only discriminate on type/direction
            target = defs[prop["$ref"].rsplit("/", 1)[1]] if "$ref" in prop else {}
            if "description" not in prop and "description" not in target:
                missing.append(f"{where}/properties/{name}")
    assert not missing


def test_every_object_level_is_closed() -> None:
    """Each object schema either lists its keys (additionalProperties false) or is a map of named
    entries whose values are themselves checked (additionalProperties is a schema)."""
    defs = playbook_schema()["$defs"]
    for where, node in _subschemas(playbook_schema()):
        if node.get("type") == "object" or (isinstance(node.get("type"), list) and "object" in node["type"]):
            branches = [b["then"] for b in node.get("allOf", []) if "then" in b]
            assert "additionalProperties" in node or branches, f"{where} accepts any key"
            # connectors and sync rules close through their type / direction branches
            for branch in branches:
                target = defs[branch["$ref"].rsplit("/", 1)[1]]
                assert target["additionalProperties"] is False, f"{branch['$ref']} accepts any key"


def test_the_full_fixture_uses_every_key_of_every_closed_object() -> None:
    """So that the next test, which adds an unknown key to each mapping of the fixture, reaches
    every closed level of the schema."""
    data = read_source(FULL).data
    defs = playbook_schema()["$defs"]
    for where, schema in _closed_objects():
        validator = Draft202012Validator({**schema, "$defs": defs})
        used: set[str] = set()
        for _, node in _dicts(data):
            if validator.is_valid(node):
                used |= set(node)
        unused = set(schema["properties"]) - used
        assert not unused, f"tests/playbook/data/full uses no {sorted(unused)} of {where}"


def _all_mappings() -> list[tuple[Any, ...]]:
    return [path for path, _ in _dicts(read_source(FULL).data)]


@pytest.mark.parametrize("path", _all_mappings(), ids=lambda p: ".".join(map(str, p)) or "top")
def test_an_unknown_key_is_rejected_at_every_level(path: tuple[Any, ...]) -> None:
    source = read_source(FULL)
    assert not schema_diagnostics(source.data, source.marks)
    data = copy.deepcopy(source.data)
    node = data
    for part in path:
        node = node[part]
    node["zz_unknown"] = {"zz": 1}
    messages = [d.message for d in schema_diagnostics(data, source.marks) if d.severity == "error"]
    assert any("zz_unknown" in m for m in messages), messages


def test_unknown_keys_point_at_the_key_with_did_you_mean(write: Writer) -> None:
    path = write(BASE.replace("    path: hr.csv\n", "    path: hr.csv\n    ancor: employeeId\n"))
    assert only_error(path) == (
        f"{path}:{line_of(path, 'ancor')}:5: unknown key 'ancor' in connectors.hr (did you mean 'anchor'?)"
    )
    path = write(BASE.replace("    project: true\n", "    project: true\n    colour: blue\n"))
    message = only_error(path)
    assert message.startswith(
        f"{path}:{line_of(path, 'colour')}:5: unknown key 'colour' in sync_rules[0] (allowed: "
    )
    path = write("version: 1\nconectors: {}\n")
    assert (
        only_error(path)
        == f"{path}:2:1: unknown key 'conectors' in the playbook (did you mean 'connectors'?)"
    )


def test_keys_of_another_connector_type_or_direction_are_unknown(write: Writer) -> None:
    path = write(BASE.replace("    path: hr.csv\n", "    path: hr.csv\n    base_dn: dc=example\n"))
    assert "unknown key 'base_dn' in connectors.hr" in only_error(path)
    path = write(BASE.replace("    provision: true\n", "    provision: true\n    project: true\n"))
    assert "unknown key 'project' in sync_rules[1]" in only_error(path)
    path = write(
        BASE.replace(
            "{cs: employeeId, mv: employeeId}]]", "{cs: employeeId, mv: employeeId}]]\n    dn: '[x]'"
        )
    )
    assert "unknown key 'dn' in sync_rules[0]" in only_error(path)


@pytest.mark.parametrize(
    ("old", "new", "line_needle", "expected"),
    [
        (
            "type: csv\n    path: hr.csv",
            "type: cvs\n    path: hr.csv",
            "type: cvs",
            "connectors.hr.type: 'cvs' is not one of: csv, ldif, json, ldap, graph (did you mean 'csv'?)",
        ),
        (
            "precedence: 100\n    scope",
            "precedence: high\n    scope",
            "precedence: high",
            "sync_rules[0].precedence: must be an integer, not a string",
        ),
        (
            "direction: inbound",
            "direction: in",
            "direction: in",
            "sync_rules[0].direction: 'in' is not one of: inbound, outbound",
        ),
        ("op: EQUAL", "op: EQUALS", "op: EQUALS", "(did you mean 'EQUAL'?)"),
        ("manager: {type: reference}", "manager: {type: ref}", "type: ref", "(did you mean 'reference'?)"),
        (
            "scope: [[{attribute: status, op: EQUAL, value: active}]]",
            "scope: [{attribute: status, op: EQUAL, value: active}]",
            "scope: [{",
            "each entry of scope is an AND-group",
        ),
        (
            "- {mv: manager, cs: manager}",
            "- {mv: manager, cs: manager, expression: '[x]'}",
            "{mv: manager,",
            "an inbound flow sets mv from either cs (an attribute) or expression, not both",
        ),
        (
            "- {cs: cn, mv: displayName}",
            "- {cs: cn}",
            "{cs: cn}",
            "an outbound flow sets cs from either mv (an attribute) or expression, not both",
        ),
        (
            "  - name: Out to directory\n",
            "  - name: Out to directory\n    deprovision: destroy\n",
            "destroy",
            "'destroy' is not one of: delete, disconnect",
        ),
        ("  hr:\n", "  h r:\n", "h r:", "connectors: bad name 'h r': a name holds letters, digits"),
    ],
)
def test_schema_errors_are_reported_at_their_line(
    write: Writer, old: str, new: str, line_needle: str, expected: str
) -> None:
    assert old in BASE
    path = write(BASE.replace(old, new, 1))
    message = only_error(path)
    assert message.startswith(f"{path}:{line_of(path, line_needle)}:"), message
    assert expected in message


def test_missing_required_keys_point_at_the_object(write: Writer) -> None:
    path = write(BASE.replace("    object_type: person\n    anchor: employeeId\n", "", 1))
    line = line_of(path, "hr:")
    assert sorted(str(d) for d in validate_playbook(path).errors) == [
        f"{path}:{line}:3: connectors.hr: missing required key 'anchor'",
        f"{path}:{line}:3: connectors.hr: missing required key 'object_type'",
    ]


@pytest.mark.parametrize(
    "value", ["hunter2", "{env: A, file: b}", "{value: hunter2}", "{}", "[hunter2]", "{env: 12345}"]
)
def test_a_secret_written_in_clear_is_refused_and_never_echoed(write: Writer, value: str) -> None:
    text = BASE.replace(
        "  directory:\n",
        "  corp:\n    type: ldap\n    uri: ldap://127.0.0.1\n    base_dn: dc=example,dc=org\n"
        f"    password: {value}\n    object_types: {{inetOrgPerson: [uid]}}\n    anchor: entryUUID\n"
        "  directory:\n",
    )
    path = write(text)
    report = validate_playbook(path)
    assert not report.valid
    printed = json.dumps(report.to_json())
    assert "hunter2" not in printed and "12345" not in printed
    first = report.errors[0]
    assert first.line == line_of(path, "password:")
    assert (
        "secrets only by {env: NAME} or {file: PATH}" in first.message
        or "unknown key 'value'" in first.message
    )


def test_schema_path_resolves_in_the_installed_package() -> None:
    from importlib import resources

    packaged = resources.files("reconciler").joinpath("schemas/playbook.schema.json")
    assert json.loads(packaged.read_text(encoding="utf-8"))["$schema"].endswith("2020-12/schema")
    assert Path(str(packaged)).name == "playbook.schema.json"
