"""Plan and drift as text for a terminal (ANSI colours only when asked) — and the lines Markdown reuses."""

from __future__ import annotations

from reconciler.plan.cluster import CLUSTER_THRESHOLD, Cluster, Detail, layout, should_cluster
from reconciler.plan.drift import CLASSES, DriftReport
from reconciler.plan.model import PlannedChange
from reconciler.plan.planfile import Plan
from reconciler.plan.render.values import edit, show

# line kinds; colours for a terminal, diff prefixes for Markdown
Line = tuple[str, str]
_PROBLEMS = 50  # errors listed in a plan; the history keeps them all
SYMBOL = {"delete": "-", "rename": "~", "update": "~", "add": "+"}
_COLOUR = {
    "delete": "31",
    "rename": "33",
    "update": "33",
    "add": "32",
    "head": "1",
    "note": "2",
    "summary": "1",
}


def _explain(change: PlannedChange, plan: Plan) -> list[Line]:
    lines: list[Line] = []
    why = f"rule {change.rule!r}" if change.rule else "no rule recorded"
    lines.append(("note", f"      why: {why}; cause: {change.cause}"))
    for edit_text in plan.rule_edits.get(change.rule or "", []):
        lines.append(("note", f"      playbook edit: {edit_text}"))
    return lines


def _attr_lines(change: PlannedChange, plan: Plan, explain: bool) -> list[Line]:
    lines: list[Line] = []
    for d in change.attributes:
        text = f"      {d.name} = {show(d.after)}" if change.op == "add" else f"      {d.name}: {edit(d)}"
        if explain:
            origin = [
                f"rule {d.rule!r}" if d.rule else "",
                f"flow {d.flow}" if d.flow else "",
                f"cause {d.cause}",
            ]
            text += "   ← " + ", ".join(p for p in origin if p)
            lines.append((change.op, text))
            if d.rule and d.rule != change.rule:
                lines.extend(("note", f"        playbook edit: {e}") for e in plan.rule_edits.get(d.rule, []))
        else:
            lines.append((change.op, text))
    return lines


def _detail(change: PlannedChange, plan: Plan, explain: bool) -> list[Line]:
    head = f"  {SYMBOL[change.op]} {change.op:<7}{change.dn}"
    if change.op == "rename":
        head += f"  →  {change.new_dn}"
    if change.anchor and change.op != "add":
        head += f"  (anchor {change.anchor})"
    lines: list[Line] = [(change.op, head)]
    if explain:
        lines.extend(_explain(change, plan))
    if change.op != "delete":
        lines.extend(_attr_lines(change, plan, explain))
    return lines


def _cluster(cluster: Cluster, plan: Plan, explain: bool) -> list[Line]:
    if cluster.op == "update":
        edits = "; ".join(f"{d.name} {edit(d)}" for d in cluster.edits)
        head = f"  {SYMBOL['update']} {cluster.count} objects: {edits}"
    else:
        rule = f" by rule {cluster.rule!r}" if cluster.rule else ""
        head = f"  {SYMBOL[cluster.op]} {cluster.count} {cluster.object_type} objects to {cluster.op}{rule}"
    more = cluster.count - len(cluster.sample)
    sample = ", ".join(cluster.sample) + (f" and {more} more" if more > 0 else "")
    lines: list[Line] = [
        (cluster.op, head),
        ("note", f"      e.g. {sample} (every object: --full or the JSON plan)"),
    ]
    if explain and cluster.changes:
        lines.extend(_explain(cluster.changes[0], plan))
    return lines


def plan_lines(
    plan: Plan, *, explain: bool = False, full: bool = False, threshold: int = CLUSTER_THRESHOLD
) -> list[Line]:
    """Every line of a plan, tagged by kind; the summary line is always last."""
    lines: list[Line] = []
    for imp in plan.imports:
        kind = "full" if imp.full else "delta"
        text = f"import {imp.connector} ({kind}): {imp.added} added, {imp.updated} updated, {imp.deleted} deleted"
        if imp.errors:
            text += f", {imp.errors} errors"
        lines.append(("note", text))
        lines.extend(("note", f"  {m}") for m in imp.messages)
    if plan.rules_changed:
        lines.append(("note", "the sync rules changed since the last apply: full synchronization"))
    if lines:
        lines.append(("note", ""))
    if plan.problems:
        lines.append(("delete", f"{len(plan.problems)} objects have errors and are left out of this plan:"))
        lines.extend(("delete", f"  {p.connector}: {p.dn}: {p.error}") for p in plan.problems[:_PROBLEMS])
        if len(plan.problems) > _PROBLEMS:
            lines.append(("delete", f"  … and {len(plan.problems) - _PROBLEMS} more (reconciler history)"))
        lines.append(("note", ""))
    clustered = not full and should_cluster(len(plan.changes), threshold)
    for connector, changes in plan.by_connector().items():
        counts = {op: sum(1 for c in changes if c.op == op) for op in ("delete", "rename", "update", "add")}
        tally = ", ".join(f"{n} {op}" for op, n in counts.items() if n)
        lines.append(("head", f"{connector}: {tally}"))
        for item in layout(changes, clustered):
            if isinstance(item, Detail):
                lines.extend(_detail(item.change, plan, explain))
            else:
                lines.extend(_cluster(item, plan, explain))
        lines.append(("note", ""))
    if plan.unmanaged:
        lines.append(
            ("note", f"{len(plan.unmanaged)} unmanaged objects in targets are left alone (see drift).")
        )
    lines.append(("summary", plan.summary().line()))
    return lines


def paint(lines: list[Line], color: bool) -> str:
    if not color:
        return "\n".join(text for _, text in lines) + "\n"
    out = []
    for kind, text in lines:
        code = _COLOUR.get(kind)
        out.append(f"\x1b[{code}m{text}\x1b[0m" if code and text else text)
    return "\n".join(out) + "\n"


def render_plan(plan: Plan, *, explain: bool = False, full: bool = False, color: bool = False) -> str:
    return paint(plan_lines(plan, explain=explain, full=full), color)


def drift_lines(report: DriftReport) -> list[Line]:
    lines: list[Line] = []
    for imp in report.imports:  # objects an import could not read are not compared: say so
        if imp.errors:
            lines.append(("delete", f"import {imp.connector}: {imp.errors} errors (those objects are not compared)"))
            lines.extend(("note", f"  {m}") for m in imp.messages)
    for klass, items in report.by_class().items():
        if not items:
            continue
        lines.append(("head", f"{CLASSES[klass]} ({klass}): {len(items)}"))
        for i in items:
            where = f"{i.connector}: {i.dn}" + (f" (anchor {i.anchor})" if i.anchor else "")
            if i.attribute:
                lines.append(("update", f"  ~ {where}"))
                lines.append(
                    ("note", f"      {i.attribute}: actual {show(i.actual)}, desired {show(i.desired)}")
                )
            else:
                lines.append(
                    (
                        "delete" if klass == "deprovision" else "add",
                        f"  ! {where}: actual {show(i.actual)}, desired {show(i.desired)}",
                    )
                )
        lines.append(("note", ""))
    if report.unmanaged:
        lines.append(("head", f"Unmanaged (for information, never touched): {len(report.unmanaged)}"))
        for u in report.unmanaged:
            lines.append(("note", f"  {u.connector}: {u.dn}" + (f" (anchor {u.anchor})" if u.anchor else "")))
        lines.append(("note", ""))
    lines.append(("summary", report.summary_line()))
    return lines


def render_drift(report: DriftReport, *, color: bool = False) -> str:
    return paint(drift_lines(report), color)
