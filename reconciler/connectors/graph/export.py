"""Writing Graph: add (POST; the new id is the anchor), update (PATCH of the changed properties;
manager and members through their $ref requests), delete (DELETE; 404 = already gone).

One result per change. A failure of one object (Graph's 400, 404, 403…) is that change's result, in
Graph's words; a failure of the connection, the credentials or throttling that outlasted its retries
is raised for the batch when it comes first, and otherwise fails the changes not sent yet (retryable),
so that what was written is recorded. An object created whose reference could not be set is added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reconciler.connectors.base import AttributeChange, ExportChange, ExportResult
from reconciler.connectors.graph import builders as b
from reconciler.connectors.graph.client import GraphSession
from reconciler.connectors.graph.reader import Reader
from reconciler.connectors.graph.settings import COLLECTIONS, DN_ATTRIBUTE, Settings
from reconciler.connectors.graph.translate import GraphFailure
from reconciler.connectors.graph.values import REFERENCES, to_graph
from reconciler.errors import ObjectError, ReconcilerError


class Exporter:
    def __init__(self, session: GraphSession, settings: Settings, reader: Reader) -> None:
        self.session = session
        self.s = settings
        self.reader = reader

    def apply(self, changes: Sequence[ExportChange]) -> list[ExportResult]:
        results: list[ExportResult] = []
        for i, ch in enumerate(changes):
            try:
                results.append(self.one(ch))
            except ReconcilerError as exc:
                if not results:
                    raise  # nothing of the batch was written: the batch fails as a whole
                # the connection, the credentials or throttling gave out partway: what was written stays
                # written (raising would have the next run create it again), the rest waits for the next run
                results.extend(ExportResult(c.key, ok=False, error=f"{c.dn}: not sent: {exc.one_line()}",
                                            retryable=True) for c in changes[i:])  # fmt: skip
                break
        return results

    def one(self, ch: ExportChange) -> ExportResult:
        if ch.object_type not in COLLECTIONS:
            return ExportResult(ch.key, ok=False, error=f"{ch.dn}: the graph connector holds user and group "
                                f"objects, not {ch.object_type}")  # fmt: skip
        try:
            if ch.op == "add":
                return self.add(ch)
            if not ch.anchor:
                return ExportResult(ch.key, ok=False, error=f"{ch.dn}: no Graph id to {ch.op} it by")
            if ch.op == "delete":
                return self.delete(ch)
            return self.update(ch)
        except GraphFailure as failure:
            if failure.batch:
                raise failure.error from failure.__cause__
            return ExportResult(ch.key, ok=False, error=f"{ch.dn}: {failure.error.message}",
                                retryable=failure.error.retryable)  # fmt: skip

    # ----------------------------------------------------------- add
    def add(self, ch: ExportChange) -> ExportResult:
        t = ch.object_type
        body = {k: to_graph(k, v) for k, v in ch.attributes.items() if k not in REFERENCES and k != "id"}
        body = {k: v for k, v in body.items() if v is not None}
        dn_attr = DN_ATTRIBUTE[t]
        body.setdefault(dn_attr, ch.dn)
        created = self.session.call(lambda c: b.send(b.collection(c, t), "POST", body), f"create {t} {ch.dn}")
        oid = str(created["id"])
        try:
            for name in REFERENCES:
                if ch.attributes.get(name) is not None:
                    self.set_reference(t, oid, AttributeChange(name, replace=ch.attributes[name]), new=True)
        except GraphFailure:
            # the object exists: reported as added with its id, or the next run would create it again; the
            # reference it lacks is not confirmed by the next import and is sent again
            pass
        return ExportResult(ch.key, ok=True, anchor=oid, dn=ch.dn)

    # ----------------------------------------------------------- update
    def update(self, ch: ExportChange) -> ExportResult:
        t, oid = ch.object_type, str(ch.anchor)
        body: dict[str, Any] = {}
        refs: list[AttributeChange] = []
        for c in ch.changes:
            if c.name in REFERENCES:
                refs.append(c)
            elif c.name != "id":
                body[c.name] = to_graph(c.name, c.replace) if c.is_replace else self._edited(ch, c)
        if ch.op == "rename" and ch.new_dn:
            body.setdefault(DN_ATTRIBUTE[t], ch.new_dn)
        if body:
            self.session.call(lambda c: b.send(b.item(c, t, oid), "PATCH", body), f"update {t} {ch.dn}")
        for c in refs:
            self.set_reference(t, oid, c)
        return ExportResult(ch.key, ok=True, anchor=oid, dn=ch.new_dn or ch.dn)

    def _edited(self, ch: ExportChange, c: AttributeChange) -> Any:
        """A multi-value edited by add/remove: Graph replaces collections whole, so the desired whole."""
        if c.name in ch.attributes:
            return to_graph(c.name, ch.attributes[c.name])
        return to_graph(c.name, c.add or [])

    def set_reference(self, t: str, oid: str, c: AttributeChange, new: bool = False) -> None:
        base = self.s.base_url
        if c.name == "manager":
            if t != "user":
                raise GraphFailure(_object_error(self.s, "only users have a manager"))
            target = c.replace[0] if isinstance(c.replace, list) and c.replace else c.replace
            what = f"set the manager of {oid}"
            if target:
                self.session.call(lambda cl: b.send(b.item(cl, "user", oid).manager.ref, "PUT",
                                                    b.reference(base, str(target))), what)  # fmt: skip
            elif not new:
                self._ignore_404(lambda cl: b.send(b.item(cl, "user", oid).manager.ref, "DELETE"), what)
            return
        if t != "group":
            raise GraphFailure(_object_error(self.s, "only groups have members"))
        if c.is_replace:
            want = [str(v) for v in (c.replace if isinstance(c.replace, list) else [c.replace]) if v]
            have = [] if new else self.reader.members(oid)
            add = [m for m in want if m not in have]
            remove = [m for m in have if m not in want]
        else:
            add, remove = [str(v) for v in c.add or []], [str(v) for v in c.remove or []]
        for m in add:
            self.session.call(_add_member(oid, m, base), f"add member {m} to group {oid}")
        for m in remove:
            self._ignore_404(_remove_member(oid, m), f"remove member {m} from group {oid}")

    # ----------------------------------------------------------- delete
    def delete(self, ch: ExportChange) -> ExportResult:
        t, oid = ch.object_type, str(ch.anchor)
        self._ignore_404(lambda c: b.send(b.item(c, t, oid), "DELETE"), f"delete {t} {ch.dn}")
        return ExportResult(ch.key, ok=True, anchor=oid, dn=ch.dn)

    def _ignore_404(self, build: Any, what: str) -> None:
        try:
            self.session.call(build, what)
        except GraphFailure as failure:
            if failure.status != 404:
                raise


def _add_member(gid: str, mid: str, base: str) -> Callable[[Any], Any]:
    return lambda cl: b.send(b.item(cl, "group", gid).members.ref, "POST", b.reference(base, mid))


def _remove_member(gid: str, mid: str) -> Callable[[Any], Any]:
    return lambda cl: b.send(b.item(cl, "group", gid).members.by_directory_object_id(mid).ref, "DELETE")


def _object_error(s: Settings, message: str) -> ObjectError:
    return ObjectError(message, connector=s.name)
