"""The ldap connector against a real slapd: test, schema, full and delta import, export, errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.connectors.base import AttributeChange, ExportChange, ImportedObject
from reconciler.connectors.ldap.connector import LdapConnector
from reconciler.connectors.registry import open_connector
from reconciler.errors import ConnectionFailed, ReconcilerError

from .slapd import ADMIN, PASSWORD, Slapd, free_port, ldap_config


@pytest.fixture
def corp(slapd: Slapd, ou: str) -> Iterator[LdapConnector]:
    conn = open_connector(ldap_config(slapd, [ou]))
    assert isinstance(conn, LdapConnector)
    yield conn
    conn.close()


def objects(result_objects: Iterator[ImportedObject]) -> dict[str, ImportedObject]:
    out = {}
    for o in result_objects:
        assert o.error is None, o.error
        out[o.dn.split(",", 1)[0] if o.dn else o.anchor] = o
    return out


def messages(exc: BaseException) -> str:
    """Everything an error could show: its line, str and repr, and those of its causes."""
    parts = []
    e: BaseException | None = exc
    while e is not None:
        parts += [str(e), repr(e), e.one_line() if isinstance(e, ReconcilerError) else ""]
        e = e.__cause__ or e.__context__
    return "\n".join(parts)


# ---------------------------------------------------------------- test and schema


def test_test_binds_and_names_the_server(corp: LdapConnector, slapd: Slapd) -> None:
    line = corp.test()
    assert "\n" not in line
    assert slapd.uri in line and f"bound as {ADMIN}" in line
    assert "delta import: accesslog" in line


def test_schema_reads_types_multivalues_and_references_from_the_server(slapd: Slapd, ou: str) -> None:
    types = {"inetOrgPerson": ["uid", "cn", "displayName", "manager", "jpegPhoto", "uidNumber", "userPassword"],
             "groupOfNames": ["cn", "member"], "noSuchClass": ["cn"]}  # fmt: skip
    conn = open_connector(ldap_config(slapd, [ou], object_types=types))
    schema = conn.schema().object_types
    person = schema["inetOrgPerson"]
    assert person["manager"].reference and person["manager"].type == "reference"
    assert person["cn"].multivalued and not person["cn"].reference
    assert not person["displayName"].multivalued
    assert person["uidNumber"].type == "integer"  # posixAccount's, configured on the person: known to the server
    assert person["jpegPhoto"].type == "binary"
    assert person["userPassword"].write_only
    assert "sn" in person and "telephoneNumber" in person  # what the class allows, configured or not
    assert schema["groupOfNames"]["member"].reference
    assert "noSuchClass" not in schema  # validate then says the server has no such type
    assert set(conn.reference_attributes) == {"manager", "member"}  # type: ignore[attr-defined]
    assert conn.capabilities.write_only == frozenset({"userPassword"})
    conn.close()


# ---------------------------------------------------------------- full import


def test_full_import_yields_the_entries_under_the_containers_typed(slapd: Slapd, ou: str) -> None:
    slapd.add_person(f"uid=ann,{ou}", cn=["Ann Lee", "Annie Lee"], sn="Lee", mail="ann@example.org",
                     employeeNumber="1")  # fmt: skip
    slapd.add_person(f"uid=bob,{ou}", sn="Ray", manager=f"uid=ann,{ou}",
                     objectClass=["inetOrgPerson", "posixAccount"], uidNumber=1002, gidNumber=100,
                     homeDirectory="/home/bob")  # fmt: skip
    slapd.connection().add(f"cn=staff,{ou}", ["groupOfNames"], {"cn": "staff", "member": f"uid=ann,{ou}"})
    other = slapd.add_ou(f"other-{ou.split(',')[0][3:]}")
    slapd.add_person(f"uid=out,{other}")
    types = {"inetOrgPerson": ["uid", "cn", "sn", "mail", "manager", "employeeNumber", "uidNumber"]}
    conn = open_connector(ldap_config(slapd, [ou], object_types=types))
    try:
        result = conn.full_import()
        got = objects(result.objects)
    finally:
        conn.close()
        slapd.delete_tree(other)
    assert set(got) == {"uid=ann", "uid=bob"}  # not the group (another class), not the entry outside
    ann, bob = got["uid=ann"], got["uid=bob"]
    assert ann.object_type == "inetOrgPerson" and ann.dn == f"uid=ann,{ou}"
    assert sorted(ann.attributes["cn"]) == ["Ann Lee", "Annie Lee"]
    assert ann.attributes["mail"] == "ann@example.org" and ann.attributes["employeeNumber"] == "1"
    assert ann.anchor == slapd.entry(ann.dn)["entryUUID"][0]  # type: ignore[index]
    assert bob.attributes["manager"] == f"uid=ann,{ou}"
    assert bob.attributes["uidNumber"] == 1002
    assert result.full and result.watermark and result.watermark.startswith("accesslog:")


def test_an_entry_without_its_anchor_is_an_error_on_that_entry(slapd: Slapd, ou: str) -> None:
    slapd.add_person(f"uid=ann,{ou}")
    slapd.add_person(f"cn=nouid,{ou}")
    conn = open_connector(ldap_config(slapd, [ou], anchor=["uid"]))
    got = list(conn.full_import().objects)
    conn.close()
    errors = [o for o in got if o.error]
    assert [o.anchor for o in got if not o.error] == ["ann"]
    assert len(errors) == 1 and "no uid" in (errors[0].error or "") and errors[0].dn == f"cn=nouid,{ou}"


# ---------------------------------------------------------------- delta import


def test_delta_import_shows_exactly_an_add_a_modify_a_rename_and_a_delete(slapd: Slapd, ou: str) -> None:
    for name in ("ann", "bob", "cid", "dan"):
        slapd.add_person(f"uid={name},{ou}")
    sub = slapd.add_ou("sub", ou)
    conn = open_connector(ldap_config(slapd, [ou]))
    full = conn.full_import()
    before = {o.dn: o.anchor for o in full.objects}
    ldap = slapd.connection()
    ldap.add(f"uid=eve,{ou}", ["inetOrgPerson"], {"cn": "Eve", "sn": "Eve"})
    ldap.modify(f"uid=ann,{ou}", {"mail": [("MODIFY_REPLACE", ["ann@example.org"])]})
    ldap.modify_dn(f"uid=bob,{ou}", "uid=robert", new_superior=sub)
    ldap.delete(f"uid=cid,{ou}")
    ldap.add(f"uid=x,{slapd.add_ou('elsewhere-' + ou[3:13])}", ["inetOrgPerson"], {"cn": "x", "sn": "x"})
    delta = conn.delta_import(full.watermark)
    got = list(delta.objects)
    conn.close()
    slapd.delete_tree(f"ou=elsewhere-{ou[3:13]},dc=example,dc=org")
    assert not delta.full and delta.watermark and delta.watermark != full.watermark
    by_change = {(o.change, o.dn): o for o in got}
    assert len(got) == 4, got
    assert ("add", f"uid=eve,{ou}") in by_change
    assert by_change[("update", f"uid=ann,{ou}")].attributes["mail"] == "ann@example.org"
    renamed = by_change[("update", f"uid=robert,ou=sub,{ou}")]
    assert renamed.anchor == before[f"uid=bob,{ou}"] and renamed.attributes["uid"] == "robert"
    deleted = [o for o in got if o.change == "delete"]
    assert [d.anchor for d in deleted] == [before[f"uid=cid,{ou}"]]
    # nothing changed since: the next delta is empty
    conn = open_connector(ldap_config(slapd, [ou]))
    again = conn.delta_import(delta.watermark)
    assert list(again.objects) == [] and not again.full
    conn.close()


def test_a_move_out_of_the_containers_is_a_delete_and_back_in_an_add(slapd: Slapd, ou: str) -> None:
    inside = slapd.add_ou("in", ou)
    outside = slapd.add_ou("out", ou)
    slapd.add_person(f"uid=ann,{inside}")
    conn = open_connector(ldap_config(slapd, [inside]))
    full = conn.full_import()
    (anchor,) = [o.anchor for o in full.objects]  # the whole import: the watermark is set at its end
    slapd.connection().modify_dn(f"uid=ann,{inside}", "uid=ann", new_superior=outside)
    delta = conn.delta_import(full.watermark)
    assert [(o.change, o.anchor) for o in delta.objects] == [("delete", anchor)]
    slapd.connection().modify_dn(f"uid=ann,{outside}", "uid=ann", new_superior=inside)
    back = conn.delta_import(delta.watermark)
    assert [(o.change, o.dn) for o in back.objects] == [("update", f"uid=ann,{inside}")]
    conn.close()


def test_a_delta_the_watermark_cannot_serve_is_a_full_import_that_says_why(slapd: Slapd, ou: str) -> None:
    slapd.add_person(f"uid=ann,{ou}")
    conn = open_connector(ldap_config(slapd, [ou]))
    assert isinstance(conn, LdapConnector)
    first = conn.delta_import(None)
    assert first.full and len(list(first.objects)) == 1 and "no watermark" in (first.note or "")
    digest = (first.watermark or "").split(":")[1]
    purged = conn.delta_import(f"accesslog:{digest}:19700101000000.000001Z")
    assert purged.full and "purged" in (purged.note or "")
    assert len(list(purged.objects)) == 1
    forged = conn.delta_import(f"accesslog:{digest}:*)(reqType=*")
    assert forged.full and "does not hold a time" in (forged.note or "")
    assert len(list(forged.objects)) == 1
    other = open_connector(ldap_config(slapd, [ou], object_types={"inetOrgPerson": ["uid", "cn", "title"]}))
    changed = other.delta_import(first.watermark)
    assert changed.full and "settings changed" in (changed.note or "")
    conn.close()
    other.close()


def test_the_uid_anchor_names_deleted_entries_by_their_rdn(slapd: Slapd, ou: str) -> None:
    slapd.add_person(f"uid=ann,{ou}")
    conn = open_connector(ldap_config(slapd, [ou], anchor=["uid"]))
    assert not conn.capabilities.assigns_anchor
    full = conn.full_import()
    assert [o.anchor for o in full.objects] == ["ann"]
    slapd.connection().delete(f"uid=ann,{ou}")
    delta = conn.delta_import(full.watermark)
    assert [(o.change, o.anchor, o.dn) for o in delta.objects] == [("delete", "ann", f"uid=ann,{ou}")]
    conn.close()


# ---------------------------------------------------------------- export


def test_export_adds_updates_renames_and_deletes(slapd: Slapd, ou: str) -> None:
    slapd.add_ou("moved", ou)
    conn = open_connector(ldap_config(slapd, [ou], object_types={
        "inetOrgPerson": ["uid", "cn", "sn", "mail", "manager", "userPassword", "jpegPhoto"]}))  # fmt: skip
    ann, bob = f"uid=ann,{ou}", f"uid=bob,{ou}"
    added = conn.export([
        ExportChange("add", ann, "inetOrgPerson", attributes={"uid": "ann", "cn": "Ann", "sn": "Lee",
                                                               "userPassword": "pw-1", "mail": None}, key=1),
        ExportChange("add", bob, "inetOrgPerson", attributes={"uid": "bob", "cn": ["Bob", "Bobby"], "sn": "Ray",
                                                               "manager": [ann], "jpegPhoto": "AAEC"}, key=2),
    ])  # fmt: skip
    assert [(r.key, r.ok, r.dn) for r in added] == [(1, True, ann), (2, True, bob)]
    assert added[0].anchor == slapd.entry(ann)["entryUUID"][0]  # type: ignore[index]
    entry = slapd.entry(bob)
    assert entry is not None and entry["manager"] == [ann] and sorted(entry["cn"]) == ["Bob", "Bobby"]
    check = slapd.connection()
    assert check.search(bob, "(jpegPhoto=*)", attributes=["jpegPhoto"])
    assert check.response[0]["raw_attributes"]["jpegPhoto"] == [b"\x00\x01\x02"]  # base64 in the engine
    updated = conn.export([
        ExportChange("update", bob, "inetOrgPerson", changes=[
            AttributeChange("manager", replace=None), AttributeChange("mail", replace="bob@example.org"),
            AttributeChange("cn", add=["Robert"], remove=["Bobby"], is_replace=False)], key=2),
        ExportChange("rename", ann, "inetOrgPerson", new_dn=f"uid=anna,ou=moved,{ou}",
                     changes=[AttributeChange("uid", replace="anna")], key=1),
    ])  # fmt: skip
    assert [(r.ok, r.dn) for r in updated] == [(True, bob), (True, f"uid=anna,ou=moved,{ou}")], updated
    entry = slapd.entry(bob)
    assert entry is not None and "manager" not in entry and sorted(entry["cn"]) == ["Bob", "Robert"]
    assert entry["mail"] == ["bob@example.org"]
    assert slapd.entry(ann) is None and slapd.entry(f"uid=anna,ou=moved,{ou}") is not None
    deleted = conn.export([
        ExportChange("delete", bob, "inetOrgPerson", key=2),
        ExportChange("delete", f"uid=gone,{ou}", "inetOrgPerson", key=3),  # already gone: done
    ])  # fmt: skip
    assert [r.ok for r in deleted] == [True, True] and slapd.entry(bob) is None
    conn.close()


def test_export_errors_are_per_object_and_the_batch_goes_on(slapd: Slapd, ou: str) -> None:
    conn = open_connector(ldap_config(slapd, [ou]))
    results = conn.export([
        ExportChange("add", "uid=x,ou=people,dc=example,dc=org", "inetOrgPerson",
                     attributes={"uid": "x", "cn": "x", "sn": "x"}, key=1),
        ExportChange("add", f"uid=y,ou=missing,{ou}", "inetOrgPerson", attributes={"uid": "y", "cn": "y", "sn": "y"},
                     key=2),
        ExportChange("add", f"uid=z,{ou}", "inetOrgPerson", attributes={"uid": "z", "cn": "z"}, key=3),
        ExportChange("add", f"uid=ok,{ou}", "inetOrgPerson", attributes={"uid": "ok", "cn": "ok", "sn": "ok"}, key=4),
        ExportChange("add", f"uid=ok,{ou}", "inetOrgPerson", attributes={"uid": "ok", "cn": "ok", "sn": "ok"}, key=5),
        ExportChange("update", f"uid=ok,{ou}", "inetOrgPerson", changes=[AttributeChange("nosuch", replace="1")],
                     key=6),
        ExportChange("rename", f"uid=ok,{ou}", "inetOrgPerson", new_dn=f"uid=ok,ou=gone,{ou}", key=7),
        ExportChange("update", f"uid=never,{ou}", "inetOrgPerson", changes=[AttributeChange("cn", replace="x")],
                     key=8),
    ])  # fmt: skip
    assert [r.key for r in results] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [r.ok for r in results] == [False, False, False, True, False, False, False, False]
    errors = [r.error or "" for r in results]
    assert all("\n" not in e for e in errors)
    assert "outside the connector's containers" in errors[0]
    assert f"the parent ou=missing,{ou} does not exist" in errors[1]
    assert "requires attribute 'sn'" in errors[2]
    assert "already exists" in errors[4]
    assert "nosuch" in errors[5]
    assert f"the parent ou=gone,{ou} does not exist" in errors[6]
    assert f"uid=never,{ou} does not exist in the directory" in errors[7]
    conn.close()


# ---------------------------------------------------------------- connection failures


def test_a_bad_password_is_one_connection_failed_line_without_the_password(
    slapd: Slapd, ou: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_TEST_WRONG", "wrong-" + PASSWORD)
    conn = open_connector(ldap_config(slapd, [ou], password_env="RECONCILER_TEST_WRONG"))
    with pytest.raises(ConnectionFailed) as err:
        conn.test()
    line = err.value.one_line()
    assert "\n" not in line and "invalid credentials" in line and ADMIN in line
    assert "password from {env: RECONCILER_TEST_WRONG}" in line  # where the password comes from, never what it is
    assert not err.value.retryable
    everything = messages(err.value) + repr(conn)
    assert PASSWORD not in everything and "wrong-" not in everything


def test_an_unreachable_server_is_a_retryable_connection_failed(slapd: Slapd) -> None:
    uri = f"ldap://127.0.0.1:{free_port()}"
    conn = open_connector(ldap_config(slapd, uri=uri, options={"timeout": 2}))
    with pytest.raises(ConnectionFailed) as err:
        list(conn.full_import().objects)
    assert err.value.retryable and uri in err.value.one_line() and "\n" not in err.value.one_line()
    assert PASSWORD not in messages(err.value)


def test_a_connection_the_server_dropped_is_opened_again(
    corp: LdapConnector, slapd: Slapd, ou: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from reconciler.connectors.ldap import directory

    slapd.add_person(f"uid=ann,{ou}")
    assert len(list(corp.full_import().objects)) == 1
    corp.directory.connection().socket.shutdown(socket.SHUT_RDWR)  # as an idle timeout of the server would
    monkeypatch.setattr(directory, "IDLE_CHECK", 0.0)
    assert len(list(corp.full_import().objects)) == 1


def test_an_unquoted_yaml_list_of_containers_is_read_as_the_dns_it_spells(slapd: Slapd) -> None:
    from reconciler.connectors.ldap.settings import read_settings

    # YAML reads DESIGN.md's `containers: [ou=people,dc=example,dc=org]` as three items
    config = ldap_config(slapd, ["ou=people", "dc=example", "dc=org", "ou=groups", "dc=example", "dc=org"])
    assert read_settings(config).containers == ["ou=people,dc=example,dc=org", "ou=groups,dc=example,dc=org"]
    with pytest.raises(ReconcilerError, match="not under base_dn"):
        read_settings(ldap_config(slapd, ["ou=people,dc=other,dc=org"]))
