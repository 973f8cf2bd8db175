"""Reading playbook YAML with the position of every value, and merging a folder of files.

The YAML is composed into nodes (libyaml when available) and turned into plain Python values by a
small walker that records, for every path (``("connectors", "hr", "path")``), where its value and its
key start. Scalars are typed as YAML 1.2 does (only ``true``/``false`` are booleans, no sexagesimal
numbers, no timestamps), so ``value: NO`` stays the string a country code needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from reconciler.errors import PlaybookError
from reconciler.playbook.model import Mark

PathKey = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"

#: Top-level keys whose mappings merge by key across the files of a folder.
MERGED_MAPPINGS = ("metaverse", "connectors")
PLAYBOOK_SUFFIXES = (".yml", ".yaml")


class _Resolver(BaseResolver):
    """YAML 1.2 core-schema typing of plain scalars."""


for _tag, _regexp, _first in (
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        _FLOAT,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (_MERGE, r"^<<$", "<"),
):
    _Resolver.add_implicit_resolver(_tag, re.compile(_regexp), list(_first))

_CParser: Any
try:  # libyaml's parser composes about ten times faster than PyYAML's own
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None

if _CParser is not None:

    class _Composer(_CParser, _Resolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _Resolver.__init__(self)

else:  # pragma: no cover - pure-Python PyYAML

    class _Composer(  # type: ignore[no-redef]
        yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _Resolver
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Resolver.__init__(self)


@dataclass
class SourceMap:
    """Where every value of a loaded playbook was written.

    ``values[path]`` is where the value starts, ``keys[path]`` where the key naming it starts, and
    ``text[path]`` where the characters of a string scalar start (after a quote, on the line after
    a ``|``), which is what an expression's column is counted from.
    """

    values: dict[PathKey, Mark] = field(default_factory=dict)
    keys: dict[PathKey, Mark] = field(default_factory=dict)
    text: dict[PathKey, Mark] = field(default_factory=dict)

    def value(self, path: PathKey) -> Mark | None:
        """The mark of ``path``'s value, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            mark = self.values.get(path[:end])
            if mark is not None:
                return mark
        return None

    def key(self, path: PathKey) -> Mark | None:
        """The mark of the key naming ``path`` (for unknown or missing keys), else of its value."""
        return self.keys.get(path) or self.value(path)

    def in_text(self, path: PathKey, column: int, text: str) -> Mark | None:
        """The mark of the 1-based ``column`` of the string at ``path``."""
        start = self.text.get(path)
        if start is None:
            return self.value(path)
        before = text[: max(column - 1, 0)]
        newlines = before.count("\n")
        if not newlines:
            return Mark(start.file, start.line, start.column + len(before))
        return Mark(start.file, start.line + newlines, start.column + len(before) - before.rfind("\n") - 1)

    def update_from(self, other: SourceMap, rename: Callable[[PathKey], PathKey | None]) -> None:
        """Copy ``other``'s marks, each path passed through ``rename`` (None: leave it out)."""
        for mine, theirs in ((self.values, other.values), (self.keys, other.keys), (self.text, other.text)):
            for path, mark in theirs.items():
                new = rename(path)
                if new is not None:
                    mine.setdefault(new, mark)


@dataclass
class Source:
    """A playbook as read from disk: the merged mapping, its marks, its files, and reading errors."""

    path: Path
    base_dir: Path
    files: list[Path]
    data: dict[str, Any]
    marks: SourceMap
    errors: list[PlaybookError] = field(default_factory=list)
    complete: bool = True  # False when a file could not be read: meaning checks would only add noise


def _mark(file: str, node: Node) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns one file's node tree into plain values, recording marks as it goes."""

    def __init__(self, file: str, lines: list[str]) -> None:
        self.file = file
        self.lines = lines
        self.marks = SourceMap()

    def build(self, node: Node, path: PathKey) -> Any:
        self.marks.values[path] = _mark(self.file, node)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, SequenceNode):
            self._check_tag(node, _SEQ)
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            self._check_tag(node, _MAP)
            return self._mapping(node, path)
        raise self._error(node, "unsupported YAML node")  # pragma: no cover

    def _mapping(self, node: MappingNode, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merges: list[Node] = []
        for knode, vnode in node.value:
            if isinstance(knode, ScalarNode) and knode.tag == _MERGE:
                merges.extend(vnode.value if isinstance(vnode, SequenceNode) else [vnode])
                continue
            key = self._key(knode)
            if key in out:
                first = self.marks.keys[(*path, key)]
                raise self._error(knode, f"duplicate key '{key}' (first at line {first.line})")
            self.marks.keys[(*path, key)] = _mark(self.file, knode)
            out[key] = self.build(vnode, (*path, key))
        # ``<<: *anchor`` adds an anchored mapping's keys; explicit keys win
        for knode, vnode in self._merged_pairs(merges):
            key = self._key(knode)
            if key not in out:
                self.marks.keys[(*path, key)] = _mark(self.file, knode)
                out[key] = self.build(vnode, (*path, key))
        return out

    def _merged_pairs(self, sources: list[Node]) -> list[tuple[Node, Node]]:
        pairs: list[tuple[Node, Node]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                raise self._error(source, "'<<' merges a mapping (or a list of mappings)")
            nested: list[Node] = []
            for knode, vnode in source.value:
                if isinstance(knode, ScalarNode) and knode.tag == _MERGE:
                    nested.extend(vnode.value if isinstance(vnode, SequenceNode) else [vnode])
                else:
                    pairs.append((knode, vnode))
            pairs.extend(self._merged_pairs(nested))
        return pairs

    def _key(self, knode: Node) -> str:
        if not isinstance(knode, ScalarNode):
            raise self._error(knode, "a key must be a plain name, not a list or mapping")
        return str(knode.value)

    def _scalar(self, node: ScalarNode, path: PathKey) -> Any:
        value: str = node.value
        tag = node.tag
        if tag in (_STR, "!"):
            self._text_mark(node, path)
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return value.lower() == "true"
        if tag == _INT:
            try:
                return int(value, 0) if value[:2] in ("0o", "0x") else int(value)
            except ValueError:
                raise self._error(node, f"'{value}' is not an integer") from None
        if tag == _FLOAT:
            low = value.lower().lstrip("+")
            if low in (".inf", "-.inf", ".nan"):
                return float(low.replace(".", ""))
            try:
                return float(value)
            except ValueError:
                raise self._error(node, f"'{value}' is not a number") from None
        raise self._error(node, f"unsupported YAML tag {tag}", hint="playbooks use plain YAML values")

    def _text_mark(self, node: ScalarNode, path: PathKey) -> None:
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        if node.style in ("'", '"'):
            column += 1
        elif node.style in ("|", ">"):
            # the text starts on the next line, at that line's indentation
            line += 1
            src = self.lines[line - 1] if line - 1 < len(self.lines) else ""
            column = len(src) - len(src.lstrip(" ")) + 1
        self.marks.text[path] = Mark(self.file, line, column)

    def _check_tag(self, node: Node, expected: str) -> None:
        if node.tag != expected:
            raise self._error(
                node, f"unsupported YAML tag {node.tag}", hint="playbooks use plain YAML values"
            )

    def _error(self, node: Node, message: str, hint: str | None = None) -> PlaybookError:
        mark = _mark(self.file, node)
        return PlaybookError(message, file=self.file, line=mark.line, column=mark.column, hint=hint)


def read_yaml(path: Path) -> tuple[Any, SourceMap]:
    """One YAML file → (plain value, marks). Raises PlaybookError for unreadable or malformed YAML."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlaybookError(
            f"not UTF-8 text: {exc.reason}", file=file, hint="save the file as UTF-8"
        ) from exc
    except OSError as exc:
        raise PlaybookError(f"cannot read the file: {exc.strerror}", file=file) from exc
    loader = _Composer(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        if exc.context and exc.problem:
            problem = f"{problem} ({exc.context})"
        raise PlaybookError(
            f"malformed YAML: {problem}",
            file=file,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise PlaybookError(f"malformed YAML: {exc}", file=file) from None
    finally:
        loader.dispose()
    builder = _Builder(file, text.splitlines())
    if node is None:  # an empty file, or comments only
        return None, builder.marks
    return builder.build(node, ()), builder.marks


def playbook_files(path: Path) -> list[Path]:
    """The files of a playbook: the file itself, or a folder's ``*.yml``/``*.yaml`` sorted by name."""
    if path.is_dir():
        # not is_file(): a dangling link or unreadable entry must fail loudly, never be skipped
        files = sorted(p for p in path.iterdir() if p.suffix in PLAYBOOK_SUFFIXES and not p.is_dir())
        if not files:
            raise PlaybookError("no playbook here: the folder holds no *.yml or *.yaml file", file=str(path))
        return files
    if not path.exists():
        raise PlaybookError("no such file or folder", file=str(path), hint="give a playbook file or folder")
    return [path]


def read_source(path: str | Path) -> Source:
    """Read a playbook file or folder; YAML and merge errors are collected in ``Source.errors``."""
    path = Path(path)
    files = playbook_files(path)
    base_dir = path if path.is_dir() else path.parent
    source = Source(path=path, base_dir=base_dir, files=files, data={}, marks=SourceMap())
    for file in files:
        try:
            data, marks = read_yaml(file)
        except PlaybookError as exc:
            source.errors.append(exc)
            source.complete = False
            continue
        if data is None:
            continue
        if not isinstance(data, dict):
            source.errors.append(
                PlaybookError(
                    "a playbook file holds a mapping (version, state, metaverse, connectors, sync_rules)",
                    file=str(file),
                    line=1,
                    column=1,
                )
            )
            source.complete = False
            continue
        _merge(source, data, marks)
    return source


def _merge(source: Source, data: dict[str, Any], marks: SourceMap) -> None:
    """Merge one file's mapping into ``source``: named mappings by key, sync_rules by concatenation."""
    merged = source.data
    for key, value in data.items():
        if key not in merged:
            if key == "sync_rules" and isinstance(value, list):
                merged[key] = []  # filled below, so its marks are renumbered like later files'
            else:
                merged[key] = value
                source.marks.update_from(marks, _only_under(key))
                continue
        existing = merged[key]
        if key in MERGED_MAPPINGS and isinstance(existing, dict) and isinstance(value, dict):
            for name, item in value.items():
                if name in existing:
                    first = source.marks.key((key, name))
                    source.errors.append(
                        _dup(marks.key((key, name)), f"{key}.{name} is defined twice", first)
                    )
                    continue
                existing[name] = item
                source.marks.update_from(marks, _only_under(key, name))
            source.marks.keys.setdefault((key,), marks.keys[(key,)])
        elif key == "sync_rules" and isinstance(existing, list) and isinstance(value, list):
            offset = len(existing)
            existing.extend(value)
            source.marks.update_from(marks, _renumber(offset))
        else:
            first = source.marks.key((key,))
            source.errors.append(_dup(marks.key((key,)), f"'{key}' may be set only once", first))


def _only_under(*prefix: str | int) -> Callable[[PathKey], PathKey | None]:
    """Keep the paths under ``prefix`` as they are; leave the others out."""
    n = len(prefix)
    return lambda path: path if path[:n] == prefix else None


def _renumber(offset: int) -> Callable[[PathKey], PathKey | None]:
    """Keep the paths under ``sync_rules``, shifting rule indexes by ``offset``."""

    def rename(path: PathKey) -> PathKey | None:
        if path[:1] != ("sync_rules",):
            return None
        if len(path) == 1:
            return path
        return ("sync_rules", int(path[1]) + offset, *path[2:])

    return rename


def _dup(mark: Mark | None, message: str, first: Mark | None) -> PlaybookError:
    if first is not None:
        message += f" (first at {first})"
    if mark is None:
        return PlaybookError(message)
    return PlaybookError(message, file=mark.file, line=mark.line, column=mark.column)
