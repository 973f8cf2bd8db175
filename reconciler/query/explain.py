"""`explain`: one object followed through the system, source CS → MV → target CS, rule by rule.

What Entra Connect's object properties show (the metaverse object's connectors, each attribute's
contributing rule, a CS object's lineage, import and export attribute flows), read from the state only:
nothing is synchronized again here (``explain_preview`` does that, in a dry run). Every value passes the
plan's redaction rules (``reconciler.plan.redact``) before it reaches an ``Explanation``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reconciler.engine.context import Context
from reconciler.engine.objects import INBOUND_LINKS, KIND_NAMES, PROVISION, CSObject, MVObject, normalize_dn
from reconciler.engine.sync.precedence import ALL
from reconciler.errors import UserError
from reconciler.plan.compute import RULES_DIGEST_KEY
from reconciler.playbook.model import Playbook
from reconciler.query.explain_parts import (
    AttributeView,
    ExportView,
    Helpers,
    RuleCheck,
    cs_parts,
    disconnected_notes,
    inbound_checks,
    outbound_owners,
)

__all__ = ["AttributeView", "CSView", "Explanation", "ExportView", "MVView", "RuleCheck", "Target", "explain",
           "resolve"]  # fmt: skip

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


class ObjectNotFound(UserError):
    """OBJECT names nothing in the state."""


class AmbiguousObject(UserError):
    """OBJECT names several objects: the user picks one, explain never guesses."""


@dataclass
class CSView:
    """One connector-space object as explain shows it."""

    connector: str
    role: str  # source (joined or projected), target (provisioned), disconnector
    dn: str
    guid: str
    anchor: str | None
    object_type: str
    kind: str  # normal | placeholder | transient
    link_kind: str | None = None  # join | project | provision
    link_rule: str | None = None
    mv_guid: str | None = None
    pending_import: str | None = None
    pending_import_attributes: list[str] = field(default_factory=list)
    pending_export: ExportView | None = None
    export_memory: list[dict[str, Any]] = field(default_factory=list)
    export_state: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # import | export | sync -> message
    attributes: list[AttributeView] = field(default_factory=list)
    inbound_rules: list[RuleCheck] = field(default_factory=list)  # rules reading it (scope on its values)
    outbound_rules: list[RuleCheck] = field(default_factory=list)  # rules writing it (scope on the MV object)
    notes: list[str] = field(default_factory=list)
    cs_id: int | None = field(default=None, repr=False)  # the state's row id: not shown; a preview matches on it

    @property
    def label(self) -> str:
        return f"{self.connector}:{self.dn}"


@dataclass
class MVView:
    """The metaverse object: each attribute with the connector and rule that contributed it."""

    guid: str
    object_type: str
    attributes: list[AttributeView] = field(default_factory=list)
    connectors: list[str] = field(default_factory=list)  # CONNECTOR:DN (link kind) of every linked object
    pending_outbound: bool = False  # marked changed: the next synchronization evaluates its outbound rules
    retry: list[str] = field(default_factory=list)  # connectors it is provisioned to again
    mv_id: int | None = field(default=None, repr=False)  # the state's own id: not shown


@dataclass
class Explanation:
    query: str
    found_by: str  # DN, anchor, metaverse GUID, connector space GUID
    focus: str | None  # CONNECTOR:DN of the object found; None when OBJECT named the MV object
    sources: list[CSView] = field(default_factory=list)
    mv: MVView | None = None
    targets: list[CSView] = field(default_factory=list)
    disconnected: list[CSView] = field(default_factory=list)  # the object found, not joined to the MV
    notes: list[str] = field(default_factory=list)

    def objects(self) -> list[CSView]:
        return [*self.sources, *self.targets, *self.disconnected]


@dataclass(frozen=True)
class Target:
    """What OBJECT resolved to: a CS object (and through its link, its MV object) or an MV object."""

    cs_id: int | None
    mv_id: int | None
    found_by: str


# ----------------------------------------------------------------------------- resolving OBJECT
def _split(playbook: Playbook, text: str) -> tuple[str | None, str]:
    """``CONNECTOR:REST`` when the prefix names a connector of the playbook (DNs rarely hold a colon, and
    one that does is still found whole)."""
    prefix, sep, rest = text.partition(":")
    if sep and rest:
        if prefix in playbook.connectors:
            return prefix, rest
        folded = [n for n in playbook.connectors if n.casefold() == prefix.casefold()]
        if len(folded) == 1:
            return folded[0], rest
    return None, text


def _candidates(playbook: Playbook, store: Any, connector: str | None, value: str
                ) -> tuple[dict[int, tuple[CSObject, str]], MVObject | None]:  # fmt: skip
    """CS objects (by id, with how they matched) and the MV object that ``value`` names; every lookup is an
    indexed one per connector, but GUIDs, which the state does not index (looked up only when the text
    is one)."""
    found: dict[int, tuple[CSObject, str]] = {}
    names = [connector] if connector else list(playbook.connectors)
    key = normalize_dn(value)
    for name in names:
        for o in store.cs_by_dns(name, [key]).get(key, []):
            found.setdefault(o.id, (o, "DN"))
        o = store.cs_by_anchors(name, [value]).get(value)
        if o is not None:
            found.setdefault(o.id, (o, "anchor"))
        # the key references name objects by (a file's key column): it finds a placeholder too
        o = store.cs_by_keys(name, [value.casefold()]).get(value.casefold())
        if o is not None:
            found.setdefault(o.id, (o, "key"))
    mv = None
    if _GUID.match(value):
        o = store.cs_by_guid(value.lower())
        if o is not None and o.connector in names:
            found.setdefault(o.id, (o, "connector space GUID"))
        if connector is None:
            mv = store.mv_by_guid(value.lower())
    return found, mv


def resolve(playbook: Playbook, store: Any, text: str, *, preview_hint: bool = True) -> Target:
    """The one object ``text`` names (a DN, an anchor or reference key, CONNECTOR:DN, CONNECTOR:ANCHOR, a
    metaverse or connector space GUID); ObjectNotFound or AmbiguousObject otherwise (one-line user errors)."""
    text = text.strip()
    connector, value = _split(playbook, text)
    found, mv = _candidates(playbook, store, connector, value.strip())
    if connector is not None and not found:
        # "a:b" may be a DN or anchor holding a colon rather than CONNECTOR:VALUE
        found, mv = _candidates(playbook, store, None, text)
    count = len(found) + (mv is not None)
    if count == 1:
        if mv is not None:
            return Target(None, mv.id, "metaverse GUID")
        cs, how = next(iter(found.values()))
        return Target(cs.id, None, how)
    linked = {cs.mv_id for cs, _ in found.values()}
    if count > 1 and len(linked) == 1 and None not in linked and (mv is None or mv.id in linked):
        # one object seen from several connectors (an anchor the target shares with its source): one chain,
        # shown from its source
        cs, how = min(found.values(), key=lambda f: (f[0].link_kind not in INBOUND_LINKS, f[0].connector))
        return Target(cs.id, None, how)
    if count > 1:
        labels = _labels([cs for cs, _ in found.values()])
        if mv is not None:
            labels.append(f"{mv.guid} (metaverse {mv.object_type})")
        raise AmbiguousObject(
            f"{text!r} matches {count} objects: {', '.join(labels)}",
            hint="name one as CONNECTOR:DN",
        )
    where = f"connector {connector!r}" if connector else "any connector space or the metaverse"
    if not any(store.connector_state(n).get("imported") for n in playbook.connectors):
        raise ObjectNotFound(f"nothing imported yet: {text!r} is not in the state", hint=NOTHING_IMPORTED_HINT)
    where_cs = connector or "CONNECTOR"
    hint = f"search for it with `reconciler search cs PLAYBOOK {where_cs} --scope rdn|dn|anchor VALUE`"
    if preview_hint:
        hint += "; an object not imported yet shows with --preview"
    raise ObjectNotFound(f"no object matches {text!r} in {where}", hint=hint)


NOTHING_IMPORTED_HINT = (
    "run `reconciler apply PLAYBOOK` or `reconciler run PLAYBOOK CONNECTOR full-import` first; "
    "`reconciler explain PLAYBOOK OBJECT --preview` shows what a first synchronization would do"
)


def _labels(objs: list[CSObject]) -> list[str]:
    """CONNECTOR:DN per object, or CONNECTOR:GUID where the DN would not tell two of them apart."""
    seen: dict[str, int] = {}
    for o in objs:
        key = f"{o.connector}:{normalize_dn(o.dn)}"
        seen[key] = seen.get(key, 0) + 1
    out = []
    for o in sorted(objs, key=lambda o: (o.connector, o.dn.lower())):
        unique = seen[f"{o.connector}:{normalize_dn(o.dn)}"] == 1
        label = f"{o.connector}:{o.dn}" if unique else f"{o.connector}:{o.guid}"
        out.append(label if o.kind == 0 else f"{label} ({KIND_NAMES.get(o.kind, o.kind)})")
    return out


# ----------------------------------------------------------------------------- building the chain
def explain(playbook: Playbook, store: Any, text: str, *, preview_hint: bool = True) -> Explanation:
    """The explanation of the object ``text`` names, from the state as it is (read only)."""
    # one read transaction, rolled back: every query sees the same commit even while a run goes on (WAL
    # readers take no lock and block no writer)
    with store.dry_run():
        target = resolve(playbook, store, text, preview_hint=preview_hint)
        out = explain_target(playbook, store, target, text)
    if out is None:  # resolved a moment ago: only a concurrent run could remove it
        raise ObjectNotFound(f"{text!r} is no longer in the state", hint="run explain again")
    return out


def explain_target(playbook: Playbook, store: Any, target: Target, text: str) -> Explanation | None:
    """The explanation of a resolved object; None when it is gone (a preview's synchronization deleted it)."""
    ctx = Context(playbook, store)
    try:
        return _build(Helpers.of(ctx), target, text)
    finally:
        ctx.close()


def _build(h: Helpers, target: Target, text: str) -> Explanation | None:
    store = h.store
    focus = store.cs_by_ids([target.cs_id]).get(target.cs_id) if target.cs_id is not None else None
    mv_id = target.mv_id if target.mv_id is not None else (focus.mv_id if focus is not None else None)
    mv = store.mv_by_ids([mv_id]).get(mv_id) if mv_id is not None else None
    if focus is None and mv is None:
        return None  # gone (a preview's synchronization deleted it)
    label = f"{focus.connector}:{h.redactor.scrub(focus.dn)}" if focus is not None else None
    out = Explanation(text, target.found_by, label)
    applied = store.get_meta(RULES_DIGEST_KEY)
    if applied is not None and applied != h.playbook.rules_digest():
        out.notes.append("the sync rules changed since the last synchronization: links and contributions are "
                         "the old rules' (scopes and joins are checked with the new ones); --preview runs them")  # fmt: skip
    linked: list[CSObject] = store.cs_by_mv([mv.id]).get(mv.id, []) if mv is not None else []
    if focus is not None and all(cs.id != focus.id for cs in linked):
        linked.append(focus)
    h.load_refs(linked)
    order = {n: i for i, n in enumerate(h.playbook.connectors)}
    linked.sort(key=lambda c: (order.get(c.connector, len(order)), c.dn.lower(), c.id or 0))
    if mv is not None:
        out.mv = _mv_view(h, mv, linked)
    for cs in linked:
        view = _cs_view(h, cs, mv if cs.mv_id is not None else None)
        {"source": out.sources, "target": out.targets}.get(view.role, out.disconnected).append(view)
    return out


def _cs_view(h: Helpers, cs: CSObject, mv: MVObject | None) -> CSView:
    role = "disconnector"
    if cs.link_kind is not None:
        role = "source" if cs.link_kind in INBOUND_LINKS else "target" if cs.link_kind == PROVISION else role
    view = CSView(
        cs.connector, role, h.redactor.scrub(cs.dn), cs.guid, h.redactor.scrub(cs.anchor), cs.object_type,
        KIND_NAMES.get(cs.kind, str(cs.kind)), cs.link_kind, cs.link_rule, mv.guid if mv is not None else None,
        cs.pending_import, sorted(cs.pi_attrs or ()), export_state=cs.export_state, cs_id=cs.id,
    )  # fmt: skip
    errors = (("import", cs.import_error), ("export", cs.export_error), ("sync", cs.sync_error))
    view.errors = {k: h.redactor.scrub(v) for k, v in errors if v}
    view.inbound_rules = inbound_checks(h, cs)
    owners: dict[str, tuple[str, str, bool]] = {}
    if mv is not None:
        view.outbound_rules, owners = outbound_owners(h, cs, mv)
    view.attributes, view.pending_export, view.export_memory = cs_parts(h, cs, owners)
    if mv is None:
        view.notes = disconnected_notes(h, cs, view.inbound_rules)
    return view


def _mv_view(h: Helpers, mv: MVObject, linked: list[CSObject]) -> MVView:
    by_id = {cs.id: cs for cs in linked}
    view = MVView(mv.guid, mv.object_type, pending_outbound=bool(mv.dirty), retry=list(mv.retry or ()),
                  mv_id=mv.id)  # fmt: skip
    view.connectors = [f"{cs.connector}:{h.redactor.scrub(cs.dn)} ({cs.link_kind})" for cs in linked
                       if cs.mv_id == mv.id]  # fmt: skip
    typedef = h.playbook.metaverse.get(mv.object_type)
    refs = {n for n, a in typedef.attributes.items() if a.type == "reference"} if typedef else set()
    everyone = mv.contrib.get(ALL)
    names = sorted(set(mv.attrs) | {k for k in mv.contrib if k != ALL}, key=str.lower)
    scoped = h.scoped_inbound(linked, mv)
    for name in names:
        who = mv.contrib.get(name) or (everyone if name in mv.attrs else None)
        rule_name, cs_id = (who[0], who[1]) if who else (None, None)
        cs = by_id.get(cs_id) if cs_id is not None else None
        if cs is None and cs_id is not None:
            cs = h.store.cs_by_ids([cs_id]).get(cs_id)
        value = mv.attrs.get(name)
        attr = h.attribute(name, "", value)
        if name in refs and value is not None:
            # the state's MV ids mean nothing outside it: the targets' GUIDs stand for them
            guids, attr.refs, attr.more_refs = h.mv_ref_display(value)
            attr.value = guids if isinstance(value, list) else guids[0] if guids else None
        attr.rule, attr.connector = rule_name, cs.connector if cs is not None else None
        attr.source = f"{cs.connector}:{h.redactor.scrub(cs.dn)}" if cs is not None else None
        rule = h.inbound_rule(rule_name) if rule_name else None
        if rule is not None:
            attr.flow = " | ".join(f.label for f in rule.flows if f.target == name) or None
            attr.precedence = rule.rule.precedence
        elif rule_name:
            attr.note = "its rule is no longer in the playbook (or disabled): the next synchronization recomputes it"
        if who is not None and name not in mv.attrs:
            attr.note = ("no value: the reference is empty or names no joined object" if name in refs
                         else "cleared: the winning flow gave AuthoritativeNull")  # fmt: skip
        attr.also = h.other_contributors(scoped, name, rule_name, cs_id)
        view.attributes.append(attr)
    return view

