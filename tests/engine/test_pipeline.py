"""The pipeline end to end on CSV files: import → sync → export → confirming import."""

from __future__ import annotations

from engine_lab import Lab

PLAYBOOK = """
version: 1
state: state/state.db
metaverse:
  person:
    employeeId: {type: string}
    displayName: {type: string}
    title: {type: string}
    manager: {type: reference}
    level: {type: integer}
    active: {type: boolean}
connectors:
  hr:
    type: csv
    path: hr.csv
    object_type: person
    anchor: employeeId
    references: {manager: employeeId}
  dir:
    type: csv
    path: dir.csv
    object_type: person
    anchor: uid
    columns: [uid, cn, title, manager, level, active, mail]
    references: {manager: uid}
    delete_threshold: 2
sync_rules:
  - name: In from HR
    connector: hr
    direction: inbound
    cs_type: person
    mv_type: person
    precedence: 100
    scope:
      - [{attribute: status, op: EQUAL, value: active}]
    join:
      - [{cs: employeeId, mv: employeeId}]
    project: true
    flows:
      - {mv: employeeId, cs: employeeId}
      - {mv: displayName, expression: '[givenName] & " " & [sn]'}
      - {mv: title, cs: title}
      - {mv: manager, cs: manager}
      - {mv: level, cs: level}
      - {mv: active, cs: enabled}
  - name: Out to dir
    connector: dir
    direction: outbound
    mv_type: person
    cs_type: person
    precedence: 100
    provision: true
    deprovision: delete
    flows:
      - {cs: uid, mv: employeeId}
      - {cs: cn, mv: displayName}
      - {cs: title, mv: title}
      - {cs: manager, mv: manager}
      - {cs: level, mv: level}
      - {cs: active, mv: active}
      - {cs: mail, expression: 'LCase([employeeId] & "@example.org")', initial_only: true}
"""


def people(n: int = 4) -> list[dict[str, str]]:
    rows = []
    for i in range(1, n + 1):
        rows.append({
            "employeeId": str(i), "givenName": f"Given{i}", "sn": f"Sn{i}", "title": "Engineer",
            "manager": "" if i == 1 else "1", "status": "active", "level": str(i), "enabled": "TRUE",
        })  # fmt: skip
    return rows


def setup(lab: Lab, n: int = 4) -> None:
    lab.playbook(PLAYBOOK)
    lab.csv("hr.csv", people(n))


def test_first_apply_provisions_everyone_and_the_second_finds_nothing(lab: Lab) -> None:
    setup(lab)
    result = lab.cycle()
    assert result.status == "success"
    rows = {r["uid"]: r for r in lab.rows("dir.csv")}
    assert sorted(rows) == ["1", "2", "3", "4"]
    assert rows["2"]["cn"] == "Given2 Sn2"
    assert rows["2"]["manager"] == "1"  # a reference comes out in the target's own terms
    assert rows["3"]["level"] == "3" and rows["3"]["active"] == "true"  # typed by the metaverse
    assert rows["4"]["mail"] == "4@example.org"
    assert result.unconfirmed == []
    assert lab.plan() == []
    again = lab.cycle()
    assert [r for r in again.runs if r.profile == "export"] == []


def test_a_manager_that_arrives_after_its_reports_is_resolved(lab: Lab) -> None:
    lab.playbook(PLAYBOOK)
    rows = people(3)
    rows[0], rows[2] = rows[2], rows[0]  # the manager (1) is the last row
    lab.csv("hr.csv", rows)
    lab.cycle()
    assert {r["uid"]: r["manager"] for r in lab.rows("dir.csv")} == {"1": "", "2": "1", "3": "1"}


def test_a_plan_shows_references_in_the_targets_terms_read_when_asked(lab: Lab) -> None:
    setup(lab, 3)
    # a plan's dry run is rolled back before it is rendered: the references it shows are read before
    plan = lab.plan()
    assert {c.dn: [(a.name, a.after) for a in c.attributes if a.name == "manager"] for c in plan} == {
        "uid=1": [], "uid=2": [("manager", ["1"])], "uid=3": [("manager", ["1"])]}
    # an apply's run is real: a change reads its batch's reference targets when it is first built, so a
    # plan of 100,000 adds that is only shown and applied never reads them
    with lab.engine() as eng:
        eng.import_all()
        eng.synchronize_all()
        reads: list[int] = []
        views = eng.store.cs_ref_views
        eng.store.cs_ref_views = lambda ids, keys: reads.append(len(ids)) or views(ids, keys)
        changes = eng.planned_changes()
        assert reads == []
        shown = {c.dn: [(a.name, a.after) for a in c.attributes if a.name == "manager"] for c in changes}
        assert reads == [1]  # one batch, one read
    assert shown == {"uid=1": [], "uid=2": [("manager", ["1"])], "uid=3": [("manager", ["1"])]}


def test_a_change_at_the_source_flows_and_initial_only_does_not(lab: Lab) -> None:
    setup(lab)
    lab.cycle()
    rows = people()
    rows[1]["title"] = "Staff Engineer"
    rows[1]["employeeId"] = "2"
    rows[1]["sn"] = "New"
    lab.csv("hr.csv", rows)
    plan = lab.plan()
    assert [(c.op, c.dn) for c in plan] == [("update", "uid=2")]
    deltas = {a.name: (a.before, a.after, a.cause) for a in plan[0].attributes}
    assert deltas == {"cn": ("Given2 Sn2", "Given2 New", "source"),
                      "title": ("Engineer", "Staff Engineer", "source")}  # fmt: skip
    lab.cycle()
    row = next(r for r in lab.rows("dir.csv") if r["uid"] == "2")
    assert row["title"] == "Staff Engineer" and row["mail"] == "2@example.org"


def test_an_out_of_band_change_is_staged_back(lab: Lab) -> None:
    setup(lab)
    lab.cycle()
    rows = lab.rows("dir.csv")
    rows[2]["title"] = "engineer"  # a change of case is a change
    lab.csv("dir.csv", rows)
    plan = lab.plan()
    assert len(plan) == 1 and plan[0].cause == "out-of-band"
    assert [(a.name, a.before, a.after) for a in plan[0].attributes] == [("title", "engineer", "Engineer")]
    lab.cycle()
    assert lab.rows("dir.csv")[2]["title"] == "Engineer"


def test_plan_commits_nothing(lab: Lab) -> None:
    setup(lab)
    with lab.engine() as eng:
        version = eng.store.state_version()
    assert len(lab.plan()) == 4
    with lab.engine() as eng:
        assert eng.store.state_version() == version
        assert eng.store.count_cs(None) == 0
        assert eng.store.history() == []
    assert not (lab.root / "dir.csv").exists()  # a plan never touches a system


def test_out_of_scope_deprovisions_and_the_threshold_stops_everything(lab: Lab) -> None:
    import pytest

    from reconciler.errors import DeletionThresholdError

    setup(lab)
    lab.cycle()
    rows = people()
    for r in rows[1:]:
        r["status"] = "gone"
    lab.csv("hr.csv", rows)
    before = (lab.root / "dir.csv").read_text()
    with pytest.raises(DeletionThresholdError) as info:
        lab.cycle()
    assert "3 deletes in dir (threshold 2)" in info.value.one_line()
    assert info.value.exit_code == 3
    assert (lab.root / "dir.csv").read_text() == before  # nothing written anywhere
    with lab.engine() as eng:
        statuses = [h["status"] for h in eng.store.history("dir")]
    assert statuses[-1] == "stopped-deletion-threshold-exceeded"
    lab.cycle(allow_deletes=3)
    assert [r["uid"] for r in lab.rows("dir.csv")] == ["1"]


def test_a_vanished_target_object_is_provisioned_again(lab: Lab) -> None:
    setup(lab)
    lab.cycle()
    rows = [r for r in lab.rows("dir.csv") if r["uid"] != "3"]
    lab.csv("dir.csv", rows, ["uid", "cn", "title", "manager", "level", "active", "mail"])
    plan = lab.plan()
    assert [(c.op, c.dn, c.cause) for c in plan] == [("add", "uid=3", "missing")]
    lab.cycle()
    assert sorted(r["uid"] for r in lab.rows("dir.csv")) == ["1", "2", "3", "4"]


def test_source_deletion_deletes_the_metaverse_object_and_deprovisions(lab: Lab) -> None:
    setup(lab)
    lab.cycle()
    lab.csv("hr.csv", [r for r in people() if r["employeeId"] != "4"])
    lab.cycle()
    assert sorted(r["uid"] for r in lab.rows("dir.csv")) == ["1", "2", "3"]
    with lab.engine() as eng:
        assert eng.store.count_mv("person") == 3


def test_deleting_a_manager_clears_the_reference(lab: Lab) -> None:
    setup(lab, 3)
    lab.cycle()
    lab.csv("hr.csv", [r for r in people(3) if r["employeeId"] != "1"])
    lab.cycle()
    assert {r["uid"]: r["manager"] for r in lab.rows("dir.csv")} == {"2": "", "3": ""}
    with lab.engine() as eng:  # the reports still name it: it stays as a placeholder
        assert eng.store.count_cs("hr", "placeholder") == 1


def test_per_object_import_errors_do_not_stop_the_run(lab: Lab) -> None:
    setup(lab)
    rows = people()
    rows.append(dict(rows[0]))  # a duplicate anchor
    lab.csv("hr.csv", rows)
    result = lab.cycle()
    hr_import = next(r for r in result.runs if r.connector == "hr" and r.profile.endswith("import"))
    assert hr_import.status == "completed-import-errors"
    assert hr_import.errors == 1 and "duplicate anchor 1" in hr_import.error_list[0].error
    assert len(lab.rows("dir.csv")) == 4
