"""The HTML plan of a large plan stays a page a browser opens: clustered like text, capped per connector."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import pytest

from reconciler.plan.cluster import CLUSTER_THRESHOLD
from reconciler.plan.model import AttributeDelta, PlannedChange, UnmanagedObject
from reconciler.plan.planfile import Plan
from reconciler.plan.render import html, render_plan, text

from . import chromium
from .samples import mixed, same_edit, update

N = 3000  # objects sharing one edit
UNIQUE = 400  # updates each with its own edit: never clustered, so capped


def plan_of(changes: list[PlannedChange], **kw) -> Plan:  # type: ignore[no-untyped-def]
    return Plan.build(changes, playbook="pb.yml", playbook_digest="d" * 64, state_version=3, **kw)


def large(n: int = N, unique: int = UNIQUE) -> Plan:
    changes = same_edit(n)
    changes += [
        update(f"uid=x{i:04d},ou=people", AttributeDelta("title", before="Eng", after=f"Lead {i}"))
        for i in range(unique)
    ]
    changes += [
        PlannedChange(
            "corp", "delete", "person", f"uid=gone{i},ou=people", anchor=f"g{i}", rule="Out to corp"
        )
        for i in range(5)
    ]
    changes += same_edit(10, connector="hrcopy")
    return plan_of(changes)


def rows(page: str, table_id: str) -> list[str]:
    match = re.search(rf'<table class="sortable" id="{table_id}">.*?</table>', page, re.S)
    return re.findall(r"<tr>.*?</tr>", match.group(0), re.S)[1:] if match else []


def test_large_plan_page_is_bounded_and_clustered_like_text() -> None:
    plan = large()
    page = html.render_plan(plan)
    assert len(page) < 250_000
    assert len(html.render_plan(large(n=4 * N, unique=4 * UNIQUE))) < len(page) * 1.1  # does not grow with n
    # the summary line is the text one, exactly
    summary = text.render_plan(plan).rstrip().splitlines()[-1]
    assert summary == f"Plan: 0 to add, {N + UNIQUE + 10} to change, 0 to rename, 5 to delete."
    assert f'<div class="summary">{escape(summary)}</div>' in page
    # identical edits are one row each, in the text renderer's words
    line = f'{N} objects: department "Sales" → "Marketing"'
    assert f"  ~ {line}" in text.render_plan(plan).splitlines()
    clusters = rows(page, "clusters")
    assert len(clusters) == 2
    assert escape(line) in clusters[0] and "uid=u0000,ou=people" in clusters[0] and "hrcopy" in clusters[1]
    # per-object rows are capped per connector; deletes (never clustered) come first
    listed = rows(page, "changes")
    assert len(listed) == html.DETAIL_CAP
    assert all("uid=gone" in r for r in listed[:5])
    assert "uid=u0003,ou=people" not in page and f"uid=x{UNIQUE - 1:04d}" not in page
    hidden = UNIQUE + 5 - html.DETAIL_CAP
    more = re.findall(r'<p class="more">(.*?)</p>', page)
    assert more == [
        f"… and {hidden} more corp objects are not listed here: the full detail is in the "
        "<code>--full</code> output (<code>reconciler plan --format html --full</code>) or the JSON "
        "plan file (<code>reconciler plan --out plan.json</code>)."
    ]
    tally = rows(page, "connectors")
    assert [re.findall(r">([^<]*)</td>", r) for r in tally] == [
        ["corp", "5", "0", str(N + UNIQUE), "0", str(html.DETAIL_CAP), str(N), str(hidden)],
        ["hrcopy", "0", "0", "10", "0", "0", "10", "0"],
    ]
    assert "<script src" not in page and "<link" not in page and "Content-Security-Policy" in page


def test_full_lists_every_object() -> None:
    plan = large()
    page = render_plan(plan, "html", full=True)  # the dispatcher the CLI uses passes --full through
    assert 'id="clusters"' not in page and '<p class="more">' not in page
    assert len(rows(page, "changes")) == len(plan.changes)
    for change in plan.changes:
        assert f">{escape(change.dn)}</td>" in page
    assert f'<div class="summary">{escape(plan.summary().line())}</div>' in page


def test_at_the_threshold_every_object_is_listed() -> None:
    plan = plan_of(same_edit(CLUSTER_THRESHOLD))
    page = html.render_plan(plan, detail_cap=10)
    assert 'id="clusters"' not in page and '<p class="more">' not in page
    assert len(rows(page, "changes")) == CLUSTER_THRESHOLD
    small = html.render_plan(plan_of(mixed()))
    assert 'id="clusters"' not in small and len(rows(small, "changes")) == 7


def test_unmanaged_objects_are_capped_unless_full() -> None:
    unmanaged = [
        UnmanagedObject("corp", "person", f"uid=svc{i},ou=people") for i in range(html.UNMANAGED_CAP + 7)
    ]
    plan = plan_of(mixed(), unmanaged=unmanaged)
    page = html.render_plan(plan)
    assert len(rows(page, "unmanaged")) == html.UNMANAGED_CAP
    assert "… and 7 more unmanaged objects are not listed here" in page
    assert len(rows(html.render_plan(plan, full=True), "unmanaged")) == len(unmanaged)


@pytest.mark.skipif(not chromium.available(), reason="chromium is not installed (make system-deps)")
def test_clustered_page_sorts_and_fetches_nothing(tmp_path: Path) -> None:
    path = tmp_path / "plan.html"
    path.write_text(html.render_plan(large()), encoding="utf-8")
    url = path.as_uri()
    counts = "Array.from(document.querySelectorAll('#clusters tbody tr')).map(r => r.cells[3].textContent)"
    dns = "Array.from(document.querySelectorAll('#changes tbody tr')).map(r => r.cells[3].textContent)"
    with chromium.Browser() as browser:
        browser.open(url)
        assert browser.evaluate(counts) == [str(N), "10"]
        browser.evaluate("document.querySelectorAll('#clusters thead th')[3].click()")
        assert browser.evaluate(counts) == ["10", str(N)]  # numerically, not as text
        before = browser.evaluate(dns)
        assert len(before) == html.DETAIL_CAP
        for _ in range(2):  # ascending, then descending
            browser.evaluate("document.querySelectorAll('#changes thead th')[3].click()")
        after = browser.evaluate(dns)
        assert after == sorted(before, key=str.lower, reverse=True) and after != before
        requested = browser.requested_urls()
        errors = browser.console_errors()
    assert requested == [url], f"the page made network requests: {requested}"
    assert errors == []
