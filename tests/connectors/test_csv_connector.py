"""The CSV connector against real files: every rule of DESIGN.md's "File connectors" paragraph."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.connectors.base import AttributeChange, ExportChange
from reconciler.connectors.files.csv_connector import _LINE, _lines
from reconciler.errors import ConnectorError, UserError

from .conftest import add, by_anchor, imported, open_file


def test_import_reads_rows_with_anchor_dn_and_multivalues(tmp_path: Path, hr_csv: Path) -> None:
    conn = open_file(tmp_path, "csv", "hr.csv", anchor=["employeeId"], references={"manager": "employeeId"})
    objs = imported(conn)
    assert [o.anchor for o in objs] == ["1", "2", "3"]
    ann, bob, _ = objs
    assert ann.dn == "employeeId=1" and ann.object_type == "person" and ann.line == 2
    assert ann.attributes == {
        "employeeId": "1", "givenName": "Ann", "sn": "Lee",
        "mail": ["ann@example.org", "a.lee@example.org"],
    }  # fmt: skip
    # an empty cell is an absent attribute; a reference comes as the raw key it names
    assert "manager" not in ann.attributes and "mail" not in bob.attributes
    assert bob.attributes["manager"] == "1"
    assert all(o.content_hash for o in objs)


def test_dn_expression_and_escaped_default_dn(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text('id,name\n"Lee, Ann",Ann\n#7,X\n', encoding="utf-8")
    plain = open_file(tmp_path, "csv", "p.csv", anchor=["id"])
    assert [o.dn for o in imported(plain)] == ["id=Lee\\, Ann", "id=\\#7"]
    expr = open_file(tmp_path, "csv", "p.csv", anchor=["id"], dn='"CN=" & [name] & ",OU=People"')
    assert [o.dn for o in imported(expr)] == ["CN=Ann,OU=People", "CN=X,OU=People"]


def test_several_anchor_attributes_make_one_anchor(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("company,id,name\nA,1,Ann\nB,1,Bob\n", encoding="utf-8")
    conn = open_file(tmp_path, "csv", "p.csv", anchor=["company", "id"])
    objs = imported(conn)
    assert [(o.anchor, o.dn) for o in objs] == [("A|1", "company=A+id=1"), ("B|1", "company=B+id=1")]


def test_missing_file_is_an_empty_system_and_import_never_creates_it(tmp_path: Path) -> None:
    conn = open_file(tmp_path, "csv", "data/hr.csv", anchor=["employeeId"])
    result = conn.full_import()
    assert list(result.objects) == [] and result.watermark == "absent"
    assert "absent" in conn.test()
    assert conn.schema().object_types["person"].keys() == {"employeeId"}
    assert conn.export([]) == []
    # a batch whose only change fails writes nothing either
    [res] = conn.export([add({"givenName": "Ann"})])
    assert not res.ok and "flow a value into employeeId" in (res.error or "")
    assert not (tmp_path / "data").exists()


def test_first_export_creates_the_file_anchor_first_then_sorted(tmp_path: Path) -> None:
    conn = open_file(tmp_path, "csv", "out/people.csv", anchor=["employeeId"])
    results = conn.export(
        [add({"sn": "Lee", "employeeId": "1", "givenName": "Ann"}), add({"employeeId": "2"}, 2)]
    )
    assert [(r.key, r.ok, r.anchor, r.dn) for r in results] == [
        (1, True, "1", "employeeId=1"),
        (2, True, "2", "employeeId=2"),
    ]
    assert (tmp_path / "out/people.csv").read_text() == "employeeId,givenName,sn\n1,Ann,Lee\n2,,\n"
    assert by_anchor(conn) == {
        "1": {"employeeId": "1", "givenName": "Ann", "sn": "Lee"},
        "2": {"employeeId": "2"},
    }


def test_rewrite_keeps_order_and_header_appends_new_records(tmp_path: Path, hr_csv: Path) -> None:
    conn = open_file(tmp_path, "csv", "hr.csv", anchor=["employeeId"])
    results = conn.export(
        [
            add({"employeeId": "0", "givenName": "Zoe", "title": "CEO"}),
            ExportChange("update", "employeeId=2", "person", anchor="2", key=2,
                         changes=[AttributeChange("sn", replace="Roy")]),
            ExportChange("delete", "employeeId=1", "person", anchor="1", key=3),
        ]
    )  # fmt: skip
    assert all(r.ok for r in results)
    assert hr_csv.read_text().splitlines() == [
        "employeeId,givenName,sn,manager,mail,title",  # the file's header kept, a new column appended
        "2,Bob,Roy,1,,",
        "3,Cid,Poe,1,cid@example.org,",
        "0,Zoe,,,,CEO",  # new records at the end, not in anchor order
    ]


def test_unchanged_rows_are_written_back_verbatim(tmp_path: Path) -> None:
    text = 'id,note\r\n1,"quoted, kept"\r\n2,"multi\r\nline"\r\n'
    (tmp_path / "p.csv").write_text(text, encoding="utf-8", newline="")
    conn = open_file(tmp_path, "csv", "p.csv", anchor=["id"])
    conn.export([add({"id": "3", "note": "new"})])
    assert (tmp_path / "p.csv").read_bytes() == (text + "3,new\r\n").encode()  # CRLF kept too


def test_columns_fix_the_header_and_reject_other_attributes(tmp_path: Path) -> None:
    conn = open_file(tmp_path, "csv", "p.csv", anchor=["id"], columns=["id", "sn", "givenName"])
    ok, bad = conn.export([add({"id": "1", "givenName": "Ann"}), add({"id": "2", "title": "x"}, 2)])
    assert ok.ok and not bad.ok and "title" in (bad.error or "") and "columns" in (bad.error or "")
    assert (tmp_path / "p.csv").read_text() == "id,sn,givenName\n1,,Ann\n"
    assert list(conn.schema().object_types["person"]) == ["id", "sn", "givenName"]


def test_absent_attribute_is_written_as_an_empty_cell(tmp_path: Path, hr_csv: Path) -> None:
    conn = open_file(tmp_path, "csv", "hr.csv", anchor=["employeeId"])
    [res] = conn.export(
        [ExportChange("update", "employeeId=3", "person", anchor="3", changes=[AttributeChange("mail")])]
    )
    assert res.ok
    assert hr_csv.read_text().splitlines()[3] == "3,Cid,Poe,1,"
    assert "mail" not in by_anchor(conn)["3"]


def test_multivalues_join_split_and_escape_the_separator(tmp_path: Path) -> None:
    conn = open_file(tmp_path, "csv", "p.csv", anchor=["id"], multivalue_separator="|")
    values = {"id": "1", "proxy": ["smtp:a@x", "smtp:b@x"], "note": "a|b", "one": ["only"]}
    assert conn.export([add(values)])[0].ok
    assert (tmp_path / "p.csv").read_text().splitlines()[1] == "1,a\\|b,only,smtp:a@x|smtp:b@x"
    got = by_anchor(conn)["1"]
    # a value holding the separator comes back whole; one value is a plain string
    assert got == {"id": "1", "proxy": ["smtp:a@x", "smtp:b@x"], "note": "a|b", "one": "only"}


def test_multivalue_add_and_remove_edit_the_cell(tmp_path: Path, hr_csv: Path) -> None:
    conn = open_file(tmp_path, "csv", "hr.csv", anchor=["employeeId"])
    change = AttributeChange("mail", is_replace=False, add=["ann2@example.org"], remove=["a.lee@example.org"])
    assert conn.export([ExportChange("update", "employeeId=1", "person", anchor="1", changes=[change])])[0].ok
    assert by_anchor(conn)["1"]["mail"] == ["ann@example.org", "ann2@example.org"]


def test_engine_types_are_written_in_csv_form(tmp_path: Path) -> None:
    conn = open_file(tmp_path, "csv", "p.csv", anchor=["id"])
    when = datetime(2024, 1, 31, 12, 0, tzinfo=UTC)
    conn.export(
        [add({"id": 7, "enabled": True, "locked": False, "start": when, "photo": b"\x00\xff", "n": 42})]
    )
    row = dict(zip(*[line.split(",") for line in (tmp_path / "p.csv").read_text().splitlines()]))
    assert row == {"id": "7", "enabled": "true", "locked": "false", "start": "2024-01-31T12:00:00Z",
                   "photo": base64.b64encode(b"\x00\xff").decode(), "n": "42"}  # fmt: skip


def test_per_object_errors_name_their_line_and_do_not_stop_the_import(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        'id,name,note\n1,Ann,"two\nlines"\n2,Bob\n,NoAnchor,\n1,Again,\n3,Cid,\n', encoding="utf-8"
    )
    conn = open_file(tmp_path, "csv", "p.csv", anchor=["id"])
    objs = imported(conn)
    errors = {o.line: o.error for o in objs if o.error}
    assert errors == {
        4: "p.csv: line 4: 2 cells where the header has 3 columns",
        5: "p.csv: line 5: no value for the anchor id",
        6: "p.csv: line 6: duplicate anchor 1 (first at line 2)",
    }
    assert [(o.anchor, o.line) for o in objs if not o.error] == [("1", 2), ("3", 7)]
    assert conn.test() == "p.csv: 5 records, 3 with errors"


def test_rows_in_error_survive_a_rewrite(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("id,name\n1,Ann\n2\n1,Dup\n", encoding="utf-8")
    conn = open_file(tmp_path, "csv", "p.csv", anchor=["id"])
    conn.export(
        [ExportChange("update", "id=1", "person", anchor="1", changes=[AttributeChange("name", replace="A")])]
    )
    assert (tmp_path / "p.csv").read_text() == "id,name\n1,A\n2\n1,Dup\n"


def test_an_add_rerun_after_a_crash_is_idempotent_and_never_replaces_another_record(
    tmp_path: Path, hr_csv: Path
) -> None:
    conn = open_file(tmp_path, "csv", "hr.csv", anchor=["employeeId"])
    batch = [add({"employeeId": "9", "givenName": "Nia"}, 2)]
    conn.export(batch)
    once = hr_csv.read_text()
    assert [r.ok for r in conn.export(batch)] == [True]  # the same record is there: nothing to do
    assert hr_csv.read_text() == once
    # an add whose anchor another record holds fails alone: replacing would lose that record
    clash, fresh = conn.export([add({"employeeId": "2", "givenName": "Bo"}), add({"employeeId": "7"}, 3)])
    assert not clash.ok and "another record already has the anchor 2" in (clash.error or "")
    assert fresh.ok
    lines = hr_csv.read_text().splitlines()
    assert lines[:-1] == once.splitlines() and lines[-1].startswith("7,")
    # two adds of one anchor in one batch: the second fails, the first is written
    first, second = conn.export([add({"employeeId": "8", "givenName": "A"}), add({"employeeId": "8", "givenName": "B"}, 5)])
    assert first.ok and not second.ok
    assert hr_csv.read_text().splitlines()[-1].startswith("8,A")


def test_an_add_rerun_with_a_reference_finds_its_record_as_the_file_holds_it(tmp_path: Path) -> None:
    # a reference comes as a list of one value; the cell reads back as text, and the rerun must see that
    # the record written is the same one (a list compared with the text was "another record")
    conn = open_file(tmp_path, "csv", "hr.csv", anchor=["employeeId"])
    batch = [add({"employeeId": "9", "manager": ["3"], "member": ["4", "5"]}, 2)]
    assert [r.ok for r in conn.export(batch)] == [True]
    once = (tmp_path / "hr.csv").read_text()
    assert once.splitlines()[1] == "9,3,4;5"
    assert [(r.ok, r.error) for r in conn.export(batch)] == [(True, None)]
    assert (tmp_path / "hr.csv").read_text() == once


def test_update_of_a_vanished_record_fails_alone_and_delete_of_one_succeeds(
    tmp_path: Path, hr_csv: Path
) -> None:
    conn = open_file(tmp_path, "csv", "hr.csv", anchor=["employeeId"])
    upd, dele, ren = conn.export(
        [
            ExportChange(
                "update", "employeeId=8", "person", anchor="8", changes=[AttributeChange("sn", replace="x")]
            ),
            ExportChange("delete", "employeeId=8", "person", anchor="8"),
            ExportChange("rename", "employeeId=1", "person", anchor="1", new_dn="employeeId=5"),
        ]
    )
    assert not upd.ok and "no record with anchor 8" in (upd.error or "")
    assert dele.ok
    assert not ren.ok and "never renamed" in (ren.error or "")


def test_update_by_dn_when_the_anchor_is_unknown(tmp_path: Path, hr_csv: Path) -> None:
    conn = open_file(tmp_path, "csv", "hr.csv", anchor=["employeeId"], dn='"CN=" & [givenName]')
    change = ExportChange("update", "cn=bob", "person", changes=[AttributeChange("sn", replace="Roy")])
    [res] = conn.export([change])
    assert res.ok and res.anchor == "2" and res.dn == "CN=Bob"
    assert by_anchor(conn)["2"]["sn"] == "Roy"


def test_update_with_full_attributes_keeps_columns_no_rule_owns(tmp_path: Path, hr_csv: Path) -> None:
    conn = open_file(tmp_path, "csv", "hr.csv", anchor=["employeeId"])
    change = ExportChange(
        "update", "employeeId=3", "person", anchor="3", attributes={"givenName": "Cy", "sn": None}
    )
    assert conn.export([change])[0].ok
    assert by_anchor(conn)["3"] == {
        "employeeId": "3",
        "givenName": "Cy",
        "manager": "1",
        "mail": "cid@example.org",
    }


def test_delta_import_skips_an_unchanged_file_and_hashes_show_changed_rows(
    tmp_path: Path, hr_csv: Path
) -> None:
    conn = open_file(tmp_path, "csv", "hr.csv", anchor=["employeeId"])
    first = conn.full_import()
    before = {o.anchor: o.content_hash for o in first.objects}
    assert first.watermark and first.watermark.startswith("sha256:")
    same = conn.delta_import(first.watermark)
    assert same.full is False and list(same.objects) == [] and same.watermark == first.watermark
    hr_csv.write_text(hr_csv.read_text().replace("Bob,Ray", "Bob,Roy"), encoding="utf-8")
    delta = conn.delta_import(first.watermark)
    after = {o.anchor: o.content_hash for o in delta.objects}
    assert delta.full is True  # the engine finds vanished rows by comparing with the connector space
    assert [a for a in after if after[a] != before[a]] == ["2"]
    assert delta.watermark != first.watermark


def test_a_header_change_changes_every_hash(tmp_path: Path, hr_csv: Path) -> None:
    conn = open_file(tmp_path, "csv", "hr.csv", anchor=["employeeId"])
    before = {o.anchor: o.content_hash for o in imported(conn)}
    hr_csv.write_text(hr_csv.read_text().replace("mail\n", "email\n", 1), encoding="utf-8")
    after = {o.anchor: o.content_hash for o in imported(conn)}
    assert all(before[a] != after[a] for a in before)


def test_whole_file_problems_fail_the_import_with_a_line(tmp_path: Path) -> None:
    (tmp_path / "dup.csv").write_text("id,name,id\n1,a,1\n", encoding="utf-8")
    with pytest.raises(ConnectorError, match=r"dup.csv: line 1: column id appears twice"):
        imported(open_file(tmp_path, "csv", "dup.csv", anchor=["id"]))
    (tmp_path / "latin.csv").write_bytes(b"id,name\n1,Ren\xe9\n")
    with pytest.raises(ConnectorError, match=r"latin.csv: line 2: not utf-8"):
        imported(open_file(tmp_path, "csv", "latin.csv", anchor=["id"]))


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_bytes("\ufeffid,name\n1,Ann\n".encode())
    assert by_anchor(open_file(tmp_path, "csv", "p.csv", anchor=["id"])) == {"1": {"id": "1", "name": "Ann"}}


def test_config_mistakes_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="needs `anchor`"):
        open_file(tmp_path, "csv", "p.csv")
    with pytest.raises(UserError, match="needs `object_type`"):
        open_file(tmp_path, "csv", "p.csv", anchor=["id"], object_type=None)


def test_schema_comes_from_the_header_with_references_marked(tmp_path: Path, hr_csv: Path) -> None:
    conn = open_file(tmp_path, "csv", "hr.csv", anchor=["employeeId"], references={"manager": "employeeId"})
    attrs = conn.schema().object_types["person"]
    assert list(attrs) == ["employeeId", "givenName", "sn", "manager", "mail"]
    assert attrs["manager"].reference and not attrs["sn"].reference
    assert conn.capabilities.reference_style == "key" and conn.capabilities.whole_file
    assert conn.test() == "hr.csv: 3 records"


def test_encoding_and_delimiter_options(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_bytes("id;name;groups\n1;René;a|b\n".encode("cp1252"))
    options = {"encoding": "cp1252", "delimiter": ";"}
    conn = open_file(tmp_path, "csv", "p.csv", anchor=["id"], multivalue_separator="|", options_extra=options)
    assert by_anchor(conn) == {"1": {"id": "1", "name": "René", "groups": ["a", "b"]}}
    conn.export([add({"id": "2", "name": "Zoë"})])
    assert (tmp_path / "p.csv").read_bytes() == "id;name;groups\n1;René;a|b\n2;Zoë;\n".encode("cp1252")
    with pytest.raises(UserError, match="must differ"):
        open_file(tmp_path, "csv", "p.csv", anchor=["id"], options_extra={"delimiter": ";"})
    with pytest.raises(UserError, match="unknown encoding"):
        open_file(tmp_path, "csv", "p.csv", anchor=["id"], options_extra={"encoding": "klingon"})


@given(st.text(alphabet="ab,\"å\n", max_size=40))
def test_lines_of_a_text_without_carriage_returns_are_cut_as_the_general_splitter_cuts_them(text: str) -> None:
    # the fast path for \n-only files must hand the CSV reader exactly the lines the general one does
    assert list(_lines(text)) == [m.group() for m in _LINE.finditer(text)]


def test_a_file_with_windows_line_endings_reads_the_same_as_one_with_unix_endings(tmp_path: Path) -> None:
    rows = 'id,name\n1,"Ann\nLee"\n2,Bob\n'
    (tmp_path / "u.csv").write_bytes(rows.encode())
    (tmp_path / "w.csv").write_bytes(rows.replace("\n", "\r\n").encode())
    u = by_anchor(open_file(tmp_path, "csv", "u.csv", anchor=["id"]))
    w = by_anchor(open_file(tmp_path, "csv", "w.csv", anchor=["id"]))
    assert u["2"] == w["2"] == {"id": "2", "name": "Bob"}
    # a quoted value keeps its own line ending
    assert (u["1"]["name"], w["1"]["name"]) == ("Ann\nLee", "Ann\r\nLee")
