"""`explain --preview`: the object re-read live and synchronized, in a dry run, compared with the state.

Entra Connect's Preview synchronizes one object without committing. Here the connected systems are
imported and synchronized exactly as `plan` does (engine, inside ``store.dry_run()``, under the run lock,
so no run changes the state meanwhile), the object's chain is explained as it would then be, and the
transaction is rolled back: nothing is committed and nothing is exported. The chain is compared with the
one before: MV attributes that would change, what the import would read differently, links that would
be made or broken, and the exports the synchronization would stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.engine.context import Context
from reconciler.engine.objects import CSObject, MVObject
from reconciler.plan.compute import RULES_DIGEST_KEY, problems_of
from reconciler.plan.model import AttributeDelta, ImportSummary
from reconciler.playbook.model import Playbook
from reconciler.query.explain import Explanation, ObjectNotFound, Target, explain_target, resolve
from reconciler.query.explain_parts import ExportView, Helpers


@dataclass
class ValueChange:
    """One attribute that would change: before and after (masked when sensitive)."""

    name: str
    before: Any
    after: Any
    sensitive: bool = False
    rule: str | None = None  # MV: who would contribute it
    connector: str | None = None


@dataclass
class ObjectChange:
    """What the import and synchronization would do to one CS object of the chain."""

    object: str  # CONNECTOR:DN (the new DN when the import sees a rename)
    status: str  # new | gone | changed | unchanged
    link: str | None = None  # the link it would have, when it moves: "join by 'rule'", "disconnected"
    imported: list[ValueChange] = field(default_factory=list)  # values the import reads differently
    export: ExportView | None = None  # the pending export it would have after the synchronization
    export_is_new: bool = False  # False: it is pending already (staged by an earlier synchronization)
    notes: list[str] = field(default_factory=list)


@dataclass
class Preview:
    query: str
    before: Explanation | None  # None: not in the state yet (an import would bring it)
    after: Explanation | None  # None: the synchronization would delete it
    mv_status: str = "none"  # new | deleted | changed | unchanged | none
    mv: list[ValueChange] = field(default_factory=list)
    objects: list[ObjectChange] = field(default_factory=list)
    imports: list[ImportSummary] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # errors the runs reported on the chain's objects
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        moved = any(o.status != "unchanged" or o.link or (o.export is not None and o.export_is_new)
                    for o in self.objects)  # fmt: skip
        return moved or self.mv_status in ("new", "deleted", "changed")


Progress = Callable[..., None]


def preview(playbook: Playbook, store: Any, text: str, progress: Progress | None = None) -> Preview:
    """Import and synchronize in a dry run (rolled back) and explain the object before and after."""
    from reconciler.engine import Engine

    with store.lock():  # the state must not move between the two explanations, nor under the dry run
        try:
            target: Target | None = resolve(playbook, store, text, preview_hint=False)
        except ObjectNotFound:
            target = None  # not imported yet: looked up again once the import has read it
        before = explain_target(playbook, store, target, text) if target is not None else None
        old_mv, old_cs = _raw(store, before, set())
        out = Preview(text, before, None)
        applied = store.get_meta(RULES_DIGEST_KEY)
        if applied is not None and applied != playbook.rules_digest():
            out.notes.append("the rules changed since the last synchronization: this is a full synchronization")
        with store.dry_run(), Engine(playbook, store, progress=progress) as engine:
            runs = [*engine.import_all(), *engine.synchronize_all(full=None)]
            if target is None:
                target = resolve(playbook, store, text, preview_hint=False)
            after = explain_target(playbook, store, target, text)
            if after is None and before is not None and before.mv is not None:
                # the object found is gone; its metaverse object may live on through other links
                after = explain_target(playbook, store, Target(None, before.mv.mv_id, target.found_by), text)
            out.after = after
            new_mv, new_cs = _raw(store, after, set(old_cs))
            ctx = Context(playbook, store)
            try:
                h = Helpers.of(ctx)
                _compare(h, out, (old_mv, old_cs), (new_mv, new_cs))
                out.problems = _problems(h, runs, out)
            finally:
                ctx.close()
            out.imports = list(engine.import_summaries)
    return out


def _raw(store: Any, expl: Explanation | None, more: set[int]) -> tuple[MVObject | None, dict[int, CSObject]]:
    """The stored MV object and CS objects of a chain (plus ``more``): what the comparison reads."""
    ids = set(more)
    mv = None
    if expl is not None:
        ids.update(v.cs_id for v in expl.objects() if v.cs_id is not None)
        if expl.mv is not None and expl.mv.mv_id is not None:
            mv = store.mv_by_ids([expl.mv.mv_id]).get(expl.mv.mv_id)
    return mv, store.cs_by_ids(ids) if ids else {}


def _compare(h: Helpers, out: Preview, old: tuple[MVObject | None, dict[int, CSObject]],
             new: tuple[MVObject | None, dict[int, CSObject]]) -> None:  # fmt: skip
    old_mv, old_cs = old
    new_mv, new_cs = new
    if old_mv is not None and new_mv is not None and old_mv.id != new_mv.id:
        old_mv = None  # another metaverse object now: compared as a new one
    if old_mv is None and new_mv is None:
        out.mv_status = "none"
    elif new_mv is None:
        out.mv_status = "deleted"
    else:
        out.mv = _mv_changes(h, old_mv, new_mv, out.after)
        out.mv_status = "new" if old_mv is None else "changed" if out.mv else "unchanged"
    views = {v.cs_id: v for v in (out.after.objects() if out.after is not None else [])}
    order = [v.cs_id for v in (out.after.objects() if out.after else []) if v.cs_id is not None]
    order += sorted(i for i in old_cs if i not in views)
    for cs_id in order:
        out.objects.append(_cs_change(h, old_cs.get(cs_id), new_cs.get(cs_id), views.get(cs_id)))


def _mv_changes(h: Helpers, old: MVObject | None, new: MVObject,
                after: Explanation | None) -> list[ValueChange]:  # fmt: skip
    typedef = h.playbook.metaverse.get(new.object_type)
    refs = {n: a.multivalued for n, a in typedef.attributes.items() if a.type == "reference"} if typedef else {}
    who = {a.name: a for a in after.mv.attributes} if after is not None and after.mv is not None else {}
    before = old.attrs if old is not None else {}
    out = []
    for name in sorted(set(before) | set(new.attrs), key=str.lower):
        was, now = before.get(name), new.attrs.get(name)
        if was == now and type(was) is type(now):
            continue
        sensitive = h.redactor.is_sensitive("", AttributeDelta(name))
        if name in refs:
            shown_was, shown_now = _refs(h, was, refs[name]), _refs(h, now, refs[name])
        else:
            shown_was, shown_now = h.value(was, sensitive), h.value(now, sensitive)
        view = who.get(name)
        out.append(ValueChange(name, shown_was, shown_now, sensitive, view.rule if view else None,
                               view.connector if view else None))  # fmt: skip
    return out


def _refs(h: Helpers, value: Any, multivalued: bool) -> Any:
    """An MV reference value as its targets' GUIDs and displayNames (one text for a single value)."""
    if value is None:
        return None
    _, shown, more = h.mv_ref_display(value)
    if not multivalued:
        return shown[0] if shown else None
    return shown + ([f"and {more} more"] if more else [])


def _cs_change(h: Helpers, old: CSObject | None, new: CSObject | None, view: Any) -> ObjectChange:
    some = new if new is not None else old
    assert some is not None
    label = f"{some.connector}:{h.redactor.scrub(some.dn)}"
    if new is None:
        return ObjectChange(label, "gone", notes=["deleted from the connector space (gone from its system, or a "
                                                  "provisioned object that was never exported)"])  # fmt: skip
    change = ObjectChange(label, "new" if old is None else "unchanged")
    if old is not None:
        for name in sorted(set(old.attrs) | set(new.attrs), key=str.lower):
            was, now = old.attrs.get(name), new.attrs.get(name)
            if was == now and type(was) is type(now):
                continue
            sensitive = h.redactor.is_sensitive(new.connector, AttributeDelta(name))
            shown_was, shown_now = h.value(was, sensitive), h.value(now, sensitive)
            change.imported.append(ValueChange(name, shown_was, shown_now, sensitive))
        if old.dn != new.dn:
            change.notes.append(f"renamed from {h.redactor.scrub(old.dn)}")
        if new.pending_import and not old.pending_import:
            change.notes.append(f"the import stages a pending import ({new.pending_import})")
        if change.imported or old.dn != new.dn or old.kind != new.kind:
            change.status = "changed"
    was_link = (old.mv_id, old.link_kind, old.link_rule) if old is not None else (None, None, None)
    if (new.mv_id, new.link_kind, new.link_rule) != was_link:
        change.link = f"{new.link_kind} by {new.link_rule!r}" if new.mv_id is not None else "disconnected"
        if old is not None:
            change.status = "changed"
    if new.pending_export:
        change.export = view.pending_export if view is not None else None
        change.export_is_new = old is None or old.pending_export != new.pending_export
    elif old is not None and old.pending_export:
        change.notes.append("its pending export would be withdrawn: the rules no longer want it")
        change.status = "changed"
    return change


def _problems(h: Helpers, runs: list[Any], out: Preview) -> list[str]:
    """The runs' per-object errors that concern the chain (its CS objects by DN, its MV object by GUID)."""
    objs = [*(out.before.objects() if out.before else []), *(out.after.objects() if out.after else [])]
    labels = {(v.connector, v.dn.lower()) for v in objs}
    guids = {e.mv.guid for e in (out.before, out.after) if e is not None and e.mv is not None}
    found = []
    for p in problems_of(runs):
        if (p.connector, p.dn.lower()) in labels or any(g in p.dn for g in guids):
            found.append(f"{p.connector}:{p.dn}: {h.redactor.scrub(p.error)}")
    return found
