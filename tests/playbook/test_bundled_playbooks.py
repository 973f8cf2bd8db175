"""The demo and the examples shipped in playbooks/ validate clean and carry the schema modeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.playbook import load_playbook, validate_playbook

from .conftest import REPO

PLAYBOOKS = REPO / "playbooks"
EXAMPLES = sorted((PLAYBOOKS / "examples").glob("*.y*ml"))


def test_demo_validates_clean_and_shows_the_features() -> None:
    demo = PLAYBOOKS / "demo"
    report = validate_playbook(demo)
    assert report.valid and not report.diagnostics, [str(d) for d in report.diagnostics]
    pb = load_playbook(demo)
    assert len(pb.files) >= 2  # split over files to show folder merging
    assert all(c.is_file for c in pb.connectors.values())  # no server needed
    for c in pb.connectors.values():
        if any(r.inbound for r in pb.rules_for(c.name)):
            assert c.path_option("path").is_file(), f"the demo ships {c.option('path')}"  # type: ignore[union-attr]
    rules = pb.sync_rules
    assert any(r.scope for r in rules) and any(r.join for r in rules)
    assert any(r.project for r in rules) and any(r.provision for r in rules)
    assert len({r.precedence for r in rules if r.inbound and r.mv_type == "person"}) > 1
    assert any(f.expression for r in rules for f in r.flows)
    assert any(c.dn for c in pb.connectors.values())  # a DN expression
    assert pb.sensitive_attributes()
    assert any(c.references for c in pb.connectors.values())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_validate(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CORP_PASSWORD", "ENTRA_SECRET"):
        monkeypatch.setenv(name, "set-for-the-test")
    report = validate_playbook(path)
    assert report.valid and not report.errors, [str(d) for d in report.diagnostics]
    types = {c.type for c in load_playbook(path).connectors.values()}
    assert {"ldap", "graph"} <= types


@pytest.mark.parametrize(
    "path", [*sorted((PLAYBOOKS / "demo").glob("*.yml")), *EXAMPLES], ids=lambda p: p.name
)
def test_every_playbook_file_names_the_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    schema = (path.parent / first[len(prefix) :]).resolve()
    assert schema == (REPO / "schemas" / "playbook.schema.json").resolve() and schema.is_file()
