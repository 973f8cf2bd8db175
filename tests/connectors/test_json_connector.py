"""The JSON connector: an array of flat objects whose values keep their JSON types."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.connectors.base import AttributeChange, ExportChange
from reconciler.errors import ConnectorError

from .conftest import add, by_anchor, imported, open_file


def test_values_keep_their_json_types_and_lists_are_multivalued(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(
        '[\n  {"id": 1, "name": "Ann", "enabled": true, "groups": ["a", "b"], "gone": null, "none": []},\n'
        '  {"id": "x2", "name": ""}\n]\n',
        encoding="utf-8",
    )
    objs = imported(open_file(tmp_path, "json", "p.json", anchor=["id"]))
    assert [(o.anchor, o.dn, o.line) for o in objs] == [("1", "id=1", 2), ("x2", "id=x2", 3)]
    assert objs[0].attributes == {"id": 1, "name": "Ann", "enabled": True, "groups": ["a", "b"]}
    assert objs[1].attributes == {"id": "x2"}  # "" and null are absent


def test_bad_records_are_per_object_errors_with_lines(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(
        '[\n{"id": "1"},\n"text",\n{"id": "2",\n "address": {"city": "Oslo"}},\n{"id": "3", "l": [{}]},\n{"id": "1"}\n]',
        encoding="utf-8",
    )
    objs = imported(open_file(tmp_path, "json", "p.json", anchor=["id"]))
    assert [(o.line, o.error) for o in objs if o.error] == [
        (3, "p.json: line 3: expected an object, found a str"),
        (4, "p.json: line 4: address: nested objects are not supported"),
        (6, "p.json: line 6: l: a list may hold only plain values"),
        (7, "p.json: line 7: duplicate anchor 1 (first at line 2)"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"id": 1}', r"line 1 column 1: the file must hold a JSON array"),
        ('[{"id": 1}\n {"id": 2}]', r"line 2 column 2: expected , or \]"),
        ('[{"id": 1}] x', r"line 1 column 13: unexpected text after the array"),
        ('[{"id": 1,}]', r"line 1 column 11: Expecting property name"),
    ],
)
def test_a_file_that_is_not_an_array_fails_with_line_and_column(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "p.json").write_text(text, encoding="utf-8")
    with pytest.raises(ConnectorError, match=message):
        imported(open_file(tmp_path, "json", "p.json", anchor=["id"]))


def test_an_empty_file_or_array_holds_no_record(tmp_path: Path) -> None:
    for text in ("", "  \n", "[]", "[ ]\n"):
        (tmp_path / "p.json").write_text(text, encoding="utf-8")
        assert imported(open_file(tmp_path, "json", "p.json", anchor=["id"])) == []


def test_export_writes_one_object_per_line_and_keeps_untouched_ones_verbatim(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text('[\n  {"id":"1",   "name":"Ann"},\n  {"id": "2", "name": "Bob"}\n]\n')
    conn = open_file(tmp_path, "json", "p.json", anchor=["id"])
    results = conn.export(
        [
            ExportChange("update", "id=2", "person", anchor="2",
                         changes=[AttributeChange("name", replace="Bo"), AttributeChange("age", replace=40)]),
            add({"name": "Éva", "id": "3", "enabled": False, "tags": ["x"]}),
        ]
    )  # fmt: skip
    assert all(r.ok for r in results)
    assert (tmp_path / "p.json").read_text(encoding="utf-8") == (
        '[\n  {"id":"1",   "name":"Ann"},\n'
        '  {"id": "2", "name": "Bo", "age": 40},\n'
        '  {"id": "3", "enabled": false, "name": "Éva", "tags": ["x"]}\n]\n'
    )
    assert by_anchor(conn)["3"] == {"id": "3", "enabled": False, "name": "Éva", "tags": ["x"]}


def test_an_indented_file_keeps_its_style(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text('[\n  {\n    "id": "1"\n  }\n]\n')
    conn = open_file(tmp_path, "json", "p.json", anchor=["id"])
    conn.export([add({"id": "2", "a": 1})])
    assert (
        tmp_path / "p.json"
    ).read_text() == '[\n  {\n    "id": "1"\n  },\n  {\n    "id": "2",\n    "a": 1\n  }\n]\n'
    assert set(by_anchor(conn)) == {"1", "2"}


def test_deleting_every_record_leaves_an_empty_array(tmp_path: Path) -> None:
    conn = open_file(tmp_path, "json", "p.json", anchor=["id"])
    conn.export([add({"id": "1"})])
    conn.export([ExportChange("delete", "id=1", "person", anchor="1")])
    assert (tmp_path / "p.json").read_text() == "[]\n"


def test_schema_infers_types_from_the_values(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text('[{"id": "1", "n": 3, "ok": true, "m": ["a"], "mgr": "2"}]')
    conn = open_file(tmp_path, "json", "p.json", anchor=["id"], references={"mgr": "id"})
    attrs = conn.schema().object_types["person"]
    assert {n: (a.type, a.multivalued, a.reference) for n, a in attrs.items()} == {
        "id": ("string", False, False), "n": ("integer", False, False), "ok": ("boolean", False, False),
        "m": ("string", True, False), "mgr": ("reference", False, True),
    }  # fmt: skip
