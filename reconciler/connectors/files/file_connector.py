"""What CSV, LDIF and JSON connectors share: identity (anchor, DN), import, and the whole-file export.

A format module only parses text into ``Record`` objects and writes ``Entry`` objects back; this
module decides what an object is and how a batch of changes edits the file:

- import reads the whole file every time; each object carries a ``content_hash`` of its record so the
  engine skips the ones that did not change; the watermark is a digest of the whole file, and a
  delta import of an unchanged file returns nothing at all (``full=False``). Records that vanished
  are found by the engine, which compares a full result (``full=True``) with its connector space.
- export applies the batch to the records in memory (existing order kept, new records appended,
  an ``add`` of an anchor already present replaces that record so a rerun after a crash is
  idempotent) and rewrites the file atomically once. Records the connector could not parse are
  written back untouched; a record no change touched is written back verbatim.
"""

from __future__ import annotations

import abc
import codecs
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar

from reconciler.connectors.base import (
    Capabilities,
    Connector,
    ExportChange,
    ExportResult,
    ImportedObject,
    ImportResult,
)
from reconciler.connectors.files.common import (
    ABSENT,
    ANCHOR_SEPARATOR,
    atomic_write,
    decode_text,
    escape_dn_value,
    file_digest,
    gc_paused,
    normalize_values,
    read_file,
    to_text,
)
from reconciler.connectors.files.document import Document, Entry
from reconciler.errors import ObjectError, ReconcilerError, UserError
from reconciler.playbook.model import ConnectorConfig


@dataclass(slots=True)
class Record:
    """One record as a format parsed it: attributes in file form, or an error naming the problem."""

    line: int
    attributes: dict[str, Any] | None
    hash: str = ""
    raw: Any = None  # what a rewrite writes back while the record is unchanged
    dn: str | None = None  # the DN the record holds (LDIF)
    object_type: str | None = None  # the type the record declares (LDIF objectClass)
    error: str | None = None


@dataclass
class Parsed:
    """A parsed file: its records and what a rewrite keeps of its layout (header, style, …)."""

    records: Iterator[Record]
    meta: dict[str, Any] = field(default_factory=dict)


class FileConnector(Connector, abc.ABC):
    """The base of the file connectors: one file, read whole, rewritten atomically."""

    capabilities: ClassVar[Capabilities] = Capabilities(
        delta_import=True, rename=False, reference_style="key", whole_file=True
    )
    #: a file record names its object type itself (LDIF objectClass) instead of ``object_type``
    typed_records: ClassVar[bool] = False
    #: a list of one text value is written as that value (a CSV cell, which reads back as text)
    one_value_as_text: ClassVar[bool] = False

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        path = config.path_option("path")
        if path is None:
            raise UserError(
                f"connector {self.name}: a {config.type} connector needs `path`",
                hint=f"add `path: data/{self.name}.{config.type}` under connectors.{self.name}",
            )
        self.path: Path = path
        self.anchor_attributes: list[str] = list(config.anchor)
        if not self.anchor_attributes and not self.typed_records:
            raise UserError(
                f"connector {self.name}: a {config.type} connector needs `anchor`",
                hint="name the column that identifies a record, e.g. `anchor: employeeId`",
            )
        if not config.object_type and not self.typed_records:
            raise UserError(
                f"connector {self.name}: a {config.type} connector needs `object_type`",
                hint="e.g. `object_type: person`",
            )
        self.object_type: str = config.object_type or ""
        self.encoding: str = str(config.option("encoding") or "utf-8")
        try:
            codecs.lookup(self.encoding)
        except LookupError as exc:
            raise UserError(
                f"connector {self.name}: unknown encoding {self.encoding!r}",
                hint="use a Python codec name such as utf-8, latin-1 or cp1252",
            ) from exc
        self._dn_expression: Any = None

    # ---- what a format implements -------------------------------------------------------------

    @abc.abstractmethod
    def parse(self, text: str) -> Parsed:
        """Parse the file's text; raise ``ConnectorError`` when the file as a whole is unreadable."""

    @abc.abstractmethod
    def write(self, out: IO[str], meta: dict[str, Any], entries: list[Entry]) -> None:
        """Write every entry, in order, in the file's format."""

    def file_value(self, value: Any) -> Any:
        """One engine value in the file's form (text for CSV; JSON and LDIF override)."""
        return to_text(value)

    def attribute_name(self, attributes: Mapping[str, Any], name: str) -> str:
        """The spelling ``name`` has in ``attributes`` (LDIF names are case-insensitive)."""
        return name

    def check_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Raise ``ObjectError`` when a record cannot be written in this file (CSV: outside ``columns``)."""

    # ---- identity ------------------------------------------------------------------------------

    def anchor_of(self, attributes: Mapping[str, Any]) -> str | None:
        """The anchor of a record: its anchor attribute's value (several joined by ``|``), or None."""
        if len(self.anchor_attributes) == 1:
            value = attributes.get(self.anchor_attributes[0])
            if value is None or isinstance(value, list) or value == "":
                return None
            return value if type(value) is str else to_text(value)
        parts = []
        for name in self.anchor_attributes:
            value = attributes.get(name)
            if value is None or isinstance(value, list) or value == "":
                return None
            parts.append(to_text(value))
        return ANCHOR_SEPARATOR.join(parts)

    def anchor_problem(self, attributes: Mapping[str, Any]) -> str:
        for name in self.anchor_attributes:
            if isinstance(attributes.get(name), list):
                return f"the anchor {name} has several values"
        missing = [n for n in self.anchor_attributes if attributes.get(n) in (None, "")]
        return f"no value for the anchor {', '.join(missing)}"

    @property
    def dn_attributes(self) -> frozenset[str]:
        """The attributes ``dn_for`` reads, so the engine computes only those to name a new object."""
        if self.config.dn:
            if self._dn_expression is None:
                self._dn_expression = _compile(self.config.dn, self.name)
            return frozenset(self._dn_expression.attributes)
        return frozenset(self.anchor_attributes)

    def dn_for(self, attributes: Mapping[str, Any]) -> str:
        """The DN of a record: the connector's ``dn`` expression, else ``anchor=value`` (RFC 4514).

        The engine calls this to name an object it provisions into a file connector.
        Raises ``ObjectError`` when the expression gives no value or fails.
        """
        if self.config.dn:
            return self._evaluate_dn(attributes)
        parts = []
        for name in self.anchor_attributes:
            value = attributes.get(name)
            if value is None or isinstance(value, list) or value == "":
                raise ObjectError(self.anchor_problem(attributes), connector=self.name)
            parts.append(f"{name}={escape_dn_value(value if type(value) is str else to_text(value))}")
        return "+".join(parts)

    def _evaluate_dn(self, attributes: Mapping[str, Any]) -> str:
        if self._dn_expression is None:
            self._dn_expression = _compile(self.config.dn or "", self.name)
        try:
            value = self._dn_expression.plain(attributes)
        except ReconcilerError as exc:
            raise ObjectError(f"the dn expression failed: {exc.one_line()}", connector=self.name) from exc
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        if value is None or value == "" or not isinstance(value, str | int):
            raise ObjectError(
                "the dn expression gave no value",
                connector=self.name,
                hint="make the connector's `dn` expression give a value for every record",
            )
        return str(value)

    # ---- import --------------------------------------------------------------------------------

    def _load(self) -> bytes | None:
        return read_file(self.path, self.name)

    def full_import(self) -> ImportResult:
        data = self._load()
        result = ImportResult(objects=iter(()), full=True)
        result.objects = self._import(data, result)
        return result

    def delta_import(self, watermark: str | None) -> ImportResult:
        """The whole file again, unless it is byte for byte the one the watermark names."""
        data = self._load()
        digest = ABSENT if data is None else file_digest(data)
        if watermark is not None and watermark == digest:
            return ImportResult(objects=iter(()), full=False, watermark=digest)
        result = ImportResult(objects=iter(()), full=True)
        result.objects = self._import(data, result)
        return result

    def _import(self, data: bytes | None, result: ImportResult) -> Iterator[ImportedObject]:
        if data is None:
            result.watermark = ABSENT
            return
        digest = file_digest(data)
        text = decode_text(data, self.path, self.name, self.encoding)
        del data  # the text is what the parser reads: a large file is not held twice
        parsed = self.parse(text)
        del text
        filename = self.path.name
        object_type = self.object_type
        seen: dict[str, int] = {}
        anchor_of = self.anchor_of
        dn_for = self.dn_for
        # the common case (one anchor attribute, DN = anchor=value) computed inline: it runs per row
        single = self.anchor_attributes[0] if len(self.anchor_attributes) == 1 else None
        dn_prefix = (
            f"{single}=" if single is not None and not self.config.dn and not self.typed_records else None
        )
        for rec in parsed.records:
            attrs = rec.attributes
            otype = rec.object_type or object_type
            if attrs is None and rec.error is None:
                continue  # nothing to import (an LDIF block of comments)
            if attrs is None or rec.error is not None:
                yield ImportedObject(
                    dn=rec.dn or "", object_type=otype, anchor=None,
                    error=f"{filename}: line {rec.line}: {rec.error}", line=rec.line,
                )  # fmt: skip
                continue
            if single is not None:
                anchor = attrs.get(single)
                if type(anchor) is not str or not anchor:
                    anchor = anchor_of(attrs)
            else:
                anchor = anchor_of(attrs) if self.anchor_attributes else rec.dn
            if anchor is None or anchor in seen:
                if anchor is None:
                    problem = self.anchor_problem(attrs)
                else:
                    problem = f"duplicate anchor {anchor} (first at line {seen[anchor]})"
                yield ImportedObject(
                    dn=rec.dn or "", object_type=otype, anchor=anchor,
                    error=f"{filename}: line {rec.line}: {problem}", line=rec.line,
                )  # fmt: skip
                continue
            seen[anchor] = rec.line
            try:
                if dn_prefix is not None:
                    dn = dn_prefix + (anchor if anchor.isalnum() else escape_dn_value(anchor))
                else:
                    dn = rec.dn if rec.dn is not None else dn_for(attrs)
            except ObjectError as exc:
                yield ImportedObject(
                    dn="", object_type=otype, anchor=anchor,
                    error=f"{filename}: line {rec.line}: {exc.one_line()}", line=rec.line,
                )  # fmt: skip
                continue
            yield ImportedObject(
                dn=dn,
                object_type=otype,
                anchor=anchor,
                attributes=attrs,
                line=rec.line,
                content_hash=rec.hash,
            )
        result.watermark = digest

    # ---- export --------------------------------------------------------------------------------

    def export(self, changes: Sequence[ExportChange]) -> list[ExportResult]:
        if not changes:
            return []
        with gc_paused():
            data = self._load()
            meta: dict[str, Any] = {}
            entries: list[Entry | None] = []
            if data is not None:
                parsed = self.parse(decode_text(data, self.path, self.name, self.encoding))
                meta = parsed.meta
                entries = list(self._entries(parsed.records))
            doc = Document(self, entries)
            results = [doc.apply(change) for change in changes]
            if doc.modified:
                kept = [e for e in doc.entries if e is not None]
                atomic_write(self.path, lambda out: self.write(out, meta, kept), self.name, self.encoding)
        return results

    def _entries(self, records: Iterator[Record]) -> Iterator[Entry]:
        seen: set[str] = set()
        for rec in records:
            attrs = rec.attributes
            anchor = None
            if attrs is not None and rec.error is None:
                anchor = self.anchor_of(attrs) if self.anchor_attributes else rec.dn
            if anchor is None or anchor in seen:  # unreadable or duplicate: written back untouched
                yield Entry(None, None, rec.dn, rec.object_type, rec.raw)
                continue
            seen.add(anchor)
            yield Entry(anchor, attrs, rec.dn, rec.object_type, rec.raw)

    def values(self, value: Any) -> Any:
        """An engine attribute value in file form: None (absent), one value, or a list."""
        return normalize_values(value, self.file_value)

    def file_attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """Engine attributes in file form, absent ones (None, "", []) left out."""
        out: dict[str, Any] = {}
        convert = self.values
        one_as_text = self.one_value_as_text
        for name, value in attributes.items():
            if type(value) is str:  # the common case needs no conversion
                if value:
                    out[name] = value
            elif type(value) is list and (  # text values (references; one, mostly)
                    type(value[0]) is str if len(value) == 1 else all(type(v) is str for v in value)):
                items = [v for v in value if v]
                if items:
                    out[name] = items[0] if one_as_text and len(items) == 1 else items
            elif value is not None:
                value = convert(value)
                if value is not None:
                    out[name] = value
        return out

    # ---- test and schema helpers ---------------------------------------------------------------

    def count(self) -> tuple[int, int]:
        """(records, records with errors) of the file as it is now; (0, 0) when it is absent."""
        data = self._load()
        if data is None:
            return 0, 0
        total = errors = 0
        for obj in self._import(data, ImportResult(objects=iter(()))):
            total += 1
            errors += obj.error is not None
        return total, errors

    def test(self) -> str:
        if not self.path.exists():
            return f"{self.path.name}: absent (an empty connected system; the first export creates it)"
        total, errors = self.count()
        noun = "record" if total == 1 else "records"
        return f"{self.path.name}: {total} {noun}" + (f", {errors} with errors" if errors else "")


def _compile(text: str, connector: str) -> Any:
    """Compile the connector's ``dn`` expression (imported late: the expression engine is optional here)."""
    try:
        from reconciler.expressions import compile_expression  # type: ignore[attr-defined]
    except ImportError:
        try:
            from reconciler.expressions.compiler import compile_expression
        except ImportError as exc:
            raise UserError(
                f"connector {connector}: the `dn` expression needs the expression engine, "
                "which is not available in this build",
                hint="remove `dn` to use anchor=value",
            ) from exc
    try:
        return compile_expression(text)
    except ReconcilerError as exc:
        raise UserError(f"connector {connector}: its `dn` expression is invalid: {exc.one_line()}") from exc
