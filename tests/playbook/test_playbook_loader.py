"""Loading: YAML with marks, the YAML → model mapping, folder merging, secrets, bad input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reconciler.errors import PlaybookError, SecretError
from reconciler.playbook import load_playbook, validate_playbook
from reconciler.playbook.model import Secret

from .conftest import BASE, REPO, Writer, errors_of, line_of, only_error


def test_base_playbook_maps_onto_the_model(write: Writer) -> None:
    path = write(BASE)
    pb = load_playbook(path)
    assert pb.version == 1
    assert pb.base_dir == path.parent
    assert pb.files == [path]
    assert pb.state_path == path.parent / ".reconciler" / "state.db"
    assert pb.metaverse["person"].attributes["manager"].type == "reference"
    hr = pb.connectors["hr"]
    assert (hr.type, hr.anchor, hr.object_type) == ("csv", ["employeeId"], "person")
    assert hr.references["manager"].key == "employeeId"
    assert hr.options == {"path": "hr.csv"}
    assert hr.path_option("path") == path.parent / "hr.csv"
    inbound, outbound = pb.sync_rules
    assert inbound.inbound and not outbound.inbound
    assert [(f.target, f.source, f.expression) for f in inbound.flows] == [
        ("employeeId", "employeeId", None),
        ("displayName", None, '[givenName] & " " & [sn]'),
        ("manager", "manager", None),
    ]
    assert inbound.join[0][0].cs == "employeeId" and inbound.join[0][0].mv == "employeeId"
    assert inbound.scope[0][0].op == "EQUAL" and inbound.scope[0][0].value == "active"
    mail = outbound.flows[3]
    assert (mail.target, mail.initial_only) == ("mail", True)
    assert outbound.provision and outbound.deprovision == "delete"
    # every object points at the YAML that made it
    assert inbound.mark is not None and inbound.mark.line == line_of(path, "name: In from HR")
    assert mail.mark is not None and mail.mark.line == line_of(path, "{cs: mail")


def test_mapping_details(write: Writer) -> None:
    text = BASE.replace("version: 1\n", "version: 1\nstate: /var/lib/rec/state.db\n")
    text = text.replace(
        "scope: [[{attribute: status, op: EQUAL, value: active}]]",
        "scope:\n      - [{attribute: status, op: isin, value: [active, on-leave]}]"
        "\n      - [{attribute: manager, op: isnotnull, case_sensitive: true}]",
    )
    text = text.replace(
        "join: [[{cs: employeeId, mv: employeeId}]]",
        "join:\n      - [{expression: 'UCase([employeeId])', mv: employeeId}]",
    )
    text = text.replace(
        "    anchor: uid\n", "    anchor: [uid, cn]\n    delete_threshold: 7\n    enabled: false\n"
    )
    pb = load_playbook(write(text))
    assert pb.state_path == Path("/var/lib/rec/state.db")
    rule = pb.sync_rules[0]
    assert [[(c.attribute, c.op, c.value, c.case_sensitive) for c in g] for g in rule.scope] == [
        [("status", "ISIN", ["active", "on-leave"], False)],
        [("manager", "ISNOTNULL", None, True)],
    ]
    assert rule.join[0][0].expression == "UCase([employeeId])" and rule.join[0][0].cs is None
    directory = pb.connectors["directory"]
    assert (directory.anchor, directory.delete_threshold, directory.enabled) == (["uid", "cn"], 7, False)
    assert directory.columns == ["uid", "cn", "mail", "manager"]


def test_yaml_12_scalars_stay_strings(write: Writer) -> None:
    # YAML 1.1 would read NO as false, 12:30 as 750 and 2024-01-01 as a date
    text = BASE.replace("value: active}", "value: NO}").replace(
        "[[{attribute: status", "[[{attribute: hired, op: GREATERTHAN, value: 2024-01-01}, {attribute: status"
    )
    text = text.replace("employeeId,givenName", "employeeId,hired,givenName")
    path = write(text)
    (path.parent / "hr.csv").write_text("employeeId,hired,givenName,sn,status,manager\n", encoding="utf-8")
    rule = load_playbook(path).sync_rules[0]
    assert [c.value for c in rule.scope[0]] == ["2024-01-01", "NO"]


def test_secrets_are_secret_objects_with_masked_repr(write: Writer, monkeypatch: pytest.MonkeyPatch) -> None:
    text = BASE + (
        "  - {name: Out to corp, connector: corp, direction: outbound, mv_type: person,"
        " cs_type: inetOrgPerson, precedence: 200, dn: '\"uid=\" & [employeeId]'}\n"
    )
    text = text.replace(
        "sync_rules:",
        "  corp:\n    type: ldap\n    uri: ldap://127.0.0.1:3890\n    base_dn: dc=example,dc=org\n"
        "    bind_dn: cn=admin,dc=example,dc=org\n    password: {env: PB_TEST_PASSWORD}\n"
        "    object_types: {inetOrgPerson: [uid, cn]}\n    anchor: entryUUID\nsync_rules:",
    )
    monkeypatch.setenv("PB_TEST_PASSWORD", "correct horse battery staple")
    pb = load_playbook(write(text))
    corp = pb.connectors["corp"]
    secret = corp.options["password"]
    assert isinstance(secret, Secret) and secret.kind == "env" and secret.ref == "PB_TEST_PASSWORD"
    assert "correct horse" not in repr(corp) and "correct horse" not in repr(pb.raw)
    assert corp.secret("password") == "correct horse battery staple"
    assert isinstance(pb.raw["connectors"]["corp"]["password"], Secret)
    monkeypatch.delenv("PB_TEST_PASSWORD")
    with pytest.raises(SecretError) as info:
        corp.secret("password")
    assert "PB_TEST_PASSWORD" in info.value.one_line()


def test_folder_merges_files_and_points_into_each(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("version: 1\nmetaverse:\n  person:\n    id: {type: string}\n")
    (tmp_path / "b.yaml").write_text(
        "connectors:\n  src: {type: csv, path: s.csv, object_type: person, anchor: id}\n"
        "sync_rules:\n  - {name: r1, connector: src, direction: inbound, cs_type: person, mv_type: person,"
        " precedence: 1, project: true, flows: [{mv: id, cs: id}]}\n"
    )
    (tmp_path / "c.yml").write_text(
        "metaverse:\n  group:\n    name: {type: string}\n"
        "sync_rules:\n  - {name: r2, connector: src, direction: inbound, cs_type: person, mv_type: person,"
        " precedence: 2,\n     flows: [{mv: idd, cs: id}]}\n"
    )
    (tmp_path / "notes.txt").write_text("not a playbook")
    report = validate_playbook(tmp_path)
    # r2 is the second rule of the merged playbook, and its error points into c.yml
    assert errors_of(report) == [
        f"{tmp_path / 'c.yml'}:6:19: rule 'r2': flows[0]: 'idd' is not among the attributes of "
        "metaverse type person (did you mean 'id'?)"
    ]
    (tmp_path / "c.yml").write_text((tmp_path / "c.yml").read_text().replace("idd", "id"))
    pb = load_playbook(tmp_path)
    assert [p.name for p in pb.files] == ["a.yml", "b.yaml", "c.yml"]
    assert set(pb.metaverse) == {"person", "group"} and [r.name for r in pb.sync_rules] == ["r1", "r2"]
    assert pb.base_dir == tmp_path and pb.connectors["src"].base_dir == tmp_path


def test_folder_duplicates_name_both_places(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        "version: 1\nconnectors:\n  hr: {type: csv, path: a.csv, object_type: p, anchor: id}\n"
    )
    (tmp_path / "b.yml").write_text(
        "version: 1\nconnectors:\n  hr: {type: csv, path: b.csv, object_type: p, anchor: id}\n"
    )
    messages = errors_of(validate_playbook(tmp_path))
    assert messages == [
        f"{tmp_path / 'b.yml'}:1:1: 'version' may be set only once (first at {tmp_path / 'a.yml'}:1:1)",
        f"{tmp_path / 'b.yml'}:3:3: connectors.hr is defined twice (first at {tmp_path / 'a.yml'}:3:3)",
    ]


def test_duplicate_key_in_one_mapping(write: Writer) -> None:
    path = write(BASE.replace("    path: hr.csv\n", "    path: hr.csv\n    path: other.csv\n"))
    second = line_of(path, "path: other.csv")
    assert only_error(path) == f"{path}:{second}:5: duplicate key 'path' (first at line {second - 1})"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nmetaverse: {person: {a: {type: string}}\n", "malformed YAML"),
        ("version: 1\n  bad indent: x\n", "malformed YAML"),
        ("- just\n- a list\n", "a playbook file holds a mapping"),
        ("version: 1\nstate: !!python/object:os.system x\n", "unsupported YAML tag"),
        ("? [a, b]\n: 1\n", "a key must be a plain name"),
    ],
)
def test_bad_yaml_is_one_line_with_position(write: Writer, text: str, expected: str) -> None:
    path = write(text)
    message = only_error(path)
    assert message.startswith(f"{path}:") and expected in message
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert info.value.file == str(path) and info.value.line is not None


def test_unreadable_inputs(tmp_path: Path) -> None:
    assert (
        only_error(tmp_path / "missing.yml")
        == f"{tmp_path / 'missing.yml'}: no such file or folder (give a playbook file or folder)"
    )
    assert "holds no *.yml" in only_error(tmp_path)
    (tmp_path / "latin1.yml").write_bytes(b"version: 1\nstate: \xe9t\xe9.db\n")
    assert "not UTF-8 text" in only_error(tmp_path / "latin1.yml")


def test_empty_file_is_an_empty_playbook(write: Writer) -> None:
    pb = load_playbook(write("# nothing yet\n"))
    assert (pb.connectors, pb.sync_rules, pb.metaverse) == ({}, [], {})


def test_anchors_and_merge_keys(write: Writer) -> None:
    text = BASE.replace(
        "connectors:\n  hr:\n    type: csv\n    path: hr.csv\n",
        "connectors:\n  hr: &csv\n    type: csv\n    path: hr.csv\n",
    ).replace(
        "  directory:\n    type: csv\n    path: directory.csv\n    object_type: person\n    anchor: uid\n",
        "  directory:\n    <<: *csv\n    path: directory.csv\n    anchor: uid\n",
    )
    directory = load_playbook(write(text)).connectors["directory"]
    assert (directory.type, directory.object_type, directory.anchor) == ("csv", "person", ["uid"])
    assert directory.options["path"] == "directory.csv"


def test_demo_loads_in_a_few_milliseconds() -> None:
    demo = REPO / "playbooks" / "demo"
    load_playbook(demo)  # first call pays for imports and the schema
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        load_playbook(demo)
    per_load = (time.perf_counter() - start) / runs
    assert per_load < 0.05, f"{per_load * 1000:.1f} ms per load"
