"""The plan file (round trip, checksum, version) and the staleness checks, one per cause."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.errors import PlanError, StalePlanError
from reconciler.plan.model import AttributeDelta
from reconciler.plan.planfile import Plan, read_plan, write_plan
from reconciler.plan.render import text
from reconciler.plan.stale import check_objects, check_playbook, check_state

from .samples import mixed


def plan_of(changes, **kw) -> Plan:  # type: ignore[no-untyped-def]
    return Plan.build(changes, playbook="pb.yml", playbook_digest="p" * 64, state_version=7, **kw)


def test_round_trip_renders_exactly_as_planned(tmp_path: Path) -> None:
    plan = plan_of(mixed(), watermarks={"corp": "csn-9", "hr": None}, rule_edits={"Out to corp": ["x"]})
    write_plan(plan, tmp_path / "plan.json")
    again = read_plan(tmp_path / "plan.json")
    assert text.render_plan(again, explain=True) == text.render_plan(plan, explain=True)
    assert again.digests == plan.digests
    assert again.watermarks == {"corp": "csn-9", "hr": None}
    doc = json.loads((tmp_path / "plan.json").read_text())
    assert doc["format_version"] == 1 and doc["state_version"] == 7 and len(doc["checksum"]) == 64


def test_a_plan_file_holds_no_sensitive_value(tmp_path: Path) -> None:
    write_plan(plan_of(mixed()), tmp_path / "plan.json")
    raw = (tmp_path / "plan.json").read_text()
    assert "123-45-6789" not in raw and "(sensitive)" in raw


def test_a_plan_read_back_knows_which_changes_hold_a_sensitive_value(tmp_path: Path) -> None:
    # read with or without details, a change flags itself sensitive exactly when one of its deltas is
    plan = plan_of(mixed())
    write_plan(plan, tmp_path / "plan.json")
    written = [any(d.sensitive for d in c.attributes) for c in plan.changes]
    assert any(written) and not all(written)
    for details in (True, False):
        again = read_plan(tmp_path / "plan.json", details=details)
        assert [getattr(c, "sensitive", None) for c in again.changes] == written


def test_edited_truncated_or_foreign_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_plan(plan_of(mixed()), path)
    doc = json.loads(path.read_text())
    doc["changes"][0]["dn"] = "uid=mallory,ou=people"
    path.write_text(json.dumps(doc))
    with pytest.raises(PlanError, match="fails its checksum"):
        read_plan(path)
    path.write_text(path.read_text()[:100])
    with pytest.raises(PlanError, match="is not JSON"):
        read_plan(path)
    doc["format_version"] = 99
    path.write_text(json.dumps(doc))
    with pytest.raises(PlanError, match="format_version 99"):
        read_plan(path)
    with pytest.raises(PlanError, match="cannot be read"):
        read_plan(tmp_path / "nope.json")
    path.write_text("[]")
    with pytest.raises(PlanError, match="not a reconciler plan file"):
        read_plan(path)


def test_stale_because_the_playbook_changed() -> None:
    with pytest.raises(StalePlanError, match="the playbook changed") as err:
        check_playbook(plan_of(mixed()), "q" * 64, "reconciler plan pb.yml --out plan.json")
    assert err.value.causes == ["playbook"]
    assert "run: reconciler plan pb.yml --out plan.json" in err.value.one_line()
    check_playbook(plan_of(mixed()), "p" * 64, "…")  # same digest: fine


def test_stale_because_the_state_moved_on() -> None:
    with pytest.raises(StalePlanError, match=r"state moved on .*version 7 in the plan, 9 now") as err:
        check_state(plan_of(mixed()), 9, "reconciler plan pb.yml")
    assert err.value.causes == ["state"]
    check_state(plan_of(mixed()), 7, "…")


def test_stale_because_objects_changed_in_their_systems() -> None:
    saved = plan_of(mixed())
    now = mixed()
    now[1].attributes[0] = AttributeDelta("department", before="Legal", after="Marketing")  # edited in corp
    with pytest.raises(
        StalePlanError, match=r"objects changed in their systems since .*: uid=carol,ou=people$"
    ) as e:
        check_objects(saved, plan_of(now), "reconciler plan pb.yml")
    assert e.value.causes == ["objects"]
    # an object that appeared or vanished also makes the plan stale
    with pytest.raises(StalePlanError, match="uid=bob,ou=people"):
        check_objects(saved, plan_of([c for c in mixed() if c.op != "delete"]), "…")
    check_objects(saved, plan_of(list(reversed(mixed()))), "…")  # order does not matter


def test_provisioned_adds_keep_their_digest_across_dry_run_and_apply() -> None:
    a, b = mixed(), mixed()
    b[0].cs_guid, b[0].mv_guid = "other-guid", "other-mv"
    assert plan_of(a).digests == plan_of(b).digests


def test_digests_are_taken_when_asked_and_never_after_the_details_are_released() -> None:
    from reconciler.errors import Bug

    asked = plan_of(mixed())
    expected = list(asked.digests)  # computed now, from the unredacted changes
    assert expected == plan_of(mixed()).digests and len(expected) == len(asked.changes)
    asked.release_details()
    assert all(c.attributes == [] for c in asked.changes)
    assert asked.digests == expected  # taken before the release: still there
    never = plan_of(mixed())
    never.release_details()
    with pytest.raises(Bug):
        _ = never.digests  # an empty list here would make every saved plan look stale or current


def test_a_plan_file_is_read_a_change_per_line_and_every_edit_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    plan = plan_of(mixed())
    write_plan(plan, path)
    lines = path.read_bytes().splitlines()
    assert len(lines) == len(plan.changes) + 2  # the head, one line per change, the tail
    again = read_plan(path)
    assert again.digests == plan.digests
    bare = read_plan(path, details=False)  # what apply reads: identities and digests, no deltas
    assert bare.digests == plan.digests and [c.key for c in bare.changes] == [c.key for c in again.changes]
    assert all(c.attributes == [] for c in bare.changes) and any(c.attributes for c in again.changes)
    assert text.render_plan(again, explain=True, full=True) == text.render_plan(plan, explain=True, full=True)
    # one value changed on one change's line: refused, though the line is still valid JSON
    edited = [line.replace(b'"after":"Marketing"', b'"after":"Sales"') for line in lines]
    assert sum(a != b for a, b in zip(edited, lines)) == 1
    path.write_bytes(b"\n".join(edited) + b"\n")
    with pytest.raises(PlanError, match="fails its checksum"):
        read_plan(path)
    # cut after a few changes: refused as incomplete JSON, never applied in part
    path.write_bytes(b"\n".join(lines[:3]) + b"\n")
    with pytest.raises(PlanError, match="is not JSON"):
        read_plan(path)


def test_a_reformatted_plan_file_reads_the_same_and_an_empty_plan_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_plan(plan_of(mixed()), path)
    path.write_text(json.dumps(json.loads(path.read_text()), indent=2, ensure_ascii=False))  # pretty-printed
    assert read_plan(path).digests == plan_of(mixed()).digests
    # committed from a Windows checkout (line ends made CRLF): the same plan
    write_plan(plan_of(mixed()), path)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert read_plan(path).digests == plan_of(mixed()).digests
    write_plan(plan_of([]), path)
    empty = read_plan(path)
    assert empty.changes == [] and text.render_plan(empty).strip() == "No changes."
