"""The light paths of import and export leave the very state the full paths leave.

- a confirming import writes an object whose imported values are exactly its export memory with a
  light update (importing/confirm.py); any other object (a value that differs, a change the system
  made besides ours) takes the full path, which flags unconfirmed values;
- an export reads pending objects without attributes and writes only the export columns;
- an import writes the references of new objects without deleting old rows first, and looks up only
  anchors the connector space holds.

Each test runs the same steps twice, once with the light paths switched off (the full paths), and
compares the whole state (every column but the random GUIDs), the references and the files.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engine_lab import Lab, read_csv, write_csv

from reconciler.engine.importing.stage import ImportStage
from reconciler.store.sqlite import SqliteStore

PLAYBOOK = """
version: 1
state: state/state.db
metaverse:
  person:
    employeeId: {type: string}
    displayName: {type: string}
    title: {type: string}
    status: {type: string}
    manager: {type: reference}
  group:
    groupId: {type: string}
    member: {type: reference, multivalued: true}
connectors:
  hr:
    type: csv
    path: hr.csv
    object_type: person
    anchor: employeeId
    references: {manager: employeeId}
  groups:
    type: csv
    path: groups.csv
    object_type: group
    anchor: groupId
    multivalue_separator: ";"
    references: {member: {connector: hr, key: employeeId}}
  dir:
    type: csv
    path: dir.csv
    object_type: user
    anchor: uid
    dn: '"uid=" & [uid] & ",ou=people"'
    references: {manager: uid}
  dirgroups:
    type: csv
    path: dirgroups.csv
    object_type: group
    anchor: cn
    multivalue_separator: ";"
    references: {member: {connector: dir, key: uid}}
sync_rules:
  - {name: In from HR, connector: hr, direction: inbound, cs_type: person, mv_type: person, precedence: 100,
     join: [[{cs: employeeId, mv: employeeId}]], project: true,
     flows: [{mv: employeeId, cs: employeeId}, {mv: displayName, cs: name}, {mv: title, cs: title},
             {mv: status, cs: status}, {mv: manager, cs: manager}]}
  - {name: In from groups, connector: groups, direction: inbound, cs_type: group, mv_type: group,
     precedence: 100, join: [[{cs: groupId, mv: groupId}]], project: true,
     flows: [{mv: groupId, cs: groupId}, {mv: member, cs: member}]}
  - {name: Out to dir, connector: dir, direction: outbound, mv_type: person, cs_type: user, precedence: 100,
     scope: [[{attribute: status, op: NOTEQUAL, value: gone}]], provision: true, deprovision: delete,
     flows: [{cs: uid, mv: employeeId}, {cs: cn, mv: displayName}, {cs: title, mv: title},
             {cs: enabled, expression: 'IIF([status] = "active", True, False)'}, {cs: manager, mv: manager}]}
  - {name: Out to groups, connector: dirgroups, direction: outbound, mv_type: group, cs_type: group,
     precedence: 100, provision: true, flows: [{cs: cn, mv: groupId}, {cs: member, mv: member}]}
"""

# a second outbound rule into dir, for one attribute the first does not write
EXTRA_RULE = """\
  - {name: Out extra, connector: dir, direction: outbound, mv_type: person, cs_type: user, precedence: 200,
     flows: [{cs: note, expression: '"from the extra rule"'}]}
"""

N = 12


def people(changed: bool = False) -> list[dict[str, str]]:
    rows = []
    for i in range(1, N + 1):
        # managers named before they appear: placeholders first, taken over later in the import
        manager = "" if i == N else str(min(i + 1 + i % 3, N))
        status = "gone" if changed and i == 5 else ("active" if i % 4 else "leave")
        name = f"Person {i}" + (" Jr" if changed and i % 3 == 0 else "")
        rows.append({"employeeId": str(i), "name": name, "title": "Clerk", "status": status, "manager": manager})
    return rows


def groups() -> list[dict[str, str]]:
    return [{"groupId": "odd", "member": ";".join(str(i) for i in range(1, N + 1, 2))},
            {"groupId": "all", "member": ";".join(str(i) for i in range(1, N + 1))}]  # fmt: skip


def snapshot(root: Path) -> dict[str, Any]:
    conn = sqlite3.connect(root / "state" / "state.db")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(cs)")]
    cs = [{c: v for c, v in zip(cols, r) if c != "guid"} for r in conn.execute("SELECT * FROM cs ORDER BY id")]
    refs = conn.execute("SELECT src, attr, dst FROM cs_ref ORDER BY rowid").fetchall()
    mv = conn.execute("SELECT id, object_type, attrs, contrib, dirty, retry FROM mv ORDER BY id").fetchall()
    conn.close()
    files = {p.name: p.read_text() for p in sorted(root.glob("*.csv"))}
    return {"cs": cs, "refs": refs, "mv": mv, "files": files}


def slow_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Switch the light paths off: whole objects read and written, as before they existed."""
    monkeypatch.setattr(ImportStage, "_light", lambda self, objs, rows, dups: {})
    monkeypatch.setattr(SqliteStore, "iter_cs_exports", lambda self, c, n: self.iter_cs(c, "pending_export", n))
    monkeypatch.setattr(SqliteStore, "save_cs_export_sent", SqliteStore.save_cs_exported)


def twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, steps: Callable[[Lab], None]) -> tuple[Any, Any]:
    """The snapshots after ``steps`` with the light paths and with the full paths."""
    out = []
    for slow in (False, True):
        root = tmp_path / ("slow" if slow else "fast")
        root.mkdir()
        lab = Lab(root)
        lab.playbook(PLAYBOOK)
        lab.csv("hr.csv", people())
        lab.csv("groups.csv", groups())
        with monkeypatch.context() as m:
            m.setenv("RECONCILER_BATCH_SIZE", "5")  # lookups across batches
            if slow:
                slow_paths(m)
            steps(lab)
        out.append(snapshot(root))
    return out[0], out[1]


def apply(lab: Lab, edit: Callable[[Lab], None] | None = None) -> None:
    """Import, sync and export; ``edit`` the target files; then the confirming import."""
    with lab.engine() as eng:
        eng.import_all()
        eng.synchronize_all()
        eng.export_all()
    if edit is not None:
        edit(lab)
    with lab.engine() as eng:
        eng.import_connector("dir")
        eng.import_connector("dirgroups")


def memory_of(root: Path, connector: str) -> dict[str, Any]:
    conn = sqlite3.connect(root / "state" / "state.db")
    rows = conn.execute("SELECT anchor, export_memory, pending_import FROM cs WHERE connector=?", (connector,))
    out = {a: (json.loads(m) if m else None, p) for a, m, p in rows}
    conn.close()
    return out


def test_a_first_apply_and_its_confirming_import_match_the_full_paths(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    fast, slow = twice(tmp_path, monkeypatch, apply)
    assert fast == slow
    assert all(o["export_memory"] is None and o["pending_import"] is None for o in fast["cs"]
               if o["connector"] in ("dir", "dirgroups"))  # fmt: skip
    # every reference resolved to the real object, none left to a placeholder
    assert not [o for o in fast["cs"] if o["kind"] == 1]
    assert len([r for r in fast["refs"] if r[1] == "manager"]) == 2 * (N - 1)


def test_a_value_that_differs_from_export_memory_is_still_flagged_unconfirmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def edit(lab: Lab) -> None:
        rows = lab.rows("dir.csv")
        next(r for r in rows if r["uid"] == "3")["title"] = "Changed out of band"
        write_csv(lab.root / "dir.csv", rows)

    fast, slow = twice(tmp_path, monkeypatch, lambda lab: apply(lab, edit))
    assert fast == slow
    memory = memory_of(tmp_path / "fast", "dir")
    flagged = {a: m for a, (m, _) in memory.items() if m}
    assert list(flagged) == ["3"]
    assert flagged["3"]["title"]["s"] == "u" and flagged["3"]["title"]["v"] == "Clerk"
    assert set(flagged["3"]) == {"title"}  # the others were confirmed
    # its metaverse object is marked so the next sync stages the value again
    assert any(row[4] for row in fast["mv"])


def test_a_change_besides_the_exported_one_takes_the_full_path(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    def second(lab: Lab) -> None:
        apply(lab)
        lab.csv("hr.csv", people(changed=True))

        def edit(lab: Lab) -> None:  # the system also gained a value nobody exported
            rows = lab.rows("dir.csv")
            for r in rows:
                if r["uid"] == "6":
                    r["title"] = "Set in the directory"
            write_csv(lab.root / "dir.csv", rows)

        apply(lab, edit)

    fast, slow = twice(tmp_path, monkeypatch, second)
    assert fast == slow
    memory = memory_of(tmp_path / "fast", "dir")
    assert memory["6"] == (None, "update")  # the rename of 6 is confirmed, its title change is news
    assert memory["3"] == (None, None)  # confirmed lightly: nothing for synchronization
    assert "5" not in memory  # deprovisioned (deleted from the file and the state)


def test_an_update_export_and_a_deprovision_match_the_full_paths(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    def second(lab: Lab) -> None:
        apply(lab)
        lab.csv("hr.csv", people(changed=True))
        apply(lab)
        apply(lab)  # settles

    fast, slow = twice(tmp_path, monkeypatch, second)
    assert fast == slow
    dir_rows = {r["uid"]: r for r in read_csv(tmp_path / "fast" / "dir.csv")}
    assert "5" not in dir_rows and dir_rows["3"]["cn"] == "Person 3 Jr"


def test_a_failed_export_keeps_the_whole_pending_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = Lab(tmp_path)
    # no anchor flows: every add fails; a second rule gives one attribute, which the pending export names
    # (what only plans show, and what the export must not write back stripped)
    lab.playbook(PLAYBOOK.replace("{cs: uid, mv: employeeId}, ", "") + EXTRA_RULE)
    lab.csv("hr.csv", people())
    lab.csv("groups.csv", groups())
    with lab.engine() as eng:
        eng.import_all()
        eng.synchronize_all()
    db = tmp_path / "state" / "state.db"
    conn = sqlite3.connect(db)
    q = "SELECT id, pending_export, attrs FROM cs WHERE connector='dir' ORDER BY id"
    before = conn.execute(q).fetchall()
    conn.close()
    assert before and all("arule" in pe for _, pe, _ in before)
    with lab.engine() as eng:
        report = eng.export_all()
    assert any(r.errors for r in report.runs)
    conn = sqlite3.connect(db)
    after = conn.execute(q).fetchall()
    states = conn.execute("SELECT export_state, anchor, export_error FROM cs WHERE connector='dir'").fetchall()
    conn.close()
    assert after == before  # pending export (with what only plans show) and attributes as they were
    assert all(s is None and a is None and e for s, a, e in states)


def test_an_import_into_an_empty_space_twice_gives_the_same_state(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Forward references across batches make placeholders that the real objects take over; a rerun of
    the same files into a copy of the state changes nothing."""
    monkeypatch.setenv("RECONCILER_BATCH_SIZE", "3")
    lab = Lab(tmp_path)
    lab.playbook(PLAYBOOK)
    lab.csv("hr.csv", people())
    lab.csv("groups.csv", groups())
    with lab.engine() as eng:
        eng.import_all()
    first = snapshot(tmp_path)
    hr = {o["anchor"]: o for o in first["cs"] if o["connector"] == "hr"}
    assert len(hr) == N and all(o["kind"] == 0 and o["pending_import"] == "add" for o in hr.values())
    by_id = {o["id"]: o for o in first["cs"]}
    managers = {by_id[s]["anchor"]: by_id[d]["anchor"] for s, a, d in first["refs"] if a == "manager"}
    assert managers == {r["employeeId"]: r["manager"] for r in people() if r["manager"]}
    members = [by_id[d]["anchor"] for s, a, d in first["refs"] if a == "member" and by_id[s]["anchor"] == "all"]
    # every member once (the rows are stored in target order; each reader sorts them)
    assert sorted(members, key=int) == [str(i) for i in range(1, N + 1)]
    shutil.copytree(tmp_path / "state", tmp_path / "state0")
    with lab.engine() as eng:
        eng.import_all(full=True)
    again = snapshot(tmp_path)
    assert again["refs"] == first["refs"] and again["cs"] == first["cs"]


def test_an_add_shows_the_flow_of_each_attribute_though_it_stores_only_another_rules(tmp_path: Path) -> None:
    from reconciler.plan.compute import compute_plan

    lab = Lab(tmp_path)
    lab.playbook(PLAYBOOK + EXTRA_RULE)
    lab.csv("hr.csv", people())
    lab.csv("groups.csv", groups())
    with lab.engine() as eng:
        plan = compute_plan(eng.playbook, eng.store, label="playbook.yml")
    add = next(c for c in plan.changes if c.connector == "dir" and c.op == "add")
    flows = {d.name: (d.rule, d.flow) for d in add.attributes}
    assert flows["uid"] == ("Out to dir", "uid <- employeeId")
    assert flows["enabled"] == ("Out to dir", 'enabled <- IIF([status] = "active", True, False)')
    assert flows["note"] == ("Out extra", 'note <- "from the extra rule"')
    with lab.engine() as eng:  # the plan was a dry run: now for real
        eng.import_all()
        eng.synchronize_all()
    conn = sqlite3.connect(tmp_path / "state" / "state.db")
    stored = [json.loads(r[0]) for r in conn.execute("SELECT pending_export FROM cs WHERE connector='dir'")]
    conn.close()
    assert stored and all(pe["arule"] == {"note": ["Out extra", 0]} and "acause" not in pe for pe in stored)


def test_only_a_system_the_rules_write_to_remembers_what_its_import_changed(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    lab.playbook(PLAYBOOK)
    lab.csv("hr.csv", people())
    lab.csv("groups.csv", groups())
    lab.cycle()
    rows = lab.rows("dir.csv")
    rows[0]["cn"] = "Edited by hand"
    lab.csv("dir.csv", rows, list(rows[0]))
    lab.csv("hr.csv", people(changed=True))
    with lab.engine() as eng:
        eng.import_all()
    conn = sqlite3.connect(tmp_path / "state" / "state.db")
    held = dict(conn.execute("SELECT connector || ':' || anchor, pi_attrs FROM cs WHERE pi_attrs IS NOT NULL"))
    (changed_hr,) = conn.execute("SELECT COUNT(*) FROM cs WHERE connector='hr' AND pending_import IS NOT NULL").fetchone()
    conn.close()
    assert changed_hr > 0
    # the edited directory record names its changed attribute (an out-of-band edit, for plans and drift);
    # HR, which the rules only read, changed too but keeps no such list
    assert held == {f"dir:{rows[0]['uid']}": '["cn"]'}
