"""The compiled hot path (reconciler.accel): a compiled module runs only while it matches its source."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler import accel

ROOT = Path(__file__).resolve().parent.parent


def _cython_available() -> bool:
    try:
        import Cython  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
def probe_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    pkg = tmp_path / "accelprobe"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("def answer() -> int:\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield pkg
    for name in [n for n in sys.modules if n.startswith("accelprobe")]:
        del sys.modules[name]


@pytest.mark.skipif(not _cython_available() or not (shutil.which("cc") or shutil.which("gcc")),
                    reason="no Cython or no C compiler (make test installs both)")
def test_a_compiled_module_runs_until_its_source_changes(probe_package: Path) -> None:
    from reconciler.accel.build import build

    built = probe_package.parent / "built"
    assert build(["accelprobe.mod"], root=probe_package, built=built, jobs=1) == ["accelprobe.mod"]
    assert not list(probe_package.glob("*.c")), "the C source stays out of the source tree"
    finder = accel.CompiledFinder(probe_package, built, accel.read_manifest(built))
    sys.meta_path.insert(0, finder)
    try:
        mod = importlib.import_module("accelprobe.mod")
        assert mod.__file__.endswith(accel.SUFFIX) and mod.answer() == 1
        assert finder.loaded == ["accelprobe.mod"]

        # edited after the build: the source runs, never the stale binary
        (probe_package / "mod.py").write_text("def answer() -> int:\n    return 2\n")
        del sys.modules["accelprobe.mod"]
        importlib.invalidate_caches()
        mod = importlib.import_module("accelprobe.mod")
        assert mod.__file__.endswith("mod.py") and mod.answer() == 2
        assert finder.stale == ["accelprobe.mod"]

        # built again: a new file takes the old one's name (a process running the old one keeps its copy)
        binary = built / f"accelprobe.mod{accel.SUFFIX}"
        before = binary.stat().st_ino
        build(["accelprobe.mod"], root=probe_package, built=built, jobs=1)
        assert binary.stat().st_ino != before
        # (a process loads a shared library once: the new one is seen by the next process)
        code = ("import sys; from pathlib import Path; from reconciler import accel\n"
                f"root, built = Path({str(probe_package)!r}), Path({str(built)!r})\n"
                "sys.path.insert(0, str(root.parent)); accel.install(root, built)\n"
                "import accelprobe.mod as m; print(m.__file__.endswith(accel.SUFFIX), m.answer())")  # fmt: skip
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.split() == ["True", "2"]
    finally:
        sys.meta_path.remove(finder)


def test_a_manifest_without_its_binary_serves_nothing(probe_package: Path) -> None:
    built = probe_package.parent / "built"
    built.mkdir()
    manifest = {"modules": {"accelprobe.mod": accel.digest(probe_package / "mod.py")}}
    (built / "manifest.json").write_text(json.dumps(manifest))
    finder = accel.CompiledFinder(probe_package, built, accel.read_manifest(built))
    assert finder.find_spec("accelprobe.mod") is None
    assert finder.find_spec("accelprobe.other") is None  # not in the manifest: not its business


def _loaded_in_child(env: dict[str, str]) -> list[str]:
    code = ("import json, reconciler.engine.core, reconciler.accel as a\n"
            "f = a.active()\n"
            "print(json.dumps(sorted(f.loaded) if f else []))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, **env})  # fmt: skip
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def test_the_engine_runs_its_compiled_modules_unless_told_not_to(request: pytest.FixtureRequest) -> None:
    _, stale, missing = accel.status()
    if not request.config.getoption("--expect-compiled") and (stale or missing):
        pytest.skip("the hot modules are not all compiled here (make test compiles them)")
    assert not stale and not missing, f"make test compiles every hot module: stale {stale}, missing {missing}"
    loaded = _loaded_in_child({"RECONCILER_PURE_PYTHON": ""})
    # the engine's modules that importing it reaches all come compiled
    assert "reconciler.engine.sync.inbound" in loaded and "reconciler.store.sqlite_cs" in loaded
    assert set(loaded) <= set(accel.COMPILED)
    assert _loaded_in_child({"RECONCILER_PURE_PYTHON": "1"}) == []


def test_every_listed_module_exists() -> None:
    for name in accel.COMPILED:
        assert accel.source_of(name).is_file(), name
