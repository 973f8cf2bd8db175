"""Runs the golden scenario files of ``tests/scenarios/`` through the real command line.

A scenario is one YAML file (the format is described in ``tests/scenarios/README.md``): a playbook,
the connected systems' files before the first step, a list of steps (CLI verbs, file edits), and the
expected results written by hand. This module loads a scenario, checks that it is well formed, runs its
steps in a temporary folder (in-process through ``click.testing.CliRunner``, or in a subprocess) and
raises ``AssertionError`` with a readable difference at the first expectation that does not hold.

Nothing here knows the engine: only the CLI's arguments, exit codes and the files it writes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SCENARIO_DIR = Path(__file__).parent / "scenarios"
PLAYBOOK_NAME = "playbook.yml"

# verb keys of a step, and the expectation keys any step may carry
STEP_VERBS = (
    "apply", "run", "cycle", "plan", "validate", "history", "cli", "write", "copy", "remove", "playbook",
)  # fmt: skip
STEP_EXPECTATIONS = (
    "expect_exit", "output_contains", "output_not_contains", "plan_contains", "plan_not_contains",
    "files", "absent", "unchanged", "contains", "not_contains", "note",
)  # fmt: skip
SCENARIO_KEYS = ("title", "checks", "playbook", "files", "steps", "expect", "notes", "mutations")
EXPECT_KEYS = ("files", "absent", "contains", "not_contains")
FILE_EXPECT_KEYS = ("content", "ordered", "multivalued", "separator")
MUTATIONS = ("reverse-precedence", "ignore-export-memory")
#: the environment variable the engine reads (tests only) to break itself on purpose
MUTATION_ENV = "RECONCILER_TEST_MUTATION"


class ScenarioFormatError(Exception):
    """A scenario file does not follow the format; the message names the file and the key."""


@dataclass
class Step:
    verb: str
    arg: Any
    expect: dict[str, Any] = field(default_factory=dict)

    def describe(self, index: int) -> str:
        return f"step {index + 1} ({self.verb}: {self.arg!r})"


@dataclass
class Scenario:
    path: Path
    title: str
    checks: str
    playbook: str
    files: dict[str, str]
    steps: list[Step]
    expect: dict[str, Any]
    mutations: list[str]

    @property
    def name(self) -> str:
        return self.path.stem


# ---------------------------------------------------------------- loading and checking the format


def scenario_paths() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.yml"))


def load_scenario(path: Path) -> Scenario:
    """Parse one scenario file and check its structure (not its meaning: that is the engine's)."""

    def bad(msg: str) -> ScenarioFormatError:
        return ScenarioFormatError(f"{path.name}: {msg}")

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise bad(f"not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise bad("a scenario is a mapping")
    unknown = set(data) - set(SCENARIO_KEYS)
    if unknown:
        raise bad(f"unknown keys {sorted(unknown)}; known: {SCENARIO_KEYS}")
    for key in ("title", "checks", "playbook", "steps"):
        if not isinstance(data.get(key), str if key != "steps" else list) or not data[key]:
            raise bad(f"`{key}` is required ({'text' if key != 'steps' else 'a list'})")
    try:
        pb = yaml.safe_load(data["playbook"])
    except yaml.YAMLError as exc:
        raise bad(f"`playbook` is not YAML: {exc}") from exc
    if not isinstance(pb, dict) or pb.get("version") != 1 or "connectors" not in pb:
        raise bad("`playbook` must be a playbook (version: 1, connectors, …)")
    files = data.get("files") or {}
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise bad("`files` maps a file name to its content (text)")
    steps = [_load_step(raw, i, bad) for i, raw in enumerate(data["steps"])]
    expect = data.get("expect") or {}
    if not isinstance(expect, dict) or set(expect) - set(EXPECT_KEYS):
        raise bad(f"`expect` takes only {EXPECT_KEYS}")
    _check_file_expectations(expect, "expect", bad)
    if not any(s.expect.get("files") or s.expect.get("unchanged") for s in steps) and not expect:
        raise bad("a scenario must expect something (expect.files, or files/unchanged on a step)")
    mutations = data.get("mutations") or []
    if not isinstance(mutations, list) or set(mutations) - set(MUTATIONS):
        raise bad(f"`mutations` lists some of {MUTATIONS}")
    return Scenario(
        path, data["title"], data["checks"], data["playbook"], dict(files), steps, expect, list(mutations)
    )


def _load_step(raw: Any, index: int, bad: Callable[[str], ScenarioFormatError]) -> Step:
    where = f"step {index + 1}"
    if isinstance(raw, str):
        raw = {raw: None}
    if not isinstance(raw, dict):
        raise bad(f"{where}: a step is a verb or a mapping with one verb key")
    verbs = [k for k in raw if k in STEP_VERBS]
    other = set(raw) - set(STEP_VERBS) - set(STEP_EXPECTATIONS)
    if len(verbs) != 1 or other:
        raise bad(
            f"{where}: exactly one of {STEP_VERBS} (got {sorted(raw)}); expectations: {STEP_EXPECTATIONS}"
        )
    verb = verbs[0]
    arg = raw[verb]
    expect = {k: v for k, v in raw.items() if k != verb}
    checks: dict[str, Callable[[Any], bool]] = {
        "apply": lambda a: a is None or (isinstance(a, dict) and set(a) <= {"allow_deletes"}),
        "run": lambda a: isinstance(a, list) and len(a) == 2 and all(isinstance(x, str) for x in a),
        "cycle": lambda a: a in ("full", "delta"),
        "plan": lambda a: a is None or (isinstance(a, dict) and set(a) <= {"detailed_exitcode"}),
        "validate": lambda a: a is None,
        "history": lambda a: a is None,
        "cli": lambda a: isinstance(a, list) and all(isinstance(x, str | int) for x in a),
        "write": lambda a: isinstance(a, dict) and all(isinstance(v, str) for v in a.values()),
        "copy": lambda a: isinstance(a, dict) and all(isinstance(v, str) for v in a.values()),
        "remove": lambda a: isinstance(a, list) and all(isinstance(x, str) for x in a),
        "playbook": lambda a: isinstance(a, str),
    }
    if not checks[verb](arg):
        raise bad(f"{where}: malformed `{verb}` argument {arg!r} (see tests/scenarios/README.md)")
    if verb in ("write", "copy", "remove", "playbook") and "expect_exit" in expect:
        raise bad(f"{where}: `{verb}` runs no command; it has no exit code")
    if ("plan_contains" in expect or "plan_not_contains" in expect) and verb != "plan":
        raise bad(f"{where}: plan_contains belongs on a `plan` step")
    _check_file_expectations(expect, where, bad)
    return Step(verb, arg, expect)


def _check_file_expectations(exp: Mapping[str, Any], where: str, bad: Callable[[str], Exception]) -> None:
    for name, spec in (exp.get("files") or {}).items():
        if isinstance(spec, dict):
            if set(spec) - set(FILE_EXPECT_KEYS) or not isinstance(spec.get("content"), str):
                raise bad(
                    f"{where}: files.{name}: a string, or a mapping with `content` and {FILE_EXPECT_KEYS}"
                )
        elif not isinstance(spec, str):
            raise bad(f"{where}: files.{name}: expected content is text")
        if Path(name).suffix not in (".csv", ".json", ".ldif"):
            raise bad(f"{where}: files.{name}: only .csv, .json and .ldif files are compared")
    for key in ("absent", "unchanged"):
        if not isinstance(exp.get(key, []), list):
            raise bad(f"{where}: `{key}` is a list of file names")
    for key in ("contains", "not_contains"):
        value = exp.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
            raise bad(f"{where}: `{key}` maps a file name to a list of strings")


# ---------------------------------------------------------------- running


@dataclass
class Outcome:
    exit_code: int
    output: str  # stdout and stderr together


Invoker = Callable[[list[str], Path, dict[str, str]], Outcome]


def invoke_in_process(args: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
    """The CLI through click's test runner: fast, and a traceback shows up in the output."""
    from click.testing import CliRunner

    from reconciler.cli import cli

    runner = CliRunner()
    with contextlib.chdir(cwd):
        result = runner.invoke(cli, args, env=env, catch_exceptions=True)
    output = result.output
    with contextlib.suppress(ValueError, AttributeError):
        if result.stderr and result.stderr not in output:
            output += result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        output += "".join(traceback.format_exception(result.exception))
    return Outcome(result.exit_code, output)


def invoke_subprocess(args: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
    """The CLI as a user runs it: a separate process (``python -m reconciler``)."""
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Outcome(proc.returncode, proc.stdout + proc.stderr)


def run_scenario(
    scenario: Scenario, workdir: Path, invoke: Invoker = invoke_in_process, mutation: str | None = None
) -> None:
    """Run every step of ``scenario`` in ``workdir``; AssertionError at the first broken expectation."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / PLAYBOOK_NAME).write_text(scenario.playbook, encoding="utf-8")
    for name, content in scenario.files.items():
        _write(workdir / name, content)
    env = {MUTATION_ENV: mutation} if mutation else {}
    for i, step in enumerate(scenario.steps):
        where = f"{scenario.path.name}: {step.describe(i)}"
        before = {n: _read_bytes(workdir / n) for n in step.expect.get("unchanged", [])}
        outcome = _perform(step, workdir, invoke, env)
        if outcome is not None:
            wanted = step.expect.get("expect_exit", 0)
            assert outcome.exit_code == wanted, (
                f"{where}: exit {outcome.exit_code}, expected {wanted}\n--- output ---\n{outcome.output}"
            )
            for text in step.expect.get("output_contains", []):
                assert text.lower() in outcome.output.lower(), (
                    f"{where}: output lacks {text!r}\n--- output ---\n{outcome.output}"
                )
            for text in step.expect.get("output_not_contains", []):
                assert text.lower() not in outcome.output.lower(), (
                    f"{where}: output has {text!r}\n--- output ---\n{outcome.output}"
                )
            if step.verb == "plan":
                _check_plan(where, outcome.output, step.expect)
        for name, old in before.items():
            assert _read_bytes(workdir / name) == old, f"{where}: {name} changed, it should not have"
        check_files(where, workdir, step.expect)
    check_files(f"{scenario.path.name}: after the last step", workdir, scenario.expect)


def _perform(step: Step, workdir: Path, invoke: Invoker, env: dict[str, str]) -> Outcome | None:
    pb = PLAYBOOK_NAME
    arg = step.arg
    if step.verb == "write":
        for name, content in arg.items():
            _write(workdir / name, content)
        return None
    if step.verb == "copy":  # byte for byte: e.g. put back exactly what a system held before
        for src, dst in arg.items():
            (workdir / dst).write_bytes((workdir / src).read_bytes())
        return None
    if step.verb == "remove":
        for name in arg:
            (workdir / name).unlink()
        return None
    if step.verb == "playbook":
        (workdir / pb).write_text(arg, encoding="utf-8")
        return None
    if step.verb == "apply":
        args = ["apply", pb, "--auto-approve"]
        if arg and arg.get("allow_deletes") is not None:
            args += ["--allow-deletes", str(arg["allow_deletes"])]
    elif step.verb == "run":
        args = ["run", pb, *arg]
    elif step.verb == "cycle":
        args = ["run", pb, "--cycle", arg]
    elif step.verb == "plan":
        args = ["plan", pb, "--format", "json"]
        if arg and arg.get("detailed_exitcode"):
            args.append("--detailed-exitcode")
    elif step.verb == "validate":
        args = ["validate", pb]
    elif step.verb == "history":
        args = ["history", pb, "--csv"]
    else:  # cli: any command; PLAYBOOK stands for the scenario's playbook
        args = [pb if str(a) == "PLAYBOOK" else str(a) for a in arg]
    return invoke(args, workdir, env)


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8"))  # bytes: no newline translation, a file is what it says


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------- plan expectations


def _check_plan(where: str, output: str, expect: Mapping[str, Any]) -> None:
    if "plan_contains" not in expect and "plan_not_contains" not in expect:
        return
    start = output.find("{")
    try:
        doc = json.loads(output[start:]) if start >= 0 else None
    except json.JSONDecodeError:
        doc = json.JSONDecoder().raw_decode(output[start:])[0]
    assert isinstance(doc, dict), f"{where}: plan printed no JSON document\n{output}"
    changes = doc.get("changes") or []
    for want in expect.get("plan_contains", []):
        assert any(_subset(want, c) for c in changes), (
            f"{where}: no planned change matches {want}\n--- changes ---\n{json.dumps(changes, indent=1)}"
        )
    for unwanted in expect.get("plan_not_contains", []):
        assert not any(_subset(unwanted, c) for c in changes), f"{where}: a planned change matches {unwanted}"


def _subset(want: Any, have: Any) -> bool:
    """``want`` is contained in ``have``: mapping keys recursively; each listed item matches some item."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and _subset(v, have[k]) for k, v in want.items())
    if isinstance(want, list) and isinstance(have, list):
        return all(any(_subset(w, h) for h in have) for w in want)
    return bool(want == have and type(want) is type(have))


# ---------------------------------------------------------------- file expectations


def check_files(where: str, workdir: Path, expect: Mapping[str, Any]) -> None:
    for name, spec in (expect.get("files") or {}).items():
        spec = spec if isinstance(spec, dict) else {"content": spec}
        path = workdir / name
        assert path.exists(), f"{where}: {name} does not exist"
        actual_text = path.read_text(encoding="utf-8")
        compare = {".csv": _csv_form, ".json": _json_form, ".ldif": _ldif_form}[path.suffix]
        want = compare(spec["content"], spec)
        have = compare(actual_text, spec)
        assert have == want, (
            f"{where}: {name} differs from the expected content\n--- expected ---\n{spec['content']}"
            f"--- actual ---\n{actual_text}"
        )
    for name in expect.get("absent", []):
        assert not (workdir / name).exists(), f"{where}: {name} exists; it should not"
    for name, texts in (expect.get("contains") or {}).items():
        content = (workdir / name).read_text(encoding="utf-8")
        for t in texts:
            assert t in content, f"{where}: {name} lacks {t!r}\n{content}"
    for name, texts in (expect.get("not_contains") or {}).items():
        content = _read_bytes(workdir / name)
        for t in texts:
            assert content is None or t not in content.decode("utf-8"), f"{where}: {name} has {t!r}"


def _csv_form(text: str, spec: Mapping[str, Any]) -> Any:
    """Header and rows, exact in every value; rows in order only when the scenario says ``ordered``."""
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    if not rows:
        return ([], [])
    header, body = rows[0], rows[1:]
    multi = {header.index(c) for c in spec.get("multivalued", []) if c in header}
    sep = spec.get("separator", ";")
    norm = [
        tuple(";".join(sorted(v.split(sep))) if i in multi and v else v for i, v in enumerate(r))
        for r in body
    ]
    return (header, norm if spec.get("ordered") else sorted(norm))


def _json_canon(value: Any) -> Any:
    if isinstance(value, list):
        items = sorted((_json_canon(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        return items[0] if len(items) == 1 else items  # one value of a multi-valued attribute ≡ that value
    return value


def _json_form(text: str, spec: Mapping[str, Any]) -> Any:
    """A JSON array of flat objects; an absent key ≡ null ≡ []; values compared with their JSON type."""
    data = json.loads(text)
    assert isinstance(data, list), "a JSON connector file is an array"
    records = [
        json.dumps({k: _json_canon(v) for k, v in r.items() if v not in (None, [])}, sort_keys=True)
        for r in data
    ]  # dumped: True and 1 must stay different
    return records if spec.get("ordered") else sorted(records)


def _ldif_form(text: str, spec: Mapping[str, Any]) -> Any:
    """LDIF records as (dn, {attribute (lower case): sorted values}); objectClass is not compared,
    since which classes a connector writes besides its object type is the connector's business."""
    import base64

    records: list[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]] = []
    lines: list[str] = []
    for raw in text.splitlines():
        if raw.startswith(" ") and lines:
            lines[-1] += raw[1:]  # RFC 2849 folding
        elif not raw.startswith("#"):
            lines.append(raw)
    current: dict[str, list[str]] | None = None
    dn = ""

    def flush() -> None:
        if current is not None:
            attrs = tuple(sorted((k, tuple(sorted(v))) for k, v in current.items() if k != "objectclass"))
            records.append((dn, attrs))

    for line in [*lines, ""]:
        if not line.strip():
            flush()
            current = None
            continue
        name, _, value = line.partition(":")
        if value.startswith(":"):
            value = base64.b64decode(value[1:].strip()).decode("utf-8")
        else:
            value = value[1:] if value.startswith(" ") else value
        if name.lower() == "version" and current is None:
            continue
        if current is None:
            assert name.lower() == "dn", f"an LDIF record starts with dn:, not {line!r}"
            current, dn = {}, value
            continue
        current.setdefault(name.lower(), []).append(value)
    return records if spec.get("ordered") else sorted(records)
