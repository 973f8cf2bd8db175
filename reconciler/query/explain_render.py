"""An explanation (or a preview) as text for a terminal, as Markdown (the text in a code block, for a pull
request or a ticket) and as JSON (a stable document: every key present, values already redacted)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields, is_dataclass
from typing import Any

from reconciler.errors import UserError
from reconciler.plan.model import AttributeDelta
from reconciler.plan.render.values import edit, show
from reconciler.query.explain import CSView, Explanation, MVView
from reconciler.query.explain_parts import AttributeView, ExportView, RuleCheck
from reconciler.query.explain_preview import ObjectChange, Preview, ValueChange

FORMATS = ("text", "md", "json")
DOCUMENT_VERSION = 1
_SYMBOL = {"delete": "-", "rename": "~", "update": "~", "add": "+"}
_VALUE_COLUMN = 32  # values up to this wide are padded so that where each came from lines up


def render(result: Explanation | Preview, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document(result), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        title = "Preview of" if isinstance(result, Preview) else "Explain"
        return f"### {title} `{result.query}`\n\n```text\n{render_text(result)}```\n"
    if fmt == "text":
        return render_text(result)
    raise UserError(f"explain prints text, md or json, not {fmt}", hint="use --format text, md or json")


# ----------------------------------------------------------------------------- text
def render_text(result: Explanation | Preview) -> str:
    lines = _preview(result) if isinstance(result, Preview) else _explanation(result)
    return "\n".join(lines) + "\n"


def _explanation(e: Explanation) -> list[str]:
    head = e.focus if e.focus is not None else f"metaverse object {e.mv.guid if e.mv else '?'}"
    lines = [f"Explain {head} (found by {e.found_by})"]
    lines += [f"  note: {n}" for n in e.notes]
    if e.mv is not None:
        chain = [", ".join(v.label for v in e.sources) or "(no source)", f"metaverse {e.mv.object_type} {e.mv.guid}",
                 ", ".join(v.label for v in e.targets) or "(no target)"]  # fmt: skip
        lines.append("  " + " → ".join(chain))
    sections = (("Source connector space", e.sources), ("Not joined to the metaverse", e.disconnected))
    for title, views in sections:
        if views:
            lines += ["", title]
            for v in views:
                lines += _cs(v)
    lines += ["", "Metaverse"]
    lines += _mv(e.mv) if e.mv is not None else ["  not joined: no metaverse object"]
    if e.targets or e.mv is not None:
        lines += ["", "Target connector space"]
        lines += [line for v in e.targets for line in _cs(v)] or ["  provisioned to no connector"]
    return lines


def _link(v: CSView) -> str:
    if v.link_kind is None:
        return f"link: not joined ({'a placeholder' if v.kind == 'placeholder' else 'a disconnector'})"
    verb = {"join": "joined", "project": "projected", "provision": "provisioned"}.get(v.link_kind, v.link_kind)
    return f"link: {verb} by {v.link_rule!r} → metaverse {v.mv_guid}"


def _rules(title: str, checks: list[RuleCheck]) -> list[str]:
    out = []
    for c in checks:
        scope = "in scope" if c.in_scope else "out of scope: " + " or ".join(c.failing)
        out.append(f"    {title} {c.rule!r} (precedence {c.precedence}): {scope}")
    return out


def _cs(v: CSView) -> list[str]:
    about = [v.object_type, f"anchor {v.anchor}" if v.anchor else "no anchor yet",
             "" if v.kind == "normal" else v.kind, f"guid {v.guid}"]  # fmt: skip
    lines = [f"  {v.label}  ({', '.join(p for p in about if p)})", f"    {_link(v)}"]
    lines += _rules("inbound rule", v.inbound_rules)
    lines += _rules("outbound rule", v.outbound_rules)
    lines += [f"    {line}" for line in _state(v)]
    lines += [f"    why: {note}" for note in v.notes]
    if v.attributes:
        lines.append("    attributes:")
        width = max(len(a.name) for a in v.attributes)
        values = [_value(a) for a in v.attributes]
        vwidth = min(max(len(t) for t in values), _VALUE_COLUMN) if any(a.rule for a in v.attributes) else 0
        for a, value in zip(v.attributes, values):
            text = f"      {a.name:<{width}} = {value:<{vwidth}}"
            if a.rule is not None:
                text += f"   ← {a.rule!r}: {a.flow}" + (" (initial only)" if a.initial_only else "")
            lines.append(text.rstrip())
    return lines


def _state(v: CSView) -> list[str]:
    out = []
    if v.pending_import:
        names = f" ({', '.join(v.pending_import_attributes)})" if v.pending_import_attributes else ""
        out.append(f"pending import: {v.pending_import}{names}")
    if v.export_state == "in-flight":
        out.append("export in flight: handed to the connector, its result not recorded yet")
    if v.pending_export is not None:
        out += _export(v.pending_export, "pending export")
    for m in v.export_memory:
        refs = f" → {', '.join(m['refs'])}" if m.get("refs") else ""
        out.append(f"export memory: {m['attribute']} = {show(m['value'])}{refs}: {m['state']}")
    for kind, message in v.errors.items():
        out.append(f"{kind} error: {message}")
    if not out:
        confirmed = "; exported and confirmed" if v.export_state == "exported" else ""
        out.append(f"state: nothing pending{confirmed}")
    return out


def _export(x: ExportView, title: str) -> list[str]:
    head = f"{title}: {_SYMBOL.get(x.op, '~')} {x.op} by {x.rule!r} (cause {x.cause})"
    if x.new_dn:
        head += f", new DN {x.new_dn}"
    out = [head]
    for d in x.changes:
        origin = f"   ← {d.rule!r}: {d.flow}" if d.flow else ""
        shown = f"{d.name} = {show(d.after)}" if x.op == "add" else f"{d.name}: {edit(d)}"
        out.append(f"    {shown}{origin}")
    return out


def _value(a: AttributeView, mv: bool = False) -> str:
    """A value; a CS reference with the targets it resolves to, an MV reference as its targets alone."""
    if a.refs is None:
        return show(a.value)
    targets = ", ".join(a.refs) + (f" and {a.more_refs} more" if a.more_refs else "")
    if mv:
        return f"[{targets}]" if isinstance(a.value, list) else targets
    return f"{show(a.value)} → {targets}"


def _mv(m: MVView) -> list[str]:
    lines = [f"  {m.object_type} {m.guid}"]
    if m.pending_outbound:
        lines.append("    changed since its outbound rules last ran: the next synchronization evaluates them")
    if m.retry:
        lines.append(f"    provisioned again at the next synchronization to: {', '.join(m.retry)}")
    width = max((len(a.name) for a in m.attributes), default=0)
    values = [_value(a, mv=True) for a in m.attributes]
    vwidth = min(max((len(v) for v in values), default=0), _VALUE_COLUMN)
    for a, value in zip(m.attributes, values):
        if a.rule is None:
            origin = "contributor not recorded"
        else:
            detail = ", ".join(p for p in (f"precedence {a.precedence}" if a.precedence is not None else "",
                                           f"flow {a.flow}" if a.flow else "") if p)  # fmt: skip
            origin = f"contributed by {a.connector or '?'} / {a.rule}" + (f" ({detail})" if detail else "")
        lines.append(f"    {a.name:<{width}} = {value:<{vwidth}}   {origin}")
        pad = " " * (width + 3)
        if a.note:
            lines.append(f"    {pad}{a.note}")
        for other in a.also:
            lines.append(f"    {pad}also flowed by {other}")
    lines.append(f"    connectors: {', '.join(m.connectors) or 'none'}")
    return lines


def _preview(p: Preview) -> list[str]:
    lines = [f"Preview of {p.query}: imported and synchronized in a dry run; nothing committed, nothing "
             "exported"]  # fmt: skip
    for imp in p.imports:
        lines.append(f"  import {imp.connector} ({'full' if imp.full else 'delta'}): {imp.added} added, "
                     f"{imp.updated} updated, {imp.deleted} deleted")  # fmt: skip
    lines += [f"  note: {n}" for n in p.notes]
    lines += ["", "What a synchronization would change"]
    if p.before is None:
        lines.append("  not in the state yet: the import brings it in")
    body = _mv_change_lines(p) + [line for o in p.objects for line in _object_change(o)]
    lines += body if p.changes else ["  nothing: a synchronization now leaves this object as it is"]
    lines += [f"  problem: {x}" for x in p.problems]
    lines += ["", "After the synchronization", ""]
    if p.after is None:
        had_mv = p.before is not None and p.before.mv is not None
        lines.append(f"  the object{' and its metaverse object' if had_mv else ''} would be gone")
    else:
        lines += _explanation(p.after)
    return lines


def _mv_change_lines(p: Preview) -> list[str]:
    guid = p.after.mv.guid if p.after and p.after.mv else p.before.mv.guid if p.before and p.before.mv else ""
    if p.mv_status in ("none", "unchanged"):
        return []
    if p.mv_status == "deleted":
        return [f"  metaverse object {guid}: deleted (its last inbound link is gone)"]
    out = [f"  metaverse object {guid}: {'projected (new)' if p.mv_status == 'new' else 'attributes change'}"]
    for c in p.mv:
        out.append(f"    {_change(c)}" + (f"   contributed by {c.connector} / {c.rule}" if c.rule else ""))
    return out


def _change(c: ValueChange) -> str:
    return f"{c.name}: {edit(AttributeDelta(c.name, c.before, c.after, multivalued=isinstance(c.after, list)))}"


def _object_change(o: ObjectChange) -> list[str]:
    parts = [o.status] if o.status != "unchanged" else []
    if o.link:
        parts.append(f"link: {o.link}")
    if o.export is not None:
        parts.append("export staged" if o.export_is_new else "its pending export stays")
    out = [f"  {o.object}: {', '.join(parts) or 'unchanged'}"]
    if o.imported:
        out.append("    the import reads:")
        out += [f"      {_change(c)}" for c in o.imported]
    out += [f"    {n}" for n in o.notes]
    if o.export is not None and o.export_is_new:
        out += [f"    {line}" for line in _export(o.export, "export")]
    return out


# ----------------------------------------------------------------------------- json
def document(result: Explanation | Preview) -> dict[str, Any]:
    """The JSON document: ``kind`` says which (``explain`` or ``explain-preview``), ``version`` its shape."""
    if isinstance(result, Preview):
        return {
            "kind": "explain-preview", "version": DOCUMENT_VERSION, "query": result.query,
            "changes": result.changes, "mv_status": result.mv_status,
            "mv": [_plain(c) for c in result.mv], "objects": [_plain(o) for o in result.objects],
            "imports": [asdict(i) for i in result.imports], "problems": result.problems, "notes": result.notes,
            "before": _explanation_doc(result.before), "after": _explanation_doc(result.after),
        }  # fmt: skip
    doc = _explanation_doc(result)
    assert doc is not None
    return {"kind": "explain", "version": DOCUMENT_VERSION, **doc}


def _explanation_doc(e: Explanation | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {
        "query": e.query, "found_by": e.found_by, "focus": e.focus,
        "sources": [_plain(v) for v in e.sources], "mv": _plain(e.mv) if e.mv is not None else None,
        "targets": [_plain(v) for v in e.targets], "disconnected": [_plain(v) for v in e.disconnected],
        "notes": e.notes,
    }  # fmt: skip


_HIDDEN = {"cs_id", "mv_id"}  # the state's row ids: internal, they change with every rebuild of a state


def _plain(value: Any) -> Any:
    """Dataclasses as dicts (every field, but the internal ids), recursively."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value) if f.name not in _HIDDEN}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
