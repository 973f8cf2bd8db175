"""The CSV connector: one record per row under a header row.

- The first row is the header (names are trimmed). ``columns`` fixes the header a rewrite writes;
  otherwise a rewrite keeps the file's header and appends new attributes in sorted order, and a new
  file starts with the anchor followed by the other attributes in sorted order.
- An empty cell is an absent attribute, and an absent attribute is written as an empty cell.
- A cell holding ``multivalue_separator`` is multi-valued (empty parts dropped). A value that itself
  contains the separator is written with it escaped by a backslash (``\\;``), which import reads back
  as part of the value, so every value round-trips.
- Values are text on import (the engine types them); on export booleans are ``true``/``false``,
  datetimes ISO-8601 UTC with ``Z``, binary base64.
- A row with the wrong number of cells, a missing or duplicate anchor is a per-object error that
  names its line; the row is written back untouched by the next rewrite.
- Line endings are kept (``\\r\\n`` stays ``\\r\\n``); a new file uses ``\\n``.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterator, Mapping
from typing import IO, Any

from reconciler.connectors.base import AttributeSchema, ConnectorSchema
from reconciler.connectors.files.common import decode_text, record_hash
from reconciler.connectors.files.document import Entry
from reconciler.connectors.files.file_connector import FileConnector, Parsed, Record
from reconciler.errors import ConnectorError, ObjectError, UserError
from reconciler.playbook.model import ConnectorConfig

_PLACEHOLDER = "\x00"  # stands for an escaped separator while a cell is split
# one line with its ending, as io.StringIO(newline="") yields them: \r\n, \r or \n, untranslated
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str) -> Iterator[str]:
    """The lines of a text that ends them with \\n alone, each with its ending (as _LINE cuts them)."""
    find, start, size = text.find, 0, len(text)
    while start < size:
        end = find("\n", start) + 1 or size
        yield text[start:end]
        start = end


class CsvConnector(FileConnector):
    """A CSV file as a connected system."""

    # a reference's one value is a cell of text, as an import reads it back: a row of text takes the
    # quick path of ``write`` (a one-value list sent every row of a first export down the slow one)
    one_value_as_text = True

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        self.delimiter = str(config.option("delimiter") or ",")
        if len(self.delimiter) != 1 or self.delimiter in ('"', "\r", "\n"):
            raise UserError(
                f"connector {self.name}: delimiter {self.delimiter!r} must be one character (not a quote)",
                hint="e.g. `delimiter: ';'` for files saved by a European spreadsheet",
            )
        if self.delimiter in config.multivalue_separator:
            raise UserError(
                f"connector {self.name}: the delimiter and multivalue_separator must differ",
                hint="e.g. `delimiter: ','` with `multivalue_separator: ';'`",
            )

    def parse(self, text: str) -> Parsed:
        # lines cut from the text as the reader asks for them: io.StringIO would copy the whole file
        # into a buffer of four bytes a character (a million-row file: ~300 MB)
        lines = _lines(text) if "\r" not in text else (m.group() for m in _LINE.finditer(text))
        reader = csv.reader(lines, delimiter=self.delimiter)
        header: list[str] | None = None
        start = 0
        try:
            for row in reader:
                if row:
                    header = [h.strip() for h in row]
                    start = reader.line_num
                    break
        except csv.Error as exc:
            raise self._csv_error(reader.line_num, exc) from exc
        if header is None:
            return Parsed(iter(()), {"header": None, "newline": "\n"})
        seen: set[str] = set()
        for name in header:
            if not name:
                raise ConnectorError(
                    f"{self.path.name}: line {start}: the header has an empty column name",
                    connector=self.name, hint="name every column of the header row",
                )  # fmt: skip
            if name in seen:
                raise ConnectorError(
                    f"{self.path.name}: line {start}: column {name} appears twice in the header",
                    connector=self.name, hint="rename or remove one of them",
                )  # fmt: skip
            seen.add(name)
        first = text.find("\n")
        newline = "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"
        meta = {"header": header, "newline": newline}
        return Parsed(self._rows(reader, header, start), meta)

    def _rows(self, reader: Any, header: list[str], start: int) -> Iterator[Record]:
        sep = self.config.multivalue_separator
        ncols = len(header)
        salt = record_hash("\x1f".join(header).encode())[:16].encode()
        previous = start
        try:
            for row in reader:
                line = previous + 1
                previous = reader.line_num
                if not row:
                    continue  # a blank line is no record
                joined = "\x1f".join(row)
                digest = record_hash(joined.encode(), salt)
                if len(row) != ncols:
                    yield Record(
                        line, None, digest, raw=row,
                        error=f"{len(row)} cells where the header has {ncols} columns",
                    )  # fmt: skip
                    continue
                if sep in joined:
                    attrs = {}
                    for name, cell in zip(header, row):
                        if cell:
                            value = split_cell(cell, sep) if sep in cell else cell
                            if value is not None:
                                attrs[name] = value
                else:
                    attrs = {name: cell for name, cell in zip(header, row) if cell}
                yield Record(line, attrs, digest, raw=row)
        except csv.Error as exc:
            raise self._csv_error(reader.line_num, exc) from exc

    def _csv_error(self, line: int, exc: csv.Error) -> ConnectorError:
        return ConnectorError(
            f"{self.path.name}: line {line}: not valid CSV: {exc}",
            connector=self.name,
            hint="fix the row (a quote left open swallows the lines after it)",
        )

    def header_for(self, meta: dict[str, Any], entries: list[Entry]) -> list[str]:
        """The header a rewrite writes: ``columns``, else the file's own plus new names, else anchor + sorted."""
        if self.config.columns:
            return list(self.config.columns)
        existing: list[str] = meta.get("header") or []
        known = set(existing)
        new: set[str] = set()
        for e in entries:  # only a changed record can bring a new attribute
            if e.changed and e.attributes and not known.issuperset(e.attributes):
                new.update(e.attributes)
        new -= known
        if existing:
            return existing + sorted(new)
        first = [a for a in self.anchor_attributes if a in new]
        return first + sorted(new - set(first))

    def write(self, out: IO[str], meta: dict[str, Any], entries: list[Entry]) -> None:
        header = self.header_for(meta, entries)
        same_header = header == meta.get("header")
        sep = self.config.multivalue_separator
        newline = meta.get("newline", "\n")
        csv.writer(out, delimiter=self.delimiter, lineterminator=newline).writerow(header)
        rows = []
        for e in entries:
            attrs = e.attributes
            if attrs is None or (same_header and not e.changed):
                row = list(e.raw)
                if not same_header and attrs is None:
                    row = _realign(row, meta.get("header") or [], header)
                rows.append(row)
                continue
            get = attrs.get
            row = [get(name, "") for name in header]
            try:  # the common case: text only, no separator to escape (checked in C, not per cell)
                clean = sep not in "\x1f".join(row)
            except TypeError:  # a list: a multi-valued cell
                clean = False
            # else format only the cells that need it (a reference is a list of one value)
            rows.append(row if clean else [c if type(c) is str and sep not in c else format_cell(c, sep) for c in row])
        # a few thousand rows at a time into a string, then one write: the file's text layer took a
        # third of the time, row by row
        for i in range(0, len(rows), 5000):
            buf = io.StringIO()
            csv.writer(buf, delimiter=self.delimiter, lineterminator=newline).writerows(rows[i : i + 5000])
            out.write(buf.getvalue())

    @functools.cached_property
    def _column_set(self) -> frozenset[str]:
        return frozenset(self.config.columns or ())  # once, not per record of an export

    def check_attributes(self, attributes: Mapping[str, Any]) -> None:
        columns = self.config.columns
        if columns:
            extra = sorted(attributes.keys() - self._column_set)
            if extra:
                raise ObjectError(
                    f"{', '.join(extra)} not among the columns of {self.path.name}",
                    connector=self.name,
                    hint=f"add {', '.join(extra)} to `columns` of connector {self.name}, or stop flowing it",
                )

    def schema(self) -> ConnectorSchema:
        names = list(self.config.columns or [])
        if not names:
            data = self._load()
            if data is not None:
                names = (
                    self.parse(decode_text(data, self.path, self.name, self.encoding)).meta.get("header")
                    or []
                )
        if not names:
            names = list(self.anchor_attributes)
        for name in self.config.references:
            if name not in names:
                names.append(name)
        attrs = {n: _attribute_schema(n, self.config.references) for n in names}
        return ConnectorSchema({self.object_type: attrs})


def split_cell(cell: str, sep: str) -> str | list[str] | None:
    """The values of a cell that holds the separator: a list, one value, or None when all are empty."""
    escaped = "\\" + sep
    if escaped in cell:
        parts = [p.replace(_PLACEHOLDER, sep) for p in cell.replace(escaped, _PLACEHOLDER).split(sep) if p]
    else:
        parts = [p for p in cell.split(sep) if p]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts


def format_cell(value: Any, sep: str) -> str:
    """A value in file form as one cell: empty when absent, multi-values joined, separators escaped."""
    if value is None:
        return ""
    if isinstance(value, list):
        return sep.join(v.replace(sep, "\\" + sep) if sep in v else v for v in map(str, value))
    value = str(value)
    return value.replace(sep, "\\" + sep) if sep in value else value


def _realign(row: list[str], old: list[str], new: list[str]) -> list[str]:
    """An unparsed row under a new header: cells moved by column name, extra cells kept at the end."""
    if len(row) != len(old):
        return row
    by_name = dict(zip(old, row))
    return [by_name.get(n, "") for n in new]


def _attribute_schema(name: str, references: Mapping[str, Any]) -> AttributeSchema:
    if name in references:
        return AttributeSchema(name, type="reference", reference=True)
    return AttributeSchema(name)
