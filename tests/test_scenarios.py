"""The golden scenarios: one parametrised test runs every file of ``tests/scenarios/`` through the CLI.

Each scenario states its inputs, its steps and the results expected — written by hand from DESIGN.md
and the architecture seed, never captured from the engine. The teeth test breaks the engine on purpose
(``RECONCILER_TEST_MUTATION``) and checks that the scenarios notice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

# tests/ is on sys.path under pytest (rootdir-relative "prepend" import mode; tests/ is no package)
from scenario_runner import (
    MUTATION_ENV,
    MUTATIONS,
    Scenario,
    _csv_form,
    _json_form,
    _ldif_form,
    check_files,
    invoke_in_process,
    invoke_subprocess,
    load_scenario,
    run_scenario,
    scenario_paths,
)

PATHS = scenario_paths()
IDS = [p.stem for p in PATHS]

# Scenarios that state documented behaviour the engine gets wrong today: expected to fail (strictly, so
# that a fix shows up as XPASS and the entry is removed). Each entry says what is wrong.
KNOWN_ENGINE_BUGS: dict[str, str] = {}  # scenario name -> why the engine fails it (xfail, strict)
assert set(KNOWN_ENGINE_BUGS) <= set(IDS), "KNOWN_ENGINE_BUGS names a scenario that does not exist"
BEHAVIOUR_PARAMS = [
    pytest.param(p, id=p.stem, marks=pytest.mark.xfail(strict=True, reason=KNOWN_ENGINE_BUGS[p.stem]))
    if p.stem in KNOWN_ENGINE_BUGS
    else pytest.param(p, id=p.stem)
    for p in PATHS
]


def _load(path: Path) -> Scenario:
    return load_scenario(path)


# ---------------------------------------------------------------- the files themselves


def test_there_are_enough_scenarios_and_names_are_unique() -> None:
    assert len(PATHS) >= 30
    numbers = [p.name.split("-", 1)[0] for p in PATHS]
    assert all(re.fullmatch(r"\d{2}", n) for n in numbers), "scenario files are named NN-slug.yml"
    assert len(set(numbers)) == len(numbers), "two scenarios share a number"
    for mutation in MUTATIONS:
        assert any(mutation in _load(p).mutations for p in PATHS), f"no scenario is marked for {mutation}"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_scenario_file_is_well_formed(path: Path) -> None:
    scenario = _load(path)
    assert "DESIGN" in scenario.checks or "seed" in scenario.checks, "`checks` quotes DESIGN.md or the seed"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_scenario_playbook_validates(path: Path, tmp_path: Path) -> None:
    scenario = _load(path)
    (tmp_path / "playbook.yml").write_text(scenario.playbook, encoding="utf-8")
    for name, content in scenario.files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    outcome = invoke_in_process(["validate", "playbook.yml"], tmp_path, {})
    assert outcome.exit_code == 0, f"{path.name}: the playbook does not validate:\n{outcome.output}"


# ---------------------------------------------------------------- the behaviour


@pytest.mark.parametrize("path", BEHAVIOUR_PARAMS)
def test_scenario(path: Path, tmp_path: Path) -> None:
    run_scenario(_load(path), tmp_path)


def test_a_scenario_runs_the_same_in_a_real_process(tmp_path: Path) -> None:
    """The in-process runner is a shortcut; the real command line must agree with it."""
    run_scenario(_load(next(p for p in PATHS if "precedence-lowest" in p.name)), tmp_path, invoke_subprocess)


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_scenarios_have_teeth(mutation: str, tmp_path: Path) -> None:
    """With the engine broken on purpose, the scenarios written for that behaviour fail.

    Only the scenarios marked ``mutations: [<mutation>]`` run (twice: intact, then broken), so this
    costs a few scenarios, not the suite. The engine reads ``RECONCILER_TEST_MUTATION`` for tests only.
    A marked scenario that fails even intact proves nothing here (``test_scenario`` reports it), but
    at least one must pass intact, and every one that does must fail broken.
    """
    marked = [s for s in map(_load, PATHS) if mutation in s.mutations]
    intact_failures: list[str] = []
    for scenario in marked:
        try:
            run_scenario(scenario, tmp_path / scenario.name / "intact")
        except AssertionError as exc:
            intact_failures.append(f"{scenario.name}: {str(exc).splitlines()[0]}")
            continue
        try:
            run_scenario(scenario, tmp_path / scenario.name / "broken", mutation=mutation)
        except AssertionError:
            continue
        pytest.fail(
            f"{scenario.name} still passes with {MUTATION_ENV}={mutation}: either the engine does not "
            "read the variable, or the scenario does not check what it claims"
        )
    assert len(intact_failures) < len(marked), (
        f"no scenario marked for {mutation} passes with the engine intact:\n" + "\n".join(intact_failures)
    )


# ---------------------------------------------------------------- the comparisons the runner makes


def test_csv_comparison_is_exact_in_values_and_loose_in_row_order() -> None:
    a = "id,name\n1,Ada\n2,Alan\n"
    assert _csv_form(a, {}) == _csv_form("id,name\r\n2,Alan\r\n1,Ada\r\n", {})
    assert _csv_form(a, {"ordered": True}) != _csv_form("id,name\n2,Alan\n1,Ada\n", {"ordered": True})
    assert _csv_form(a, {}) != _csv_form("id,name\n1,ada\n2,Alan\n", {}), "case matters"
    assert _csv_form(a, {}) != _csv_form("name,id\nAda,1\nAlan,2\n", {}), "the header matters"
    assert _csv_form("id,m\n1,a;b\n", {"multivalued": ["m"]}) == _csv_form(
        "id,m\n1,b;a\n", {"multivalued": ["m"]}
    )


def test_json_comparison_keeps_types() -> None:
    assert _json_form('[{"id": 1, "on": true}]', {}) != _json_form('[{"id": "1", "on": true}]', {})
    assert _json_form('[{"id": 1, "on": true}]', {}) != _json_form('[{"id": 1, "on": "true"}]', {})
    assert _json_form('[{"id": 1, "x": null}]', {}) == _json_form('[{"id": 1}]', {})


def test_ldif_comparison_unfolds_and_decodes() -> None:
    plain = "dn: uid=ada,ou=people\nobjectClass: person\ncn: Ada Lovelace\n"
    folded = "version: 1\n\ndn: uid=ada,ou=peo\n ple\ncn:: QWRhIExvdmVsYWNl\n"
    assert _ldif_form(plain, {}) == _ldif_form(folded, {})
    assert _ldif_form(plain, {}) != _ldif_form(plain.replace("Ada L", "ada L"), {})


def test_a_wrong_file_fails_the_check(tmp_path: Path) -> None:
    """The runner must not be able to pass a file that differs from the expectation."""
    (tmp_path / "out.csv").write_text("id,name\n1,Ada\n", encoding="utf-8")
    check_files("self-test", tmp_path, {"files": {"out.csv": "id,name\n1,Ada\n"}})
    for wrong in ("id,name\n1,ADA\n", "id,name\n1,Ada\n2,Alan\n", "id\n1\n"):
        with pytest.raises(AssertionError):
            check_files("self-test", tmp_path, {"files": {"out.csv": wrong}})
    with pytest.raises(AssertionError):
        check_files("self-test", tmp_path, {"absent": ["out.csv"]})


@pytest.fixture(autouse=True)
def _no_mutation_leaks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MUTATION_ENV, raising=False)
