"""Renderers of plans and drift reports: text (terminal), md (pull-request comment), json, html."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.plan.drift import DriftReport
    from reconciler.plan.planfile import Plan

FORMATS = ("text", "md", "json", "html")


def render_plan(
    plan: Plan,
    fmt: str,
    *,
    explain: bool = False,
    full: bool = False,
    color: bool = False,
    artifact: str | None = None,
) -> str:
    """A plan in one of ``FORMATS``; json always holds every object (it is the full output), html too with ``full``."""
    if fmt == "json":
        from reconciler.plan.render import json

        return json.render_plan(plan)
    if fmt == "html":
        from reconciler.plan.render import html

        return html.render_plan(plan, explain=explain, full=full)
    if fmt == "md":
        from reconciler.plan.render import markdown

        return markdown.render_plan(plan, explain=explain, full=full, artifact=artifact)
    from reconciler.plan.render import text

    return text.render_plan(plan, explain=explain, full=full, color=color)


def plan_pieces(plan: Plan, fmt: str, **options: Any) -> Iterator[str]:
    """``render_plan`` in pieces to print one after the other: json is made a thousand changes at a time
    (a plan of 100,000 changes is printed without ever being held whole); the others in one piece."""
    if fmt == "json":
        from reconciler.plan.render import json

        return json.plan_pieces(plan)
    return iter([render_plan(plan, fmt, **options)])


def render_drift(report: DriftReport, fmt: str, *, color: bool = False) -> str:
    if fmt == "json":
        from reconciler.plan.render import json

        return json.render_drift(report)
    if fmt == "html":
        from reconciler.plan.render import html

        return html.render_drift(report)
    if fmt == "md":
        from reconciler.plan.render import markdown

        return markdown.render_drift(report)
    from reconciler.plan.render import text

    return text.render_drift(report, color=color)
