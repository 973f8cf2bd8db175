"""Plan and drift as one self-contained HTML page: summary chart, sortable and filterable tables.

Everything is inline (style, script, an SVG chart) and the page's Content-Security-Policy forbids any
fetch, so it can be mailed, attached to a pipeline run or opened offline.
"""

from __future__ import annotations

from html import escape
from typing import Any

from reconciler.plan.drift import CLASSES, DriftReport
from reconciler.plan.planfile import Plan
from reconciler.plan.render.html_assets import CSP, SCRIPT, STYLE
from reconciler.plan.render.values import edit, show

_COLOURS = {
    "delete": "#cf222e", "rename": "#8250df", "update": "#9a6700", "add": "#1a7f37",
    "out-of-band": "#9a6700", "unconfirmed": "#8250df", "missing": "#1a7f37", "deprovision": "#cf222e", "pending": "#0969da",
}  # fmt: skip


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n"
        f"<script>{SCRIPT}</script>\n</body></html>\n"
    )


def chart(bars: list[tuple[str, str, int]]) -> str:
    """A horizontal bar chart as inline SVG: (key, label, count) per bar."""
    width, label_w, row = 600, 270, 24
    top = max([n for _, _, n in bars] + [1])
    parts = [
        f'<svg class="chart" role="img" aria-label="summary" width="{width}" height="{row * len(bars) + 4}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (key, label, n) in enumerate(bars):
        y = i * row + 2
        w = 0 if n == 0 else max(2, int((width - label_w - 60) * n / top))
        parts.append(f'<text x="0" y="{y + 15}">{escape(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="16" rx="3" fill="{_COLOURS.get(key, "#888")}"><title>{escape(label)}: {n}</title></rect>'
        )
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 15}">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(table_id: str, headers: list[str], rows: list[list[Any]]) -> str:
    """A sortable table; a cell is text, or (html, sort key) when it carries markup."""
    if not rows:
        return '<p class="empty">None.</p>'
    out = [
        f'<input class="filter" type="search" placeholder="Filter rows…" data-table="{table_id}" aria-label="filter">',
        f'<table class="sortable" id="{table_id}"><thead><tr>',
        *[f"<th>{escape(h)}</th>" for h in headers],
        "</tr></thead><tbody>",
    ]
    for row in rows:
        out.append("<tr>")
        for cell in row:
            if isinstance(cell, tuple):
                html_text, sort = cell
                out.append(f'<td data-sort="{escape(str(sort))}">{html_text}</td>')
            else:
                out.append(f'<td class="v">{escape(str(cell))}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


_RANK = {k: i for i, k in enumerate(["delete", "rename", "update", "add", *CLASSES])}


def _tag(kind: str) -> tuple[str, str]:
    # sorts in report order (destructive first), not alphabetically
    return (f'<span class="tag k-{escape(kind)}">{escape(kind)}</span>', f"{_RANK.get(kind, 99):02d} {kind}")


def render_plan(plan: Plan, *, explain: bool = False) -> str:
    s = plan.summary()
    bars = [
        ("delete", "to delete", s.delete),
        ("rename", "to rename", s.rename),
        ("update", "to change", s.change),
        ("add", "to add", s.add),
    ]
    rows: list[list[Any]] = []
    for c in plan.changes:
        target = c.new_dn if c.op == "rename" else ""
        if not c.attributes or c.op == "delete":
            rows.append([_tag(c.op), c.connector, c.object_type, c.dn, target, "", "", c.rule or ""])
        for d in c.attributes if c.op != "delete" else []:
            change = show(d.after) if c.op == "add" else edit(d)
            rows.append(
                [_tag(c.op), c.connector, c.object_type, c.dn, target, d.name, change, d.rule or c.rule or ""]
            )
    body = [
        f'<h1>reconciler plan</h1><div class="meta">{escape(plan.playbook)} · {escape(plan.created_at)} · reconciler {escape(plan.tool_version)} · state version {plan.state_version}</div>',
        f'<div class="summary">{escape(s.line())}</div>',
        chart(bars),
        "<h2>Changes</h2>",
        _table(
            "changes", ["op", "connector", "type", "object", "new DN", "attribute", "change", "rule"], rows
        ),
    ]
    if explain and plan.rule_edits:
        body.append("<h2>Playbook edits behind these changes</h2><ul>")
        body += [
            f"<li><b>{escape(rule)}</b>: {escape(e)}</li>"
            for rule, edits in plan.rule_edits.items()
            for e in edits
        ]
        body.append("</ul>")
    if plan.unmanaged:
        body.append(f"<h2>Unmanaged objects ({len(plan.unmanaged)}), left alone</h2>")
        body.append(
            _table(
                "unmanaged",
                ["connector", "type", "object", "anchor"],
                [[u.connector, u.object_type, u.dn, u.anchor or ""] for u in plan.unmanaged],
            )
        )
    body.append(
        f"<footer>Digest-checked plan; sensitive values are redacted. Playbook digest {escape(plan.playbook_digest[:16])}…</footer>"
    )
    return _page(f"reconciler plan — {s.line()}", "\n".join(body))


def render_drift(report: DriftReport) -> str:
    counts = report.counts()
    bars = [(k, CLASSES[k], n) for k, n in counts.items()]
    rows = [
        [
            _tag(i.drift_class),
            i.connector,
            i.object_type,
            i.dn,
            i.anchor or "",
            i.attribute or "",
            show(i.actual),
            show(i.desired),
            i.rule or "",
        ]
        for i in report.items
    ]
    body = [
        f'<h1>reconciler drift report</h1><div class="meta">{escape(report.playbook)} · {escape(report.created_at)} · reconciler {escape(report.tool_version)}</div>',
        f'<div class="summary">{escape(report.summary_line())}</div>',
        chart(bars),
        "<h2>Differences</h2>",
        _table(
            "drift",
            ["class", "connector", "type", "object", "anchor", "attribute", "actual", "desired", "rule"],
            rows,
        ),
        f"<h2>Unmanaged objects ({len(report.unmanaged)}), for information</h2>",
        _table(
            "unmanaged",
            ["connector", "type", "object", "anchor"],
            [[u.connector, u.object_type, u.dn, u.anchor or ""] for u in report.unmanaged],
        ),
        "<footer>Drift: out-of-band edits, unconfirmed exports, missing provisioned objects, objects that should be gone, and pending changes. Unmanaged objects never count as drift. Sensitive values are redacted.</footer>",
    ]
    return _page(f"reconciler drift — {report.summary_line()}", "\n".join(body))
