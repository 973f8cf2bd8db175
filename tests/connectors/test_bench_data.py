"""The benchmark's generated data: deterministic, a manager tree, groups naming people, and it imports cleanly."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

from reconciler.connectors.registry import open_connector
from reconciler.playbook import load_playbook

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _generate_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generation_is_deterministic_and_forms_a_tree(tmp_path: Path) -> None:
    generate = _generate_module().generate
    a = generate(2000, tmp_path / "a")
    b = generate(2000, tmp_path / "b")
    assert all(a[k].read_bytes() == b[k].read_bytes() for k in a)
    assert generate(2000, tmp_path / "c", seed=7)["hr"].read_bytes() != a["hr"].read_bytes()


def test_the_bench_playbook_validates_and_its_files_import_without_errors(tmp_path: Path) -> None:
    shutil.copytree(BENCH / "playbook", tmp_path / "pb")
    _generate_module().generate(3000, tmp_path / "pb" / "data")
    playbook = load_playbook(tmp_path / "pb")
    with open_connector(playbook.connectors["hr"]) as hr:
        people = {o.anchor: o for o in hr.full_import().objects}
    assert len(people) == 3000 and not any(o.error for o in people.values())
    roots = [o for o in people.values() if "manager" not in o.attributes]
    assert len(roots) == 1
    for obj in people.values():  # every chain of managers ends at the root: no cycle, no dangling id
        seen, current = set(), obj
        while "manager" in current.attributes:
            assert current.anchor not in seen
            seen.add(current.anchor)
            current = people[current.attributes["manager"]]
        assert current is roots[0]
    with open_connector(playbook.connectors["hr_groups"]) as groups:
        objs = list(groups.full_import().objects)
    assert len(objs) == 30 and not any(o.error for o in objs)
    members = [m for o in objs for m in o.attributes["member"]]
    assert set(members) <= set(people) and len(members) > 2 * 3000 * 0.9
    assert not (tmp_path / "pb" / "out").exists()  # imports never create the target files
