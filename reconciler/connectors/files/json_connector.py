"""The JSON connector: a file holding one array of flat objects, one object per record.

- A value keeps its JSON type on import (string, number, boolean); a list is multi-valued; ``null``
  and ``[]`` are absent. A nested object, or a list holding one, is a per-object error.
- A rewrite writes one object per line (``[\\n  {…},\\n  {…}\\n]``) so that git diffs show one line per
  changed record; a file whose objects span several lines (``indent=2``) keeps that style; an object
  no change touched is written back byte for byte.
- A file that is not an array, or is not valid JSON, fails the whole import with its line and column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import IO, Any

from reconciler.connectors.base import AttributeSchema, ConnectorSchema
from reconciler.connectors.files.common import decode_text, record_hash, to_json_value
from reconciler.connectors.files.document import Entry
from reconciler.connectors.files.file_connector import FileConnector, Parsed, Record
from reconciler.errors import ConnectorError

_WS = re.compile(r"[ \t\n\r]*")
_SCALARS = (str, int, float, bool)
_COMPACT = json.JSONEncoder(ensure_ascii=False)
_PRETTY = json.JSONEncoder(ensure_ascii=False, indent=2)
_TYPE_NAMES = {str: "string", int: "integer", float: "string", bool: "boolean"}


class JsonConnector(FileConnector):
    """A JSON file (an array of flat objects) as a connected system."""

    def file_value(self, value: Any) -> Any:
        return to_json_value(value)

    def parse(self, text: str) -> Parsed:
        pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
        if pos == len(text):  # an empty file holds no record
            return Parsed(iter(()), {"pretty": False})
        if text[pos] != "[":
            raise self._error(text, pos, "the file must hold a JSON array of objects")
        # a record spanning lines means the file was written with indent: keep that style
        first = text.find("{", pos)
        pretty = first >= 0 and "\n" in text[first : text.find("}", first)]
        return Parsed(self._records(text, pos + 1), {"pretty": pretty})

    def _records(self, text: str, pos: int) -> Iterator[Record]:
        decoder = json.JSONDecoder()
        line, counted = 1, 0
        end = len(text)
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos < end and text[pos] == "]":
            self._expect_end(text, pos + 1)
            return
        while True:
            try:
                value, after = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise self._error(text, exc.pos, exc.msg) from exc
            line += text.count("\n", counted, pos)
            counted = pos
            raw = text[pos:after]
            yield self._record(value, raw, line)
            pos = _WS.match(text, after).end()  # type: ignore[union-attr]
            if pos >= end:
                raise self._error(text, pos, "the array is not closed with ]")
            if text[pos] == "]":
                self._expect_end(text, pos + 1)
                return
            if text[pos] != ",":
                raise self._error(text, pos, "expected , or ] after an object")
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]

    def _record(self, value: Any, raw: str, line: int) -> Record:
        digest = record_hash(raw.encode())
        if not isinstance(value, dict):
            return Record(line, None, digest, raw=raw, error=f"expected an object, found {_kind(value)}")
        attrs: dict[str, Any] = {}
        for name, v in value.items():
            if v is None or v == []:
                continue
            if isinstance(v, list):
                if not all(isinstance(x, _SCALARS) for x in v):
                    return Record(
                        line, None, digest, raw=raw, error=f"{name}: a list may hold only plain values"
                    )
                v = [x for x in v if x != ""] or None
                if v is None:
                    continue
            elif not isinstance(v, _SCALARS):
                return Record(line, None, digest, raw=raw, error=f"{name}: nested objects are not supported")
            elif v == "":
                continue
            attrs[name] = v
        return Record(line, attrs, digest, raw=raw)

    def _expect_end(self, text: str, pos: int) -> None:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos != len(text):
            raise self._error(text, pos, "unexpected text after the array")

    def _error(self, text: str, pos: int, message: str) -> ConnectorError:
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return ConnectorError(
            f"{self.path.name}: line {line} column {column}: {message}",
            connector=self.name,
            hint="fix the file: it must be one JSON array of flat objects",
        )

    def write(self, out: IO[str], meta: dict[str, Any], entries: list[Entry]) -> None:
        if not entries:
            out.write("[]\n")
            return
        encode = (_PRETTY if meta.get("pretty") else _COMPACT).encode
        anchor = self.anchor_attributes
        orders: dict[tuple[str, ...], list[str]] = {}  # key order of new records, by their key set
        texts = []
        for e in entries:
            if e.attributes is None or not e.changed:
                texts.append(e.raw)
                continue
            attrs = e.attributes
            if e.raw is None:  # a new record: the anchor first, then the rest sorted
                shape = tuple(attrs)
                keys = orders.get(shape)
                if keys is None:
                    keys = orders[shape] = [a for a in anchor if a in attrs] + sorted(
                        n for n in attrs if n not in anchor
                    )
                attrs = {k: attrs[k] for k in keys}
            texts.append(encode(attrs).replace("\n", "\n  "))
        out.write("[\n  ")
        out.write(",\n  ".join(texts))
        out.write("\n]\n")

    def schema(self) -> ConnectorSchema:
        attrs: dict[str, AttributeSchema] = {}
        data = self._load()
        if data is not None:
            for rec in self.parse(decode_text(data, self.path, self.name, self.encoding)).records:
                for name, value in (rec.attributes or {}).items():
                    many = isinstance(value, list)
                    sample = value[0] if many else value
                    known = attrs.get(name)
                    if known is None:
                        attrs[name] = AttributeSchema(name, type=_TYPE_NAMES[type(sample)], multivalued=many)
                    elif many:
                        known.multivalued = True
        for name in self.anchor_attributes:
            attrs.setdefault(name, AttributeSchema(name))
        for name in self.config.references:
            spec = attrs.setdefault(name, AttributeSchema(name))
            spec.type, spec.reference = "reference", True
        return ConnectorSchema({self.object_type: attrs})


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"
