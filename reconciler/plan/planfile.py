"""The plan document: what `plan --out` writes, `plan --json` prints, `show` renders and `apply` checks.

It holds the redacted changes (never a sensitive value or a secret in clear) with the digest of each
change's full content, the playbook digest, the state version and the connectors' watermarks, and a
checksum over all of it. The same ``Plan`` object feeds every renderer, so ``show`` of a saved plan
prints exactly what ``plan`` printed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from reconciler import __version__
from reconciler.errors import Bug, PlanError
from reconciler.plan.digest import PLAIN, change_digest, compact, compact_change, jsonable, plan_checksum
from reconciler.plan.model import (
    AttributeDelta,
    ImportSummary,
    LazyChange,
    ObjectProblem,
    PlannedChange,
    UnmanagedObject,
)
from reconciler.plan.redact import Redactor

FORMAT_VERSION = 1
KIND = "reconciler-plan"
OP_ORDER = {"delete": 0, "rename": 1, "update": 2, "add": 3}  # destructive changes first


@dataclass
class Summary:
    add: int = 0
    change: int = 0
    rename: int = 0
    delete: int = 0

    @property
    def total(self) -> int:
        return self.add + self.change + self.rename + self.delete

    def line(self) -> str:
        """The summary line; its shape never changes (pipelines grep it)."""
        if not self.total:
            return "No changes."
        return (
            f"Plan: {self.add} to add, {self.change} to change, "
            f"{self.rename} to rename, {self.delete} to delete."
        )


@dataclass
class Plan:
    """A computed plan, ready to render, save or compare."""

    playbook: str
    playbook_digest: str
    state_version: int
    changes: list[PlannedChange]  # redacted, in display order
    watermarks: dict[str, str | None] = field(default_factory=dict)
    imports: list[ImportSummary] = field(default_factory=list)
    unmanaged: list[UnmanagedObject] = field(default_factory=list)
    rule_edits: dict[str, list[str]] = field(default_factory=dict)  # rule → playbook edits (--explain)
    rules_changed: bool = False
    problems: list[ObjectProblem] = field(default_factory=list)  # objects left out: their errors
    tool_version: str = __version__
    created_at: str = ""
    # the digests (see ``digests``), or the unredacted changes they are computed from when first asked:
    # a plan that is only shown and applied (no --out, no JSON) never hashes its hundred thousand adds
    _digests: list[str] | None = field(default=None, repr=False)
    _undigested: list[PlannedChange] | None = field(default=None, repr=False, compare=False)

    @property
    def digests(self) -> list[str]:
        """Aligned with ``changes``: the digest of each change's full content (sensitive values included)."""
        if self._digests is None:
            self._digests = [_digest(c) for c in self._unreleased()]
            self._undigested = None
        return self._digests

    def _unreleased(self) -> list[PlannedChange]:
        """The unredacted changes the digests are taken from, while the plan still holds them."""
        if self._undigested is None and self.changes:
            raise Bug("a plan's digests were asked for after its details were released")
        return self._undigested or []

    def release_details(self) -> None:
        """Drop every change's attribute deltas once the plan has been shown and checked: an apply
        exports from the state, and a plan of 100,000 adds holds a million deltas (hundreds of MB)."""
        for c in (*self.changes, *(self._undigested or ())):
            c.attributes = []
        self._undigested = None

    @classmethod
    def build(
        cls,
        changes: list[PlannedChange],
        *,
        redactor: Redactor | None = None,
        playbook: str = "",
        playbook_digest: str = "",
        state_version: int = 0,
        **kw: Any,
    ) -> Plan:
        """Order the changes, keep them for their digests (computed when first asked), then redact them:
        the only way a Plan is made from live data."""
        ordered = order_changes(changes)
        redactor = redactor or Redactor()
        shown = redactor.changes(ordered)
        kw["problems"] = [
            ObjectProblem(p.connector, redactor.scrub(p.dn), redactor.scrub(p.error), p.kind)
            for p in kw.get("problems") or []
        ]
        kw.setdefault("created_at", dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        return cls(
            playbook=playbook,
            playbook_digest=playbook_digest,
            state_version=state_version,
            changes=shown,
            _undigested=ordered,
            **kw,
        )

    def summary(self) -> Summary:
        counts = Counter(c.op for c in self.changes)
        return Summary(counts["add"], counts["update"], counts["rename"], counts["delete"])

    def by_connector(self) -> dict[str, list[PlannedChange]]:
        groups: dict[str, list[PlannedChange]] = {}
        for change in self.changes:
            groups.setdefault(change.connector, []).append(change)
        return groups

    # -- the document ----------------------------------------------------------------------------
    def to_document(self, *, checksum: bool = True) -> dict[str, Any]:
        doc = {**self._head(), "changes": list(self.change_documents()), **self._tail()}
        if checksum:
            doc["checksum"] = plan_checksum(doc)
        return doc

    def _head(self) -> dict[str, Any]:
        """The document's members before ``changes``, in their order."""
        s = self.summary()
        return {
            "kind": KIND,
            "format_version": FORMAT_VERSION,
            "tool_version": self.tool_version,
            "created_at": self.created_at,
            "playbook": self.playbook,
            "playbook_digest": self.playbook_digest,
            "state_version": self.state_version,
            "watermarks": dict(self.watermarks),
            "rules_changed": self.rules_changed,
            "summary": {"add": s.add, "change": s.change, "rename": s.rename, "delete": s.delete},
            "summary_line": s.line(),
            "imports": [asdict(i) for i in self.imports],
        }

    def _tail(self) -> dict[str, Any]:
        """The document's members after ``changes``, in their order."""
        return {
            "unmanaged": [asdict(u) for u in self.unmanaged],
            "problems": [asdict(p) for p in self.problems],
            "rule_edits": {k: list(v) for k, v in self.rule_edits.items()},
        }

    def change_documents(self) -> Iterator[dict[str, Any]]:
        """Each change as the document holds it, its digest taken on the way when not yet taken (a change
        shown as it is, nothing masked, is then built once for both); the deltas built are dropped again
        (see ``LazyChange.forget``), so writing a plan of 100,000 changes holds one change's at a time."""
        known = self._digests
        raw = self._unreleased() if known is None else []
        made: list[str] = []
        for i, change in enumerate(self.changes):
            if known is not None:
                digest = known[i]
            else:
                source = raw[i]
                # an unmasked change is its own source: built once here, for its digest and its document
                digest = change_digest(source) if source is change else _digest(source)
                made.append(digest)
            doc = _change_doc(change, digest)
            if isinstance(change, LazyChange):
                change.forget()
            yield doc
        if known is None:
            self._digests, self._undigested = made, None

    @classmethod
    def from_document(cls, doc: Any, source: str = "plan") -> Plan:
        _check_kind(doc, source)
        if doc.get("checksum") != plan_checksum(doc):
            raise PlanError(f"{source} fails its checksum: it was edited or truncated", hint="run plan again")
        try:
            changes = [_change_from(c) for c in doc["changes"]]
            return cls._of(doc, changes, [c["digest"] for c in doc["changes"]])
        except (KeyError, TypeError, ValueError) as exc:
            raise PlanError(f"{source} is malformed ({exc!r})", hint="run plan again") from exc

    @classmethod
    def _of(cls, doc: dict[str, Any], changes: list[PlannedChange], digests: list[str]) -> Plan:
        """A plan from a document's members other than its changes, and the changes read from it."""
        return cls(
            playbook=doc["playbook"],
            playbook_digest=doc["playbook_digest"],
            state_version=int(doc["state_version"]),
            changes=changes,
            _digests=digests,
            watermarks=dict(doc.get("watermarks") or {}),
            imports=[ImportSummary(**i) for i in doc.get("imports") or []],
            unmanaged=[UnmanagedObject(**u) for u in doc.get("unmanaged") or []],
            rule_edits={k: list(v) for k, v in (doc.get("rule_edits") or {}).items()},
            rules_changed=bool(doc.get("rules_changed")),
            problems=[ObjectProblem(**p) for p in doc.get("problems") or []],
            tool_version=doc.get("tool_version", "?"),
            created_at=doc.get("created_at", ""),
        )


def _digest(change: PlannedChange) -> str:
    """A change's digest; its deltas, when built for it alone, are dropped again (read again, rebuilt)."""
    digest = change_digest(change)
    if isinstance(change, LazyChange):
        change.forget()
    return digest


def _check_kind(doc: Any, source: str) -> None:
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise PlanError(
            f"{source} is not a reconciler plan file",
            hint="make one with: reconciler plan PLAYBOOK --out FILE",
        )
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise PlanError(
            f"{source} has plan format_version {version!r}; this reconciler reads version {FORMAT_VERSION}",
            hint="run plan again with this reconciler",
        )


def order_changes(changes: list[PlannedChange]) -> list[PlannedChange]:
    """Connectors with deletes first, then by name; inside a connector deletes, renames, updates, adds."""
    deleting = {c.connector for c in changes if c.op == "delete"}
    return sorted(
        changes,
        key=lambda c: (c.connector not in deleting, c.connector, OP_ORDER[c.op], c.dn.lower()),
    )


def _change_doc(change: PlannedChange, digest: str) -> dict[str, Any]:
    return {
        "connector": change.connector,
        "op": change.op,
        "object_type": change.object_type,
        "dn": change.dn,
        "new_dn": change.new_dn,
        "anchor": change.anchor,
        "rule": change.rule,
        "cause": change.cause,
        "digest": digest,
        "attributes": [_delta_doc(d, change) for d in change.attributes],
    }


def _delta_doc(d: AttributeDelta, change: PlannedChange) -> dict[str, Any]:
    # defaults are left out: a plan of 100,000 adds stays a file of tens, not hundreds, of megabytes
    before, after = d.before, d.after
    doc: dict[str, Any] = {
        "name": d.name,
        "before": before if type(before) in PLAIN else jsonable(before),
        "after": after if type(after) in PLAIN else jsonable(after),
    }
    if d.multivalued:
        doc["multivalued"] = True
        doc["added"] = jsonable(d.added)
        doc["removed"] = jsonable(d.removed)
    if d.sensitive:
        doc["sensitive"] = True
    if d.rule != change.rule:
        doc["rule"] = d.rule
    if d.flow is not None:
        doc["flow"] = d.flow
    if d.cause != change.cause:
        doc["cause"] = d.cause
    return doc


def _change_from(doc: dict[str, Any]) -> PlannedChange:
    return PlannedChange(
        connector=doc["connector"],
        op=doc["op"],
        object_type=doc["object_type"],
        dn=doc["dn"],
        anchor=doc.get("anchor"),
        new_dn=doc.get("new_dn"),
        rule=doc.get("rule"),
        cause=doc.get("cause", "source"),
        attributes=[_delta_from(a, doc) for a in doc.get("attributes") or []],
    )


def _lazy_change_from(doc: dict[str, Any], line: bytes, details: bool) -> PlannedChange:
    """A change read from its line of a plan file; its deltas are decoded from the line when first read
    (a clustered ``show`` reads the deltas of few changes), or never (``details=False``)."""
    fields = {
        "connector": doc["connector"], "op": doc["op"], "object_type": doc["object_type"], "dn": doc["dn"],
        "anchor": doc.get("anchor"), "new_dn": doc.get("new_dn"), "rule": doc.get("rule"),
        "cause": doc.get("cause", "source"), "mv_guid": None, "cs_guid": None,
    }  # fmt: skip
    deltas = doc.get("attributes") or ()
    names = tuple([a["name"] for a in deltas])
    # a line is compact JSON (its checksum says so): one without this text flags no delta sensitive, and
    # the deltas of a plan of 100,000 adds are not each asked
    sensitive = b'"sensitive":true' in line and any(a.get("sensitive") for a in deltas)
    return LazyChange.of(partial(_deltas_from, line) if details else list, names, fields, sensitive)


def _deltas_from(text: bytes) -> list[AttributeDelta]:
    doc = orjson.loads(text)
    return [_delta_from(a, doc) for a in doc.get("attributes") or []]


def _delta_from(a: dict[str, Any], change: dict[str, Any]) -> AttributeDelta:
    return AttributeDelta(
        name=a["name"],
        before=a.get("before"),
        after=a.get("after"),
        added=a.get("added"),
        removed=a.get("removed"),
        multivalued=bool(a.get("multivalued")),
        sensitive=bool(a.get("sensitive")),
        rule=a.get("rule", change.get("rule")),
        flow=a.get("flow"),
        cause=a.get("cause", change.get("cause", "source")),
    )


def write_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    """Write the plan file atomically (a reader never sees half a plan), one change at a time.

    The text is the document's one compact serialization (``compact``), which the checksum is taken
    over as it is written and then appended: a plan of 100,000 changes is never held whole, neither as
    a document nor as text.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    head = compact(plan._head())[:-1] + ',"changes":['
    tail = "]," + compact(plan._tail())[1:]
    hasher = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=".plan-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:

            def put(data: bytes) -> None:
                # a newline after each piece: whitespace to JSON, left out of the checksum (JSON text never
                # holds a raw newline), and one change per line lets read_plan take the file a line at a time
                hasher.update(data)
                fh.write(data)
                fh.write(b"\n")

            put(head.encode("utf-8"))
            for i, doc in enumerate(plan.change_documents()):
                line = compact_change(doc)
                if i:
                    hasher.update(b",")
                    fh.write(b",")
                put(line)
            data = tail[:-1].encode("utf-8")
            hasher.update(data + b"}")  # the body ends with the brace that now follows the checksum
            fh.write(data + f',"checksum":"{hasher.hexdigest()}"}}\n'.encode())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_plan(path: str | os.PathLike[str], *, details: bool = True) -> Plan:
    """Read and check a plan file; every problem is a one-line PlanError.

    A file as ``write_plan`` writes it (its line ends made CRLF or not, as a Windows checkout does) is
    read a line (a change) at a time, each change keeping its line to decode its deltas from when they
    are read; ``details=False`` keeps no deltas at all (an apply compares identities and digests only).
    Any other layout of the same document (a file reformatted by hand) is read whole.
    """
    source = f"plan file {path}"
    try:
        with open(path, "rb") as fh:
            plan = _read_lines(fh, source, details)
            if plan is not None:
                return plan
            fh.seek(0)
            data = fh.read()
    except OSError as exc:
        raise PlanError(f"plan file {path} cannot be read: {exc.strerror}", hint="check the path") from exc
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"line {exc.lineno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise PlanError(
            f"plan file {path} is not JSON ({where})",
            hint="make one with: reconciler plan PLAYBOOK --out FILE",
        ) from exc
    return Plan.from_document(doc, source=source)


_CHECKSUM = b',"checksum":"'


def _read_lines(fh: Any, source: str, details: bool) -> Plan | None:
    """The plan of a file in ``write_plan``'s layout, or None when it is laid out otherwise."""
    first = fh.readline().rstrip(b"\r\n")
    if not first.endswith(b'"changes":['):
        return None
    hasher = hashlib.sha256(first)
    try:
        head = orjson.loads(first + b"]}")
        _check_kind(head, source)
        changes: list[PlannedChange] = []
        digests: list[str] = []
        last = b""
        for line in fh:
            body = line.rstrip(b"\r\n")
            if not body.startswith((b"{", b",{")):
                last = body
                break
            hasher.update(body)
            item = body[1:] if body.startswith(b",") else body
            doc = orjson.loads(item)
            changes.append(_lazy_change_from(doc, item, details))
            digests.append(doc["digest"])
        at = last.rfind(_CHECKSUM)
        if not last.startswith(b"],") or at < 0:
            return None  # truncated, or not our layout: the whole read says what is wrong
        hasher.update(last[:at] + b"}")
        stored = last[at + len(_CHECKSUM) :].rstrip(b"}").rstrip(b'"').decode("ascii", "replace")
        if stored != hasher.hexdigest():
            raise PlanError(f"{source} fails its checksum: it was edited or truncated", hint="run plan again")
        tail = orjson.loads(b"{" + last[2:])
        return Plan._of({**head, **tail}, changes, digests)
    except orjson.JSONDecodeError:
        return None  # the whole read reports the JSON error with its line
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"{source} is malformed ({exc!r})", hint="run plan again") from exc
