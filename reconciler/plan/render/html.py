"""Plan and drift as one self-contained HTML page: summary chart, sortable and filterable tables.

Everything is inline (style, script, an SVG chart) and the page's Content-Security-Policy forbids any
fetch, so it can be mailed, attached to a pipeline run or opened offline.
"""

from __future__ import annotations

from html import escape
from typing import Any

from reconciler.plan.cluster import CLUSTER_THRESHOLD, Cluster, Detail, layout, should_cluster
from reconciler.plan.drift import CLASSES, DriftReport
from reconciler.plan.model import PlannedChange
from reconciler.plan.planfile import Plan
from reconciler.plan.render.html_assets import CSP, SCRIPT, STYLE
from reconciler.plan.render.values import edit, show

_COLOURS = {
    "delete": "#cf222e", "rename": "#8250df", "update": "#9a6700", "add": "#1a7f37",
    "out-of-band": "#9a6700", "unconfirmed": "#8250df", "missing": "#1a7f37", "deprovision": "#cf222e", "pending": "#0969da",
}  # fmt: skip

_STYLE = ".note, .more { color: var(--muted); } code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }\n"

# A large plan (past the text renderer's clustering threshold) is bounded like the text output: identical
# edits are clustered, and only so many objects per connector are listed one by one. ``full`` lists all.
DETAIL_CAP = 100  # objects listed one by one per connector
CLUSTER_CAP = 200  # clusters listed per connector
UNMANAGED_CAP = 500  # unmanaged objects listed
_FULL_DETAIL = (
    "the full detail is in the <code>--full</code> output "
    "(<code>reconciler plan --format html --full</code>) or the JSON plan file "
    "(<code>reconciler plan --out plan.json</code>)"
)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}{_STYLE}</style></head>\n<body>\n{body}\n"
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


def _table(table_id: str, headers: list[str], rows: list[list[Any]], *, filter_box: bool = True) -> str:
    """A sortable table; a cell is text, or (html, sort key) when it carries markup."""
    if not rows:
        return '<p class="empty">None.</p>'
    out = [
        f'<input class="filter" type="search" placeholder="Filter rows…" data-table="{table_id}" aria-label="filter">'
        if filter_box
        else "",
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


def _change_rows(c: PlannedChange) -> list[list[Any]]:
    """One row per attribute of a change (one row for a delete or an edit without attributes)."""
    target = c.new_dn if c.op == "rename" else ""
    if not c.attributes or c.op == "delete":
        return [[_tag(c.op), c.connector, c.object_type, c.dn, target, "", "", c.rule or ""]]
    return [
        [
            _tag(c.op),
            c.connector,
            c.object_type,
            c.dn,
            target,
            d.name,
            show(d.after) if c.op == "add" else edit(d),
            d.rule or c.rule or "",
        ]
        for d in c.attributes
    ]


def cluster_line(cluster: Cluster) -> str:
    """A cluster in the text renderer's words: "312 objects: department "Sales" → "Marketing"."""
    if cluster.op == "update":
        return f"{cluster.count} objects: " + "; ".join(f"{d.name} {edit(d)}" for d in cluster.edits)
    rule = f" by rule {cluster.rule!r}" if cluster.rule else ""
    return f"{cluster.count} {cluster.object_type} objects to {cluster.op}{rule}"


def _cluster_row(cluster: Cluster, connector: str) -> list[Any]:
    more = cluster.count - len(cluster.sample)
    sample = ", ".join(cluster.sample) + (f" and {more} more" if more > 0 else "")
    return [
        _tag(cluster.op),
        connector,
        cluster.object_type,
        str(cluster.count),
        cluster_line(cluster),
        cluster.rule or "",
        sample,
    ]


def render_plan(
    plan: Plan,
    *,
    explain: bool = False,
    full: bool = False,
    threshold: int = CLUSTER_THRESHOLD,
    detail_cap: int = DETAIL_CAP,
) -> str:
    """The plan page; past ``threshold`` changes (as text) identical edits are clustered and at most
    ``detail_cap`` objects per connector are listed one by one, unless ``full``."""
    s = plan.summary()
    bars = [
        ("delete", "to delete", s.delete),
        ("rename", "to rename", s.rename),
        ("update", "to change", s.change),
        ("add", "to add", s.add),
    ]
    clustered = not full and should_cluster(len(plan.changes), threshold)
    rows: list[list[Any]] = []
    cluster_rows: list[list[Any]] = []
    tallies: list[list[Any]] = []
    more: list[str] = []
    for connector, changes in plan.by_connector().items():
        listed = in_clusters = hidden = clusters = 0
        for item in layout(changes, clustered):
            if isinstance(item, Detail):
                if clustered and listed >= detail_cap:
                    hidden += 1
                    continue
                rows.extend(_change_rows(item.change))
                listed += 1
            elif clusters < CLUSTER_CAP:
                cluster_rows.append(_cluster_row(item, connector))
                clusters += 1
                in_clusters += item.count
            else:
                hidden += item.count
        if clustered:
            counts = [sum(1 for c in changes if c.op == op) for op in ("delete", "rename", "update", "add")]
            tallies.append([connector, *map(str, counts), str(listed), str(in_clusters), str(hidden)])
        if hidden:
            more.append(
                f'<p class="more">… and {hidden} more {escape(connector)} objects are not listed here: '
                f"{_FULL_DETAIL}.</p>"
            )
    body = [
        f'<h1>reconciler plan</h1><div class="meta">{escape(plan.playbook)} · {escape(plan.created_at)} · reconciler {escape(plan.tool_version)} · state version {plan.state_version}</div>',
        f'<div class="summary">{escape(s.line())}</div>',
        chart(bars),
    ]
    if clustered:
        body.append(
            f'<p class="note">{len(plan.changes)} changes: identical edits are clustered and at most '
            f"{detail_cap} objects per connector are listed one by one; {_FULL_DETAIL}.</p>"
        )
        body.append("<h2>By connector</h2>")
        body.append(
            _table(
                "connectors",
                ["connector", "delete", "rename", "update", "add", "listed", "in clusters", "not listed"],
                tallies,
                filter_box=False,
            )
        )
        if cluster_rows:
            body.append("<h2>Identical edits, clustered</h2>")
            body.append(
                _table(
                    "clusters",
                    ["op", "connector", "type", "objects", "change", "rule", "examples"],
                    cluster_rows,
                )
            )
    body.append("<h2>Changes, object by object</h2>" if clustered else "<h2>Changes</h2>")
    if clustered and not rows:
        body.append('<p class="empty">None: every change is in a cluster above.</p>')
    else:
        body.append(
            _table(
                "changes",
                ["op", "connector", "type", "object", "new DN", "attribute", "change", "rule"],
                rows,
            )
        )
    body.extend(more)
    if explain and plan.rule_edits:
        body.append("<h2>Playbook edits behind these changes</h2><ul>")
        body += [
            f"<li><b>{escape(rule)}</b>: {escape(e)}</li>"
            for rule, edits in plan.rule_edits.items()
            for e in edits
        ]
        body.append("</ul>")
    if plan.unmanaged:
        unmanaged = plan.unmanaged if full else plan.unmanaged[:UNMANAGED_CAP]
        body.append(f"<h2>Unmanaged objects ({len(plan.unmanaged)}), left alone</h2>")
        body.append(
            _table(
                "unmanaged",
                ["connector", "type", "object", "anchor"],
                [[u.connector, u.object_type, u.dn, u.anchor or ""] for u in unmanaged],
            )
        )
        if len(unmanaged) < len(plan.unmanaged):
            body.append(
                f'<p class="more">… and {len(plan.unmanaged) - len(unmanaged)} more unmanaged objects '
                f"are not listed here: {_FULL_DETAIL}.</p>"
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
