"""The single-file HTML drift report in headless Chromium: it sorts on click and fetches nothing."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from reconciler.plan.drift import build_report
from reconciler.plan.model import AttributeDelta, PlannedChange, UnmanagedObject
from reconciler.plan.render import html

from . import chromium
from .samples import update

pytestmark = pytest.mark.skipif(
    not chromium.available(), reason="chromium is not installed (make system-deps)"
)

DNS_JS = "Array.from(document.querySelectorAll('#drift tbody tr')).map(r => r.cells[3].textContent)"


def report_html() -> str:
    changes = [
        update("uid=mallory,ou=people", AttributeDelta("department", "Legal", "Sales", cause="out-of-band")),
        update("uid=carol,ou=people", AttributeDelta("title", "Eng", "Lead", cause="unconfirmed")),
        PlannedChange("corp", "add", "person", "uid=zed,ou=people", cause="missing"),
        PlannedChange("corp", "delete", "person", "uid=bob,ou=people", anchor="b-1", cause="deprovision"),
        # a value that looks like a network asset must stay text
        update(
            "uid=alice,ou=people", AttributeDelta("photo", None, "http://127.0.0.1:9/x.png", cause="source")
        ),
    ]
    unmanaged = [UnmanagedObject("corp", "person", "uid=svc-backup,ou=people")]
    return html.render_drift(build_report(changes, unmanaged, playbook="demo/playbook.yml"))


def test_report_is_one_file_without_network_assets() -> None:
    page = report_html()
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert "Content-Security-Policy" in page


def test_sorts_on_click_makes_no_request_and_looks_right(tmp_path: Path) -> None:
    path = tmp_path / "drift.html"
    path.write_text(report_html(), encoding="utf-8")
    url = path.as_uri()
    with chromium.Browser() as browser:
        browser.open(url)
        before = browser.evaluate(DNS_JS)
        assert len(before) == 5
        browser.evaluate("document.querySelectorAll('#drift thead th')[3].click()")
        ascending = browser.evaluate(DNS_JS)
        assert ascending == sorted(before, key=str.lower) and ascending != before
        browser.evaluate("document.querySelectorAll('#drift thead th')[3].click()")
        assert browser.evaluate(DNS_JS) == sorted(before, key=str.lower, reverse=True)
        assert (
            browser.evaluate("document.querySelectorAll('#drift thead th')[3].getAttribute('aria-sort')")
            == "descending"
        )
        # the filter box narrows the rows
        browser.evaluate(
            "var f=document.querySelector('input.filter'); f.value='mallory'; f.dispatchEvent(new Event('input'))"
        )
        visible = browser.evaluate(
            "Array.from(document.querySelectorAll('#drift tbody tr')).filter(r => r.style.display !== 'none').length"
        )
        assert visible == 1
        browser.screenshot(tmp_path / "drift.png")
        requested = browser.requested_urls()
        errors = browser.console_errors()
    assert requested == [url], f"the page made network requests: {requested}"
    assert errors == []
    png = (tmp_path / "drift.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 1000 and height >= 400


def test_a_link_can_open_the_report_sorted(tmp_path: Path) -> None:
    path = tmp_path / "drift.html"
    path.write_text(report_html(), encoding="utf-8")
    with chromium.Browser() as browser:
        browser.open(path.as_uri() + "#sort=drift:3")
        dns = browser.evaluate(DNS_JS)
    assert dns == sorted(dns, key=str.lower)
