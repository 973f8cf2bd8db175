"""LDIF content files (RFC 2849): a parser that keeps line numbers and a writer that folds.

Parsing splits the text into blocks at empty lines, unfolds continuation lines (a line starting
with one space continues the previous one), drops comments (``#`` lines, folded ones included) and
decodes ``attr:: base64`` values (text when the bytes are UTF-8, ``bytes`` otherwise). A block
keeps its original text, so a rewrite can write an unchanged record back byte for byte.

What a record may hold: ``dn:`` first, then attributes. ``changetype: add`` is read as the content
record it is; the other change types (modify, delete, modrdn, moddn) describe edits, not content,
and are per-object errors, as are URL values (``attr:< file://…``), which would let a file read others.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FOLD = 76  # RFC 2849: lines SHOULD stay within 76 columns


@dataclass(slots=True)
class LdifBlock:
    """One block of an LDIF file: a record (``dn`` set), a comment-only block, or an error.

    ``attributes`` maps each name (spelled as first seen; LDAP names are case-insensitive) to its
    value, or to a list when the record gives it several.
    """

    line: int  # where the block starts (its first line, comments included)
    text: str  # the block as written, line endings normalized to \n
    dn: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_line: int = 0  # the line an error is about
    declares_version: bool = False  # the block opens with the file's `version: 1`
    dn_line: int = 0


@dataclass
class LdifFile:
    version: bool  # the file starts with ``version: 1``
    blocks: Iterator[LdifBlock]  # parsed as they are read: a big file never holds every block twice


def parse_ldif(text: str) -> LdifFile:
    """Parse an LDIF content file; per-record problems are set on the block, never raised."""
    blocks = _blocks(text.replace("\r\n", "\n"))
    first = next(blocks, None)
    if first is None:
        return LdifFile(False, iter(()))
    if not first.declares_version:
        return LdifFile(False, itertools.chain([first], blocks))
    first.text = _without_version(first.text)  # `version: 1` is the file's, not the record's
    if first.dn is None and first.error is None and not first.text.strip():
        return LdifFile(True, blocks)  # the version line stood alone
    return LdifFile(True, itertools.chain([first], blocks))


def _blocks(text: str) -> Iterator[LdifBlock]:
    """Blocks are separated by empty lines; splitting at "\n\n" keeps the loop out of Python."""
    line = 1
    first = True
    for chunk in text.split("\n\n"):
        body = chunk.strip("\n")
        if body:
            yield _parse_block(body, line + len(chunk) - len(chunk.lstrip("\n")), first=first)
            first = False
        line += chunk.count("\n") + 2


def _without_version(text: str) -> str:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.lower().startswith("version"):
            return "\n".join(lines[:i] + lines[i + 1 :])
    return text


def _logical_lines(raw: list[str], first_line: int) -> tuple[list[str], list[int]]:
    """Unfold continuation lines and drop comments: the logical lines and where each starts."""
    lines: list[str] = []
    numbers: list[int] = []
    comment = False
    for n, line in enumerate(raw, first_line):
        if line.startswith(" "):
            if comment:
                continue
            if not lines:  # a continuation with nothing to continue: an error later
                lines.append(line)
                numbers.append(n)
            else:
                lines[-1] += line[1:]
            continue
        comment = line.startswith("#")
        if not comment:
            lines.append(line)
            numbers.append(n)
    return lines, numbers


def _parse_block(text: str, first_line: int, *, first: bool) -> LdifBlock:
    block = LdifBlock(line=first_line, text=text)
    lines = text.split("\n")
    numbers: list[int] | None = None  # None: line i is at first_line + i (nothing folded, no comment)
    if "\n " in text or "\n#" in text or text[:1] in (" ", "#"):
        lines, numbers = _logical_lines(lines, first_line)

    def where(i: int) -> int:
        return numbers[i] if numbers is not None else first_line + i

    skip = 0
    if first and lines and lines[0].replace(" ", "").lower().startswith("version:"):
        number = lines[0].split(":", 1)[1].strip()
        if number != "1":
            block.error, block.error_line = f"unsupported LDIF version {number}", where(0)
            return block
        skip = 1
        block.declares_version = True
    if len(lines) <= skip:  # comments only
        return block
    name, dn, problem = _attribute(lines[skip])
    if problem or name is None or name.lower() != "dn":
        block.error = f"a record must start with dn: ({problem or lines[skip][:40]!r})"
        block.error_line = where(skip)
        return block
    block.dn = dn.decode("utf-8", "replace") if isinstance(dn, bytes) else dn
    block.dn_line = where(skip)
    attrs = block.attributes
    spelling: dict[str, str] = {}  # lower-case name → the spelling first seen in this record
    for i in range(skip + 1, len(lines)):
        line = lines[i]
        name, colon, rest = line.partition(":")
        if colon and name in _NAMES and not rest.startswith((":", "<")):  # the common case
            value: str | bytes = rest.lstrip(" ")
        else:
            checked, value, problem = _attribute(line)
            if problem or checked is None:
                block.error, block.error_line = problem or f"cannot read {line[:40]!r}", where(i)
                return block
        lname = name.lower()
        key = spelling.get(lname)
        if key is None:
            if lname == "changetype":
                if str(value).strip().lower() != "add":
                    block.error_line = where(i)
                    block.error = (
                        f"changetype: {value!s} records are not supported in a content file "
                        "(write the records as they should be; the reconciler computes the changes)"
                    )
                    return block
                continue
            if lname == "control":
                continue
            key = spelling[lname] = name
            attrs[key] = value
        else:
            current = attrs[key]
            if type(current) is list:
                current.append(value)
            else:
                attrs[key] = [current, value]
    return block


_NAMES: set[str] = set()  # attribute names already found well formed (names repeat in every record)


def _attribute(line: str) -> tuple[str | None, str | bytes, str | None]:
    """(name, value, problem) of one logical line."""
    colon = line.find(":")
    if colon <= 0:
        return None, "", f"cannot read {line[:40]!r} (expected name: value)"
    name = line[:colon]
    if name not in _NAMES:
        if not name.replace("-", "").replace(";", "").replace(".", "").isalnum() or not name.isascii():
            return None, "", f"{name[:40]!r} is not an attribute name"
        if len(_NAMES) < 10_000:
            _NAMES.add(name)
    rest = line[colon + 1 :]
    if rest.startswith(":"):
        try:
            data = base64.b64decode(rest[1:].strip(), validate=True)
        except (binascii.Error, ValueError):
            return name, "", f"{name}: the base64 value cannot be decoded"
        try:
            return name, data.decode("utf-8"), None
        except UnicodeDecodeError:
            return name, data, None
    if rest.startswith("<"):
        return name, "", f"{name}: URL values (:<) are not supported; put the value in the file"
    return name, rest.lstrip(" "), None


# ---- writing ------------------------------------------------------------------------------------


def _safe(value: str) -> bool:
    """RFC 2849 SAFE-STRING: ASCII without NUL/CR/LF, not starting with space, ':' or '<', no trailing space."""
    if not value:
        return True
    if value[0] in " :<" or value[-1] == " ":
        return False
    return value.isascii() and "\n" not in value and "\r" not in value and "\x00" not in value


def attribute_line(name: str, value: str | bytes) -> str:
    """One ``name: value`` line (``name:: base64`` when the value is not a safe string), folded."""
    if isinstance(value, bytes):
        line = f"{name}:: {base64.b64encode(value).decode('ascii')}"
    elif _safe(value):
        line = f"{name}: {value}" if value else f"{name}:"
    else:
        line = f"{name}:: {base64.b64encode(value.encode('utf-8')).decode('ascii')}"
    return fold(line)


def fold(line: str) -> str:
    """Fold a line longer than 76 columns: the rest follows on lines starting with one space."""
    if len(line) <= FOLD:
        return line
    parts = [line[:FOLD]]
    parts.extend(" " + line[i : i + FOLD - 1] for i in range(FOLD, len(line), FOLD - 1))
    return "\n".join(parts)


def format_record(dn: str, attributes: dict[str, Any], leading: str = "") -> str:
    """A record as LDIF text (no trailing newline); ``leading`` keeps the comment lines it had."""
    out = [leading] if leading else []
    out.append(attribute_line("dn", dn))
    for name, value in attributes.items():
        for v in value if isinstance(value, list) else [value]:
            out.append(attribute_line(name, v))
    return "\n".join(out)


def leading_comments(text: str) -> str:
    """The comment lines a block starts with (kept when its record is rewritten)."""
    kept: list[str] = []
    for line in text.split("\n"):
        if line.startswith("#") or (line.startswith(" ") and kept):
            kept.append(line)
        else:
            break
    return "\n".join(kept)
