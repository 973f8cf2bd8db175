"""Plan and drift as Markdown sized for a pull-request comment (GitHub caps a comment at 65,536 characters).

Changes are shown in ```diff blocks (red deletes, green adds) built from the same lines as the text
output. Past ``BUDGET`` characters the rest is cut with a note pointing at the full plan (the artifact).
"""

from __future__ import annotations

from reconciler.plan.drift import CLASSES, DriftReport
from reconciler.plan.planfile import Plan
from reconciler.plan.render.text import Line, plan_lines
from reconciler.plan.render.values import show

BUDGET = 60_000  # keeps a comment under 65,000 characters with room for the pipeline's own words
_PREFIX = {"delete": "-", "add": "+", "update": "!", "rename": "!", "note": "#", "head": "", "summary": ""}


def _fence(body: str) -> str:
    fence = "```"
    while fence in body:
        fence += "`"
    return fence


def _diff_line(kind: str, text: str) -> str:
    # diff colouring keys on the first character: it replaces the text's own +/-/~ symbol
    prefix = _PREFIX.get(kind, " ")
    if len(text) > 3 and text[:2] == "  " and text[2] in "+-~" and text[3] == " ":
        return f"{prefix} {text[4:]}"
    return f"{prefix}{text[1:] if text.startswith(' ') else ' ' + text}" if text else ""


def render_plan(
    plan: Plan,
    *,
    explain: bool = False,
    full: bool = False,
    budget: int = BUDGET,
    artifact: str | None = None,
) -> str:
    lines = plan_lines(plan, explain=explain, full=full)
    summary = lines[-1][1]
    notes = [text for kind, text in lines if kind == "note" and text and not text.startswith(" ")]
    head = [f"### reconciler plan: `{plan.playbook or 'playbook'}`", "", f"**{summary}**", ""]
    if notes:
        head += ["<details><summary>imports</summary>", "", *[f"- {n}" for n in notes], "", "</details>", ""]
    if plan.problems:
        head += [f"> **{len(plan.problems)} objects have errors and are left out of this plan:**", ">"]
        head += [f"> - {p.connector}: `{p.dn}`: {p.error}" for p in plan.problems[:50]]
        head += [""]
    sections = _sections(lines[:-1])
    where = (
        f"`{artifact}`"
        if artifact
        else "the saved plan (`reconciler plan --out plan.json`, `reconciler show plan.json`)"
    )
    out = "\n".join(head) + "\n"
    cut = 0
    for index, (title, body) in enumerate(sections):
        fence = _fence("\n".join(body))
        opening = f"<details open><summary><b>{title}</b></summary>\n\n{fence}diff\n"
        closing = f"{fence}\n\n</details>\n"
        if len(out) + len(opening) + len(closing) + 400 > budget:
            cut = sum(len(b) for _, b in sections[index:])
            break
        out += opening
        for n, line in enumerate(body):
            if len(out) + len(line) + len(closing) + 400 > budget:
                cut = len(body) - n + sum(len(b) for _, b in sections[index + 1 :])
                break
            out += line + "\n"
        out += closing
        if cut:
            break
    if cut:
        out += f"\n> ✂ {cut} more lines are not shown here: the full plan is {where}.\n"
    if plan.changes and not explain:
        out += "\n<sub>Run `reconciler plan --explain` to see the rule behind each change.</sub>\n"
    return out


def _sections(lines: list[Line]) -> list[tuple[str, list[str]]]:
    sections: list[tuple[str, list[str]]] = []
    for kind, text in lines:
        if kind == "head":
            sections.append((text, []))
        elif sections and text and not (kind == "note" and not text.startswith(" ")):
            sections[-1][1].append(_diff_line(kind, text))
    return sections


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def render_drift(report: DriftReport, *, budget: int = BUDGET) -> str:
    out = [f"### reconciler drift: `{report.playbook or 'playbook'}`", "", f"**{report.summary_line()}**", ""]
    counts = report.counts()
    if report.items:
        out += [
            "| class | differences |",
            "| --- | ---: |",
            *[f"| {CLASSES[k]} | {n} |" for k, n in counts.items() if n],
            "",
        ]
    text = "\n".join(out)
    shown = 0
    for klass, items in report.by_class().items():
        if not items:
            continue
        rows = [
            f"#### {CLASSES[klass]} ({len(items)})",
            "",
            "| connector | object | anchor | attribute | actual | desired |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        block = "\n".join(rows) + "\n"
        for i in items:
            row = f"| {_cell(i.connector)} | `{_cell(i.dn)}` | {_cell(i.anchor or '')} | {_cell(i.attribute or '')} | {_cell(show(i.actual))} | {_cell(show(i.desired))} |\n"
            if len(text) + len(block) + len(row) > budget:
                text += (
                    block
                    + f"\n> ✂ {len(report.items) - shown} more differences: run `reconciler drift --format html` for the full report.\n"
                )
                return text
            block += row
            shown += 1
        text += block + "\n"
    if report.unmanaged:
        text += f"<details><summary>Unmanaged objects (for information, never touched): {len(report.unmanaged)}</summary>\n\n"
        for u in report.unmanaged[:500]:
            text += f"- {_cell(u.connector)}: `{_cell(u.dn)}`\n"
        if len(report.unmanaged) > 500:
            text += f"- … and {len(report.unmanaged) - 500} more\n"
        text += "\n</details>\n"
    return text
