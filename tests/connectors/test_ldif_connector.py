"""The LDIF connector: RFC 2849 content files (base64, folding, comments), DNs as the file holds them."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

from reconciler.connectors.base import AttributeChange, ExportChange
from reconciler.connectors.files.ldif import fold, parse_ldif
from reconciler.connectors.files.ldif_connector import structural_class

from .conftest import add, imported, open_file

PEOPLE = """version: 1

# the people of example.org
# (a comment block of its own)

dn: uid=ann,ou=people,dc=example,dc=org
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
objectClass: posixAccount
uid: ann
cn:: w4FubiBMw6ll
description: a long description that is folded over two lines because it i
 s longer than seventy-six columns
# a folded comment inside a record
  with its continuation
jpegPhoto:: /9j/4AAQ
manager: uid=bob,ou=people,dc=example,dc=org

dn: uid=bob,ou=people,dc=example,dc=org
changetype: modify
replace: cn
cn: Bob

dn: cn=staff,ou=groups,dc=example,dc=org
changetype: add
objectClass: groupOfNames
member: uid=ann,ou=people,dc=example,dc=org
MEMBER: uid=bob,ou=people,dc=example,dc=org
"""


def test_import_decodes_base64_unfolds_and_skips_comments(tmp_path: Path) -> None:
    (tmp_path / "p.ldif").write_text(PEOPLE, encoding="utf-8")
    conn = open_file(tmp_path, "ldif", "p.ldif", object_type="inetOrgPerson")
    ann, bob, staff = imported(conn)
    assert ann.dn == ann.anchor == "uid=ann,ou=people,dc=example,dc=org" and ann.line == 6
    assert ann.object_type == "inetOrgPerson"
    assert ann.attributes["cn"] == "Ánn Lée"  # base64 of UTF-8 is text
    assert ann.attributes["jpegPhoto"] == b"\xff\xd8\xff\xe0\x00\x10"  # base64 of other bytes stays bytes
    assert ann.attributes["description"].endswith("because it is longer than seventy-six columns")
    assert ann.attributes["objectClass"][-1] == "posixAccount"
    # a change record is a per-object error naming its line; changetype: add is content
    assert bob.error is not None and bob.line == 22 and "changetype: modify" in bob.error
    assert staff.error is None and staff.object_type == "groupOfNames"
    assert staff.attributes["member"] == [
        "uid=ann,ou=people,dc=example,dc=org",
        "uid=bob,ou=people,dc=example,dc=org",
    ]
    assert conn.capabilities.reference_style == "dn"


def test_object_type_is_the_connectors_when_listed_else_the_most_specific_structural(tmp_path: Path) -> None:
    assert (
        structural_class(["top", "person", "organizationalPerson", "inetOrgPerson", "posixAccount"])
        == "inetOrgPerson"
    )
    assert structural_class(["top", "person", "organizationalPerson", "user"]) == "user"
    assert structural_class(["top", "myCompanyPerson"]) == "myCompanyPerson"
    (tmp_path / "p.ldif").write_text(PEOPLE, encoding="utf-8")
    [ann, _, _] = imported(open_file(tmp_path, "ldif", "p.ldif", object_type="person"))
    assert ann.object_type == "person"


def test_an_anchor_attribute_is_read_whatever_its_case(tmp_path: Path) -> None:
    (tmp_path / "p.ldif").write_text(
        "dn: uid=a,dc=x\nobjectClass: person\nENTRYUUID: 1234\n", encoding="utf-8"
    )
    [obj] = imported(open_file(tmp_path, "ldif", "p.ldif", anchor=["entryUUID"]))
    assert obj.anchor == "1234" and obj.dn == "uid=a,dc=x"


def test_errors_do_not_stop_the_import(tmp_path: Path) -> None:
    (tmp_path / "p.ldif").write_text(
        "uid: nodn\n\ndn: uid=b,dc=x\njpegPhoto:: ***\n\ndn: uid=c,dc=x\nphoto:< file:///etc/passwd\n\n"
        "dn: uid=d,dc=x\ncn: ok\n",
        encoding="utf-8",
    )
    objs = imported(open_file(tmp_path, "ldif", "p.ldif"))
    assert [(o.line, o.error) for o in objs if o.error] == [
        (1, "p.ldif: line 1: a record must start with dn: ('uid: nodn')"),
        (4, "p.ldif: line 4: jpegPhoto: the base64 value cannot be decoded"),
        (7, "p.ldif: line 7: photo: URL values (:<) are not supported; put the value in the file"),
    ]
    assert [o.dn for o in objs if not o.error] == ["uid=d,dc=x"]


def test_export_round_trips_base64_folding_and_ldap_value_forms(tmp_path: Path) -> None:
    conn = open_file(tmp_path, "ldif", "out.ldif", anchor=["uid"], object_type="inetOrgPerson")
    long = "x" * 200
    attrs = {"uid": "zoé", "cn": " leading space", "description": long, "jpegPhoto": b"\x00\x01\xfe",
             "enabled": True, "created": datetime(2024, 1, 31, 12, 0, 5, tzinfo=UTC), "mail": ["a@x", "b@x"]}  # fmt: skip
    [res] = conn.export([add(attrs, dn="uid=zoé,ou=people,dc=example,dc=org", object_type="inetOrgPerson")])
    assert res.ok and res.anchor == "zoé" and res.dn == "uid=zoé,ou=people,dc=example,dc=org"
    text = (tmp_path / "out.ldif").read_text()
    assert text.startswith("version: 1\n\ndn:: ")  # a non-ASCII DN is base64
    assert "objectClass: inetOrgPerson\nuid:: " in text  # objectClass, then the anchor, then sorted
    assert "enabled: TRUE\n" in text and "created: 20240131120005Z\n" in text
    assert "jpegPhoto:: " + base64.b64encode(b"\x00\x01\xfe").decode() in text
    assert max(len(line) for line in text.splitlines()) <= 76
    [obj] = imported(conn)
    assert obj.attributes == {
        "objectClass": "inetOrgPerson", "uid": "zoé", "cn": " leading space", "created": "20240131120005Z",
        "description": long, "enabled": "TRUE", "jpegPhoto": b"\x00\x01\xfe", "mail": ["a@x", "b@x"],
    }  # fmt: skip


def test_rewrite_keeps_comments_order_and_untouched_records_verbatim(tmp_path: Path) -> None:
    (tmp_path / "p.ldif").write_text(PEOPLE, encoding="utf-8")
    conn = open_file(tmp_path, "ldif", "p.ldif", object_type="inetOrgPerson")
    staff = "cn=staff,ou=groups,dc=example,dc=org"
    change = AttributeChange("member", is_replace=False, add=["uid=cy,ou=people,dc=example,dc=org"],
                             remove=["uid=bob,ou=people,dc=example,dc=org"])  # fmt: skip
    results = conn.export([ExportChange("update", staff, "groupOfNames", anchor=staff, changes=[change])])
    assert results[0].ok
    text = (tmp_path / "p.ldif").read_text()
    ann_and_bob = PEOPLE[: PEOPLE.index("dn: cn=staff")]
    assert text.startswith(
        ann_and_bob
    )  # comment block, Ann (folded lines, comments) and Bob's bad record kept
    assert text[len(ann_and_bob) :] == (
        "dn: cn=staff,ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\n"
        "member: uid=ann,ou=people,dc=example,dc=org\nmember: uid=cy,ou=people,dc=example,dc=org\n"
    )


def test_deleting_and_an_add_without_a_dn(tmp_path: Path) -> None:
    (tmp_path / "p.ldif").write_text("dn: uid=a,dc=x\nuid: a\n\ndn: uid=b,dc=x\nuid: b\n", encoding="utf-8")
    conn = open_file(tmp_path, "ldif", "p.ldif")
    gone, nodn = conn.export(
        [ExportChange("delete", "uid=a,dc=x", "person", anchor="uid=a,dc=x"), add({"uid": "c"})]
    )
    assert gone.ok and not nodn.ok and "needs a DN" in (nodn.error or "")
    assert (tmp_path / "p.ldif").read_text() == "version: 1\n\ndn: uid=b,dc=x\nuid: b\n"


def test_fold_and_parse_are_inverse() -> None:
    line = "description: " + "é" * 10 + "y" * 150
    folded = fold(line)
    assert all(len(part) <= 76 for part in folded.split("\n"))
    assert folded.replace("\n ", "") == line
    parsed = parse_ldif("dn: cn=a\n" + fold("description: " + "y" * 150) + "\n")
    assert next(parsed.blocks).attributes["description"] == "y" * 150


def test_delta_import_of_an_unchanged_file_returns_nothing(tmp_path: Path) -> None:
    (tmp_path / "p.ldif").write_text(PEOPLE, encoding="utf-8")
    conn = open_file(tmp_path, "ldif", "p.ldif")
    first = conn.full_import()
    hashes = {o.dn: o.content_hash for o in first.objects}
    assert list(conn.delta_import(first.watermark).objects) == []
    (tmp_path / "p.ldif").write_text(PEOPLE.replace("jpegPhoto:: /9j/4AAQ\n", ""), encoding="utf-8")
    changed = [o.dn for o in conn.delta_import(first.watermark).objects if o.content_hash != hashes[o.dn]]
    assert changed == ["uid=ann,ou=people,dc=example,dc=org"]


def test_a_rename_moves_the_record_to_its_new_dn_in_place(tmp_path: Path) -> None:
    (tmp_path / "p.ldif").write_text(
        "dn: uid=jon,dc=x\nuid: jon\nemployeeNumber: 7\n\ndn: uid=mary,dc=x\nuid: mary\nemployeeNumber: 8\n",
        encoding="utf-8",
    )
    conn = open_file(tmp_path, "ldif", "p.ldif", anchor=["employeeNumber"])
    assert conn.capabilities.rename
    rename = ExportChange("rename", "uid=jon,dc=x", "person", anchor="7", new_dn="uid=john,dc=x",
                          changes=[AttributeChange("uid", replace="john")])  # fmt: skip
    [res] = conn.export([rename])
    assert res.ok and res.anchor == "7" and res.dn == "uid=john,dc=x"
    assert (tmp_path / "p.ldif").read_text().startswith("version: 1\n\ndn: uid=john,dc=x\nuid: john\n")
    assert [(o.dn, o.anchor) for o in imported(conn)] == [("uid=john,dc=x", "7"), ("uid=mary,dc=x", "8")]
    # without an anchor attribute the DN is the anchor, so a rename gives a new one
    by_dn = open_file(tmp_path, "ldif", "p.ldif")
    [res] = by_dn.export(
        [ExportChange("rename", "uid=mary,dc=x", "person", anchor="uid=mary,dc=x", new_dn="uid=m,dc=x")]
    )
    assert res.ok and res.anchor == res.dn == "uid=m,dc=x"
